using Warden.Consensus.Tests.Simulation;

namespace Warden.Consensus.Tests;

/// <summary>
/// How fast the ensemble recovers from a dead leader, with and without the host reporting the broken connections. A
/// host that reports them lets followers go looking at once, as Apache's learners do when their read fails.
/// </summary>
public sealed class FailoverTests
{
    private static long TicksToNewLeaderAfterCrash(bool reportDisconnects)
    {
        var sim = new Simulator(1, new SimConfig { Voters = 3, SafetyTicks = 0, SyncLimitTicks = 5, ReportDisconnects = reportDisconnects });
        Assert.True(sim.RunUntil(() => sim.EstablishedLeader() is not null && sim.Converged(), 200), "no stable leader");
        var old = sim.EstablishedLeader()!;
        sim.Propose();
        Assert.True(sim.RunUntil(sim.Converged, 50));
        sim.Crash(old);
        long crashedAt = sim.Ticks;
        Assert.True(sim.RunUntil(() => sim.EstablishedLeader() is { } leader && leader != old && leader.Peer!.IsServing, 100), "no new leader");
        return sim.Ticks - crashedAt;
    }

    [Fact]
    public void Reported_disconnects_elect_a_new_leader_well_inside_sync_limit()
    {
        // Election, discovery and sync take a few message delays (up to half a tick each here); syncLimit is 5 ticks.
        long ticks = TicksToNewLeaderAfterCrash(reportDisconnects: true);
        Assert.True(ticks <= 3, $"took {ticks} ticks with disconnects reported");
    }

    [Fact]
    public void Without_reported_disconnects_followers_wait_out_sync_limit()
    {
        long ticks = TicksToNewLeaderAfterCrash(reportDisconnects: false);
        Assert.True(ticks > 5, $"took only {ticks} ticks without disconnects reported");
    }

    [Fact]
    public void Reported_disconnect_of_a_follower_leaves_a_leader_with_quorum_in_place()
    {
        var sim = new Simulator(1, new SimConfig { Voters = 3, SafetyTicks = 0, ReportDisconnects = true });
        Assert.True(sim.RunUntil(() => sim.EstablishedLeader() is not null && sim.Converged(), 200), "no stable leader");
        var leader = sim.EstablishedLeader()!;
        var follower = sim.Nodes.First(n => n != leader);
        sim.Crash(follower);
        sim.RunTicks(3);
        Assert.Same(leader, sim.EstablishedLeader());
        long epoch = leader.Peer!.CurrentEpoch;
        sim.Propose();
        Assert.True(sim.RunUntil(sim.Converged, 50));
        Assert.Equal(epoch, leader.Peer!.CurrentEpoch);
    }
}
