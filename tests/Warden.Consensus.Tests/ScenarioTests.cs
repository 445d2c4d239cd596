using System.Text;
using Warden.Consensus.Tests.Simulation;
using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus.Tests;

/// <summary>
/// Scripted runs of the simulator with random faults off: each one sets up a situation that ZAB must handle in a
/// particular way, and checks that it does. The safety checkers run after every step here too.
/// </summary>
public sealed class ScenarioTests
{
    private static Simulator Quiet(int voters, int retained = 500) =>
        new(1, new SimConfig { Voters = voters, SafetyTicks = 0, RetainedCommittedTxns = retained });

    private static SimNode StableLeader(Simulator sim)
    {
        Assert.True(sim.RunUntil(() => sim.EstablishedLeader() is not null && sim.Converged(), 200), "no stable leader");
        return sim.EstablishedLeader()!;
    }

    private static void CommitSome(Simulator sim, int count, bool everywhere = true)
    {
        int target = sim.Checker.HistoryLength + count;
        for (int i = 0; i < count; i++) sim.Propose();
        Assert.True(sim.RunUntil(() => sim.Checker.HistoryLength >= target && (!everywhere || sim.Converged()), 100), "proposals did not commit");
    }

    private static bool Holds(SimNode node, Zxid zxid, string data) =>
        node.State!.Applied.Any(t => t.Zxid == zxid && Encoding.UTF8.GetString(t.Data) == data);

    private static void Isolate(Simulator sim, SimNode node)
    {
        foreach (var other in sim.Nodes.Where(n => n != node))
        {
            sim.Network.Block(node.Id, other.Id);
            sim.Network.Block(other.Id, node.Id);
        }
    }

    [Fact]
    public void Proposal_acked_by_a_minority_survives_the_leaders_death_when_its_holder_is_elected()
    {
        var sim = Quiet(5);
        var leader = StableLeader(sim);
        CommitSome(sim, 3);
        var holder = sim.Nodes.First(n => n != leader);
        foreach (var other in sim.Nodes.Where(n => n != leader && n != holder)) sim.Network.Block(leader.Id, other.Id);
        var (_, zxid, data) = Assert.Single(sim.Propose());
        Assert.True(sim.RunUntil(() => holder.Peer!.LastLoggedZxid == zxid, 20));
        Assert.True(leader.Peer!.CommittedZxid < zxid, "two of five acks must not commit");
        sim.Crash(leader);
        sim.Crash(sim.Nodes.Last(n => n != leader && n != holder));
        sim.Network.HealAll();

        // Three of five are up, so every quorum includes the holder. It has the newest history and never votes for
        // a worse one, so election must pick it, and its history, orphan included, commits with the new epoch.
        var next = StableLeader(sim);
        Assert.Equal(holder, next);
        Assert.All(sim.Nodes.Where(n => n.IsUp), n => Assert.True(Holds(n, zxid, Encoding.UTF8.GetString(data))));
        CommitSome(sim, 2);
    }

    [Fact]
    public void Proposal_acked_by_a_minority_is_dropped_everywhere_when_its_holder_is_gone_too()
    {
        var sim = Quiet(5);
        var leader = StableLeader(sim);
        var holder = sim.Nodes.First(n => n != leader);
        foreach (var other in sim.Nodes.Where(n => n != leader && n != holder)) sim.Network.Block(leader.Id, other.Id);
        var (_, zxid, _) = Assert.Single(sim.Propose());
        Assert.True(sim.RunUntil(() => holder.Peer!.LastLoggedZxid == zxid, 20));
        sim.Crash(leader);
        sim.Crash(holder);
        sim.Network.HealAll();
        StableLeader(sim);
        CommitSome(sim, 2);

        // When the holder comes back it must give the orphan up: one history, and the orphan is not in it.
        sim.Restart(holder);
        Assert.True(sim.RunUntil(sim.Converged, 100));
        Assert.All(sim.Nodes.Where(n => n.IsUp), n => Assert.DoesNotContain(n.State!.Applied, t => t.Zxid == zxid));
        Assert.DoesNotContain(holder.Peer!.LoggedTxns, t => t.Zxid == zxid);
    }

    [Fact]
    public void Follower_with_an_uncommitted_tail_is_truncated()
    {
        var sim = Quiet(3);
        var old = StableLeader(sim);
        CommitSome(sim, 2);
        Isolate(sim, old);
        var orphans = sim.Propose().Concat(sim.Propose()).Select(p => p.Zxid).ToList();
        Assert.Equal(2, orphans.Count);
        Assert.True(sim.RunUntil(() => sim.EstablishedLeader() is { } l && l != old, 100), "the majority did not elect a new leader");
        Assert.NotEqual(PeerState.Leading, old.Peer!.State);
        CommitSome(sim, 1, everywhere: false);

        // The orphans are of the old epoch and the new leader's next txn is of the new one: Apache never sends TRUNC
        // across an epoch boundary, so the old leader gets a SNAP.
        var openings = new List<QuorumPacket>();
        sim.OnDeliver = e =>
        {
            if (e.To == old.Id && e.Message is PacketMessage { Packet.Type: PacketType.Trunc or PacketType.Snap or PacketType.Diff } p) openings.Add(p.Packet);
        };
        sim.Network.HealAll();
        Assert.True(sim.RunUntil(sim.Converged, 100));
        Assert.Equal(PacketType.Snap, Assert.Single(openings).Type);
        Assert.All(orphans, z => Assert.DoesNotContain(old.Peer.LoggedTxns, t => t.Zxid == z));
        Assert.Equal(sim.EstablishedLeader()!.State!.Applied.Select(t => t.Zxid), old.State!.Applied.Select(t => t.Zxid));
    }

    [Fact]
    public void Follower_that_lost_its_commits_with_a_broken_connection_learns_them_on_reconnect()
    {
        var sim = Quiet(3);
        var leader = StableLeader(sim);
        var follower = sim.Nodes.First(n => n != leader);
        // The follower logs and acks the txn, but the COMMIT is lost with its connection, so it holds the txn
        // without knowing it committed. The leader keeps its quorum through the third server.
        sim.LoseOnArrival = e => e.To == follower.Id && e.Message is PacketMessage { Packet.Type: PacketType.Commit };
        var (_, zxid, _) = Assert.Single(sim.Propose());
        Assert.True(sim.RunUntil(() => leader.Peer!.CommittedZxid == zxid, 20));
        Assert.True(follower.Peer!.CommittedZxid < zxid);
        Assert.Equal(zxid, follower.Peer.LastLoggedZxid);
        sim.LoseOnArrival = null;
        // No new proposals: the resync alone must tell it.
        int epoch = leader.Peer!.CurrentEpoch;
        Assert.True(sim.RunUntil(() => follower.Peer!.CommittedZxid == zxid, 60));
        Assert.Equal(zxid, follower.State!.LastApplied);
        // Same leader, same epoch: it was the resync that told the follower, not a new epoch's initial history.
        Assert.Equal(leader, sim.EstablishedLeader());
        Assert.Equal(epoch, leader.Peer!.CurrentEpoch);
    }

    [Fact]
    public void Peer_that_restarts_with_an_older_accepted_epoch_accepts_the_new_one_and_catches_up()
    {
        var sim = Quiet(3);
        var first = StableLeader(sim);
        CommitSome(sim, 2);
        var sleeper = sim.Nodes.First(n => n != first);
        int sleeperEpoch = sleeper.Peer!.AcceptedEpoch;
        sim.Crash(sleeper);
        // Two epoch changes without the sleeper: split the other two until the leader steps down, then heal.
        for (int round = 0; round < 2; round++)
        {
            var leader = StableLeader(sim);
            var partner = sim.Nodes.First(n => n.IsUp && n != leader);
            sim.Network.Block(leader.Id, partner.Id);
            sim.Network.Block(partner.Id, leader.Id);
            Assert.True(sim.RunUntil(() => sim.EstablishedLeader() is null, 50));
            sim.Network.HealAll();
            StableLeader(sim);
            CommitSome(sim, 1);
        }
        int currentEpoch = sim.EstablishedLeader()!.Peer!.CurrentEpoch;
        Assert.True(currentEpoch >= sleeperEpoch + 2);

        var ackEpochs = new List<int>();
        sim.OnDeliver = e => { if (e.From == sleeper.Id && e.Message is PacketMessage { Packet.Type: PacketType.AckEpoch } p) ackEpochs.Add(p.Packet.ReadIntPayload()); };
        sim.Restart(sleeper);
        Assert.Equal(sleeperEpoch, sleeper.Peer!.AcceptedEpoch);
        Assert.True(sim.RunUntil(sim.Converged, 100));
        Assert.Equal(currentEpoch, sleeper.Peer!.AcceptedEpoch);
        Assert.Equal(currentEpoch, sleeper.Peer.CurrentEpoch);
        Assert.Contains(sleeperEpoch, ackEpochs);
        Assert.Equal(sim.EstablishedLeader()!.State!.Applied.Count, sleeper.State!.Applied.Count);
    }

    [Fact]
    public void Learner_behind_the_leaders_retained_log_is_brought_up_by_snap()
    {
        var sim = Quiet(3, retained: 5);
        var leader = StableLeader(sim);
        var behind = sim.Nodes.First(n => n != leader);
        sim.Crash(behind);
        for (int i = 0; i < 6; i++) CommitSome(sim, 5);

        var modes = new List<PacketType>();
        sim.OnDeliver = e =>
        {
            if (e.To == behind.Id && e.Message is PacketMessage { Packet.Type: PacketType.Snap or PacketType.Diff or PacketType.Trunc } p)
            {
                modes.Add(p.Packet.Type);
            }
        };
        sim.Restart(behind);
        Assert.True(sim.RunUntil(sim.Converged, 100));
        Assert.Equal([PacketType.Snap], modes);
        Assert.Equal(sim.EstablishedLeader()!.State!.Applied, behind.State!.Applied, new TxnComparer());
        Assert.True(behind.State.Applied.Count >= 30);
        CommitSome(sim, 2);
    }

    [Fact]
    public void Observer_learns_every_commit_but_its_silence_does_not_stop_commits()
    {
        var sim = new Simulator(3, new SimConfig { Voters = 3, Observers = 1, SafetyTicks = 0 });
        StableLeader(sim);
        var observer = sim.Node(4);
        Assert.Equal(PeerState.Observing, observer.Peer!.State);
        CommitSome(sim, 3);
        Assert.Equal(sim.EstablishedLeader()!.State!.Applied.Count, observer.State!.Applied.Count);
        // A voter down and the observer cut off: two voters of three still commit.
        sim.Crash(sim.Nodes.First(n => n.IsVoter && n.Peer is { IsEstablishedLeader: false }));
        Isolate(sim, observer);
        int before = sim.Checker.HistoryLength;
        sim.Propose();
        Assert.True(sim.RunUntil(() => sim.Checker.HistoryLength > before, 20));
    }

    private sealed class TxnComparer : IEqualityComparer<Txn>
    {
        public bool Equals(Txn? x, Txn? y) => x!.Zxid == y!.Zxid && x.Data.AsSpan().SequenceEqual(y.Data);
        public int GetHashCode(Txn obj) => obj.Zxid.GetHashCode();
    }
}
