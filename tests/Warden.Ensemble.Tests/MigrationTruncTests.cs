using System.Diagnostics;
using Warden.Client;
using Warden.Storage;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// TRUNC both ways between Apache ZooKeeper 3.8 and Warden: a leader logs a txn that no follower has, dies, and comes
/// back as a follower of a leader of the other kind, which must cut that txn from its log; the txn is never seen on
/// any member, and everything acknowledged before it is on every member.
/// </summary>
public sealed class MigrationTruncTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    // A session that outlives the rounds: its expiry would be a txn of the new epoch, and a learner whose extra txn is
    // of an older epoch than the leader's newest gets SNAP, never TRUNC.
    private static readonly Dictionary<string, string> LongSessions = new() { ["maxSessionTimeout"] = "120000" };

    [Fact]
    public async Task AStaleLeaderIsTruncatedByANewLeaderOfTheOtherKindBothWays()
    {
        await using var ensemble = await EnsembleProcess.StartAsync(
            [ServerKind.Apache, ServerKind.Warden, ServerKind.Apache], Subject.TickTimeMs, LongSessions, Bound);
        var kinds = new HashSet<(ServerKind Stale, ServerKind Leader)>();
        for (var round = 1; round <= 2; round++)
        {
            kinds.Add(await TruncateAStaleLeaderAsync(ensemble, round));
        }
        Assert.Equal([(ServerKind.Apache, ServerKind.Warden), (ServerKind.Warden, ServerKind.Apache)], kinds.Order().ToArray());
    }

    /// <summary>
    /// With leader L, a follower W of the other kind and the third member U: U is killed; txn 1 commits on L and W; W is
    /// paused and L logs txn 2 alone; W (with its unread copy of txn 2) and L are killed. U and W restart and W, holding
    /// txn 1, is elected; then L restarts and must be truncated to txn 1.
    /// </summary>
    private async Task<(ServerKind Stale, ServerKind Leader)> TruncateAStaleLeaderAsync(EnsembleProcess ensemble, int round)
    {
        var stale = await ensemble.WaitForQuorumAsync(Bound);
        var wanted = ensemble.Members.First(m => m != stale && m.Kind != stale.Kind);
        var other = ensemble.Members.Single(m => m != stale && m != wanted);
        string committed = $"/committed-{round}", uncommitted = $"/uncommitted-{round}";

        other.Kill();
        var client = await Clients.ConnectAsync(stale.ConnectString, TimeSpan.FromSeconds(120));
        try
        {
            using (var timeout = new CancellationTokenSource(Clients.StepTimeout))
            {
                await client.CreateAsync(committed, [1], cancellationToken: timeout.Token);
            }
            wanted.Pause();
            // Never acknowledged: only the leader can log it before it is killed.
            var lost = client.CreateAsync(uncommitted, [2]);
            await WaitUntilLoggedAsync(stale, uncommitted);
            wanted.Kill();
            stale.Kill();
            await Assert.ThrowsAnyAsync<Exception>(() => lost.WaitAsync(Clients.StepTimeout));
        }
        finally
        {
            await client.DisposeAsync();
        }

        wanted.Start();
        other.Start();
        var leader = await ensemble.WaitForQuorumAsync(Bound);
        Assert.Equal(wanted, leader);
        stale.Start();
        await ensemble.WaitForModeAsync(stale, MemberMode.Follower, Bound);
        Assert.Equal(leader, await ensemble.WaitForQuorumAsync(Bound));
        // Both kinds of learner log the TRUNC they take (Apache's leader logs the one it sends only at debug level).
        await stale.WaitForOutputOfThisRunAsync(
            stale.Kind == ServerKind.Apache ? "Truncating log to get in sync with the leader" : "Truncated the txn log after zxid",
            TimeSpan.FromSeconds(10));

        foreach (var member in ensemble.Members)
        {
            await using var reader = await Clients.ConnectAsync(member);
            using var timeout = new CancellationTokenSource(Clients.StepTimeout);
            await reader.SyncAsync("/", timeout.Token);
            Assert.True(await reader.ExistsAsync(committed, timeout.Token) is not null, $"server.{member.Id} lacks the acknowledged {committed}");
            Assert.True(await reader.ExistsAsync(uncommitted, timeout.Token) is null, $"server.{member.Id} holds {uncommitted}, which was never acknowledged");
        }
        output.WriteLine($"round {round}: stale leader server.{stale.Id} ({stale.Kind}) truncated by leader server.{leader.Id} ({leader.Kind}); " +
                         $"{committed} on every member, {uncommitted} on none");
        return (stale.Kind, leader.Kind);
    }

    /// <summary>Reads the member's txn logs (bounded, every 50 ms) until one holds a create of <paramref name="path"/>.</summary>
    private static async Task WaitUntilLoggedAsync(EnsembleMember member, string path)
    {
        var logs = Path.Combine(member.DataLogDirectory, "version-2");
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            foreach (var file in Directory.EnumerateFiles(logs, "log.*"))
            {
                string text;
                try
                {
                    text = Dump.Log(file);
                }
                catch (Exception e) when (e is IOException or InvalidDataException or TxnLogCorruptException)
                {
                    // Being written right now; read it again on the next pass.
                    continue;
                }
                if (text.Contains(path, StringComparison.Ordinal)) return;
            }
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"server.{member.Id} did not log the create of {path} within 10 s");
            await Task.Delay(50);
        }
    }
}
