using System.Text;
using System.Text.RegularExpressions;
using Warden.Protocol;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// A follower that was down for more writes than the leader keeps in memory (commitLogCount) rejoins by a DIFF the
/// leader reads from its txn log on disk, when the log files to read are at most snapshotSizeFactor times the newest
/// snapshot, and by SNAP when they are larger: Apache 3.8's LearnerHandler.syncFollower and
/// ZKDatabase.getProposalsFromTxnLog. The tree is made large (20 znodes of 100 KB) and the log small (snapCount 100
/// rolls it, preAllocSize 16 KB) so that the factor alone decides between the two. The follower is Warden, or Apache
/// 3.8 following a Warden leader; each end's log names the sync, and the members' data directories end up holding the
/// same tree (`warden snapshot dump`). With WARDEN_ENSEMBLE_SUBJECT=apache the first two run on Apache 3.8 alone and
/// check that its leader makes the same choices (its commitLogCount cannot go below 500, so more writes are missed than
/// that).
/// </summary>
public sealed class TxnLogSyncTests(ITestOutputHelper output)
{
    private const int WritesWhileDown = 700;
    private const int KeptInMemory = 100;
    private const int BigNodes = 20;
    private const int BigNodeBytes = 100 * 1024;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private static Dictionary<string, string> Config(string snapshotSizeFactor) => new()
    {
        ["commitLogCount"] = KeptInMemory.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["snapCount"] = "100",
        ["preAllocSize"] = "16",
        ["snapshotSizeFactor"] = snapshotSizeFactor,
    };

    [Fact]
    public async Task FollowerBehindTheCommittedTxnsInMemoryGetsADiffReadFromTheTxnLog()
    {
        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs, Config("0.33"));
        var (leader, follower) = await MissWritesAsync(ensemble, Subject.Kind);
        if (!Subject.IsWarden)
        {
            await leader.WaitForOutputAsync($"Use txnlog and committedLog for peer sid: {follower.Id}", TimeSpan.FromSeconds(10));
            await follower.WaitForOutputOfThisRunAsync("Getting a diff from the leader", TimeSpan.FromSeconds(10));
            await Migration.AssertSameSnapshotDumpOnEveryMemberAsync(ensemble, output);
            return;
        }

        var sent = await LeaderSyncLineAsync(leader, follower, "DIFF");
        Assert.Contains("read from the txn log on disk", sent.Value, StringComparison.Ordinal);
        Assert.True(int.Parse(sent.Groups["txns"].Value, System.Globalization.CultureInfo.InvariantCulture) >= WritesWhileDown,
            $"the DIFF carried fewer txns than the {WritesWhileDown} writes missed: {sent.Value}");
        await follower.WaitForOutputOfThisRunAsync($"Synchronising with leader server.{leader.Id} by DIFF", TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("Took the leader's snapshot", ThisRun(follower));
        await Migration.AssertSameSnapshotDumpOnEveryMemberAsync(ensemble, output);
    }

    [Fact]
    public async Task FollowerWhoseDiffWouldPassTheSnapshotSizeFactorGetsASnapshot()
    {
        // 0.01 x a snapshot of about 2 MB is about 20 KB, less than the log files written while the follower was down.
        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs, Config("0.01"));
        var (leader, follower) = await MissWritesAsync(ensemble, Subject.Kind);
        if (!Subject.IsWarden)
        {
            await leader.WaitForOutputAsync("exceeds sizeLimit", TimeSpan.FromSeconds(10));
            await follower.WaitForOutputOfThisRunAsync("Getting a snapshot from leader", TimeSpan.FromSeconds(10));
            await Migration.AssertSameSnapshotDumpOnEveryMemberAsync(ensemble, output);
            return;
        }

        await LeaderSyncLineAsync(leader, follower, "SNAP");
        await leader.WaitForOutputOfThisRunAsync("over snapshotSizeFactor 0.01", TimeSpan.FromSeconds(10));
        await follower.WaitForOutputOfThisRunAsync($"Synchronising with leader server.{leader.Id} by SNAP", TimeSpan.FromSeconds(10));
        await Migration.AssertSameSnapshotDumpOnEveryMemberAsync(ensemble, output);
    }

    [Fact]
    public async Task AnApacheFollowerOfAWardenLeaderGetsADiffReadFromTheTxnLog()
    {
        // server.1 is Apache: with the lowest id it never wins an election between equals, so a Warden server leads.
        await using var ensemble = await EnsembleProcess.StartAsync([ServerKind.Apache, ServerKind.Warden, ServerKind.Warden],
            Subject.TickTimeMs, Config("0.33"));
        var (leader, follower) = await MissWritesAsync(ensemble, ServerKind.Apache);
        Assert.Equal(ServerKind.Warden, leader.Kind);

        var sent = await LeaderSyncLineAsync(leader, follower, "DIFF");
        Assert.Contains("read from the txn log on disk", sent.Value, StringComparison.Ordinal);
        // Apache's Learner.syncWithLeader says which sync it got.
        await follower.WaitForOutputOfThisRunAsync("Getting a diff from the leader", TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("Getting a snapshot from leader", ThisRun(follower));
        await Migration.AssertSameSnapshotDumpOnEveryMemberAsync(ensemble, output);
    }

    /// <summary>
    /// Makes the tree large and waits for the leader to snapshot it (which rolls its log), stops a follower, writes more
    /// than the leader keeps in memory, and starts the follower again; returns the leader and that follower.
    /// </summary>
    private async Task<(EnsembleMember Leader, EnsembleMember Follower)> MissWritesAsync(EnsembleProcess ensemble, ServerKind followerKind)
    {
        var leader = await ensemble.WaitForQuorumAsync(Bound);
        var follower = ensemble.Members.First(m => m != leader && m.Kind == followerKind);

        await using (var client = await Clients.ConnectAsync(leader))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await client.CreateAsync("/big", [], CreateMode.Persistent, cancellationToken: timeout.Token);
            var data = new byte[BigNodeBytes];
            for (var i = 0; i < BigNodes; i++)
            {
                Array.Fill(data, (byte)('a' + i));
                await client.CreateAsync($"/big/n{i}", data, CreateMode.Persistent, cancellationToken: timeout.Token);
            }
            // snapCount 100 snapshots after 50 to 100 txns; small writes until the leader's newest snapshot holds the tree.
            await client.CreateAsync("/filler", [], CreateMode.Persistent, cancellationToken: timeout.Token);
            var snapshotted = false;
            for (var round = 0; round < 10 && !snapshotted; round++)
            {
                await CreateChildrenAsync(client, "/filler", round * 20, 20, timeout.Token);
                snapshotted = await NewestSnapshotBytesAsync(leader, TimeSpan.FromSeconds(2)) >= BigNodes * BigNodeBytes;
            }
            Assert.True(snapshotted, $"server.{leader.Id} wrote no snapshot of the large tree after 200 writes with snapCount 100");
            // A few more (fewer than the 50 before the next snapshot), so that the follower's last zxid lies inside the
            // log file begun after that snapshot rather than at its start: at a file's start Apache's rule would read the
            // file before it too, the one holding the large znodes.
            await CreateChildrenAsync(client, "/filler", 1000, 10, timeout.Token);
        }

        follower.Stop();
        await using (var client = await Clients.ConnectAsync(leader))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await client.CreateAsync("/while-down", [], CreateMode.Persistent, cancellationToken: timeout.Token);
            for (var start = 0; start < WritesWhileDown; start += 50)
            {
                await CreateChildrenAsync(client, "/while-down", start, 50, timeout.Token);
            }
        }
        follower.Start();
        await ensemble.WaitForModeAsync(follower, MemberMode.Follower, Bound);
        Assert.Equal(leader.Id, (await ensemble.WaitForQuorumAsync(Bound)).Id);
        var tree = await Clients.ReadTreeAsync(follower);
        Assert.True(tree.ContainsKey($"/while-down/n{WritesWhileDown - 1}"), $"server.{follower.Id} lacks the writes made while it was down");
        return (leader, follower);
    }

    private static Task CreateChildrenAsync(Warden.Client.ZooKeeperClient client, string parent, int start, int count, CancellationToken cancellation) =>
        Task.WhenAll(Enumerable.Range(start, count).Select(i =>
            client.CreateAsync($"{parent}/n{i}", Encoding.UTF8.GetBytes($"value {i}"), CreateMode.Persistent, cancellationToken: cancellation)));

    /// <summary>Polls (bounded) the size of the newest snapshot file in the member's dataDir; 0 when there is none yet.</summary>
    private static async Task<long> NewestSnapshotBytesAsync(EnsembleMember member, TimeSpan wait)
    {
        var directory = Path.Combine(member.DataDirectory, "version-2");
        var deadline = DateTime.UtcNow + wait;
        long newest = 0;
        while (true)
        {
            var files = Directory.Exists(directory) ? new DirectoryInfo(directory).GetFiles("snapshot.*") : [];
            newest = files.OrderByDescending(f => Convert.ToInt64(f.Name["snapshot.".Length..], 16)).Select(f => f.Length).FirstOrDefault();
            if (newest >= BigNodes * BigNodeBytes || DateTime.UtcNow >= deadline) return newest;
            await Task.Delay(100);
        }
    }

    /// <summary>The leader's line for this follower's sync of the given kind, awaited (bounded) in its output.</summary>
    private async Task<Match> LeaderSyncLineAsync(EnsembleMember leader, EnsembleMember follower, string kind)
    {
        var line = new Regex($@"Synchronising server\.{follower.Id} \(last zxid 0x[0-9a-f]+\) by {kind} 0x[0-9a-f]+; [^\n]*?(?:then (?<txns>\d+) txns)?[^\n]*");
        await leader.WaitForOutputAsync(text => line.Matches(text).Any(m => IsAfterRestart(m)), $"the leader's {kind} line for server.{follower.Id}", TimeSpan.FromSeconds(30));
        var found = line.Matches(leader.CapturedOutput).Last(IsAfterRestart);
        output.WriteLine(found.Value);
        return found;

        // Every member synchronised once at the start; the restart's sync is the one after the follower missed writes.
        static bool IsAfterRestart(Match m) => !m.Value.Contains("(last zxid 0x0)", StringComparison.Ordinal);
    }

    private static string ThisRun(EnsembleMember member)
    {
        var all = member.CapturedOutput;
        var start = all.LastIndexOf("--- run ", StringComparison.Ordinal);
        return start < 0 ? all : all[start..];
    }
}
