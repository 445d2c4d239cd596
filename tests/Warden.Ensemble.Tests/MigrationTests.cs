using System.Diagnostics;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// Mixed ensembles of Apache ZooKeeper 3.8 (QuorumPeerMain) and Warden on the same zoo.cfg format, speaking each
/// other's election and quorum protocols, under kazoo writers through the whole host list: the leader is killed
/// (kill -9) and restarted on its own data, and at the end every acknowledged write is on every member, the trees
/// read through clients are equal, and the members' data directories hold the same tree (`warden snapshot dump`).
/// Always Apache and Warden together, whatever WARDEN_ENSEMBLE_SUBJECT says.
/// </summary>
public sealed class MigrationTests(ITestOutputHelper output)
{
    private const int WriterCount = 2;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Two Apache servers form the ensemble and a Warden server joins it as a follower; then the (Apache) leader is
    /// killed twice under writes, the second time whatever kind leads by then.
    /// </summary>
    [Fact]
    public async Task AWardenFollowerOfTwoApacheServersLosesNothingWhenTheLeaderIsKilled()
    {
        // The Warden server has the highest id, so that it wins the election after the kill whenever the surviving
        // Apache server's history is no longer than its own.
        await using var ensemble = EnsembleProcess.Create([ServerKind.Apache, ServerKind.Apache, ServerKind.Warden], Subject.TickTimeMs);
        var leader = await StartInOrderAsync(ensemble, first: [1, 2], then: 3);
        Assert.Equal(ServerKind.Apache, leader.Kind);
        Assert.Equal(MemberMode.Follower, await ensemble[3].ModeAsync(TimeSpan.FromSeconds(5)));
        await KillTheLeaderUnderWritersAsync(ensemble, leader, rounds: 2);
    }

    /// <summary>
    /// Two Warden servers form the ensemble, one of them leading, and an Apache server joins it as a follower; then
    /// the (Warden) leader is killed twice under writes, the second time whatever kind leads by then.
    /// </summary>
    [Fact]
    public async Task AnApacheFollowerOfTwoWardenServersLosesNothingWhenTheWardenLeaderIsKilled()
    {
        // The Apache server has the highest id, so that it wins the election after the kill whenever the surviving
        // Warden server's history is no longer than its own: an election that a Warden server runs and Apache wins.
        await using var ensemble = EnsembleProcess.Create([ServerKind.Warden, ServerKind.Warden, ServerKind.Apache], Subject.TickTimeMs);
        var leader = await StartInOrderAsync(ensemble, first: [1, 2], then: 3);
        Assert.Equal(ServerKind.Warden, leader.Kind);
        Assert.Equal(MemberMode.Follower, await ensemble[3].ModeAsync(TimeSpan.FromSeconds(5)));
        await KillTheLeaderUnderWritersAsync(ensemble, leader, rounds: 2);
    }

    /// <summary>
    /// Observers of both kinds: Apache voters 1 and 2 and Warden voter 3, with a Warden observer 4 and an Apache observer
    /// 5. Apache server 2 leads first; once it is killed, Warden server 3 (the highest id) wins the election whenever its
    /// history is no shorter than server 1's, so each observer takes INFORMs from a leader of each kind.
    /// </summary>
    [Fact]
    public async Task ObserversOfEitherKindKeepUpWithALeaderOfEitherKind()
    {
        await using var ensemble = EnsembleProcess.Create(
            [ServerKind.Apache, ServerKind.Apache, ServerKind.Warden, ServerKind.Warden, ServerKind.Apache], Subject.TickTimeMs,
            observerIds: [4, 5]);
        var leader = await StartInOrderAsync(ensemble, first: [1, 2], then: 3);
        Assert.Equal(ServerKind.Apache, leader.Kind);
        foreach (var id in new[] { 4, 5 }) ensemble[id].Start();
        foreach (var id in new[] { 4, 5 }) await ensemble.WaitForModeAsync(ensemble[id], MemberMode.Observer, Bound);
        Assert.Equal(leader, await ensemble.WaitForQuorumAsync(Bound));
        await KillTheLeaderUnderWritersAsync(ensemble, leader, rounds: 1);
    }

    /// <summary>
    /// Starts the members named by <paramref name="first"/>, waits for them to form a quorum, then starts the last one
    /// and waits for it to follow; returns the leader.
    /// </summary>
    private static async Task<EnsembleMember> StartInOrderAsync(EnsembleProcess ensemble, int[] first, int then)
    {
        foreach (var id in first) ensemble[id].Start();
        var leader = await ensemble.WaitForQuorumAsync(Bound);
        ensemble[then].Start();
        await ensemble.WaitForModeAsync(ensemble[then], MemberMode.Follower, Bound);
        Assert.Equal(leader, await ensemble.WaitForQuorumAsync(Bound));
        return leader;
    }

    private async Task KillTheLeaderUnderWritersAsync(EnsembleProcess ensemble, EnsembleMember leader, int rounds)
    {
        var writers = new List<KazooWriter>();
        try
        {
            for (var index = 0; index < WriterCount; index++)
            {
                writers.Add(await KazooWriter.StartAsync(ensemble.ConnectString, $"/mixed{index}"));
            }
            await Migration.EveryWriterProgressesAsync(writers, ensemble);
            for (var round = 1; round <= rounds; round++)
            {
                var killed = leader;
                var stopwatch = Stopwatch.StartNew();
                killed.Kill();
                var successor = await ensemble.WaitForQuorumAsync(Bound);
                var electedAfter = stopwatch.Elapsed;
                Assert.NotEqual(killed.Id, successor.Id);
                await Migration.EveryWriterProgressesAsync(writers, ensemble);
                killed.Start();
                await ensemble.WaitForModeAsync(killed, MemberMode.Follower, Bound);
                leader = await ensemble.WaitForQuorumAsync(Bound);
                await Migration.EveryWriterProgressesAsync(writers, ensemble);
                output.WriteLine($"round {round}: killed leader server.{killed.Id} ({killed.Kind}); server.{successor.Id} ({successor.Kind}) " +
                                 $"led within {electedAfter.TotalMilliseconds:0} ms; server.{killed.Id} rejoined as a follower; " +
                                 $"{writers.Sum(w => w.AcknowledgedCount)} creates acknowledged");
            }
            foreach (var writer in writers) await writer.StopAsync();
            await Convergence.AssertAcknowledgedWritesOnEveryMemberAsync(ensemble,
                writers.Select(w => (w.Parent, w.Acknowledged, w.ConnectionLosses)).ToList(), output);
            await Convergence.AssertSameTreeOnEveryMemberAsync(ensemble, output);
        }
        finally
        {
            foreach (var writer in writers) await writer.DisposeAsync();
        }
        await Migration.AssertSameSnapshotDumpOnEveryMemberAsync(ensemble, output);
    }
}
