using System.Text;
using Warden.Protocol;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// A follower that missed writes catches up when it comes back: from its own log plus the leader's
/// difference when it kept its data, and from the leader's snapshot when its disk was wiped. Either way its
/// tree ends up equal to the others'.
/// </summary>
public sealed class CatchUpTests(ITestOutputHelper output)
{
    /// <summary>Fewer than the 500 committed txns a leader keeps in memory (Apache's commitLogCount): a DIFF covers them.</summary>
    private const int WritesWhileDown = 300;

    /// <summary>More than the leader keeps, so that a follower with nothing must be sent a snapshot.</summary>
    private const int WritesWhileWiped = 700;
    private static readonly TimeSpan RejoinTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task KilledFollowerRestartedOnItsDataCatchesUp()
    {
        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs);
        var leader = await ensemble.WaitForQuorumAsync(RejoinTimeout);
        var follower = ensemble.Members.First(m => m != leader);
        await WriteAsync(leader, "/before", 50);

        follower.Kill();
        await WriteAsync(leader, "/while-down", WritesWhileDown);
        follower.Start();
        Assert.Equal(leader.Id, (await ensemble.WaitForQuorumAsync(RejoinTimeout)).Id);

        await AssertCaughtUpAsync(ensemble, follower, WritesWhileDown);
        // It kept its log, and the leader still holds every txn it missed: a difference, not the whole tree.
        if (Subject.IsWarden) Assert.DoesNotContain("Took the leader's snapshot", RestartedRunOutput(follower));
    }

    [Fact]
    public async Task FollowerWithAWipedDataDirectoryTakesTheLeadersSnapshot()
    {
        // commitLogCount is Apache's zookeeper.commitLogCount: how many committed txns the leader keeps for DIFF.
        // Both servers take it from zoo.cfg; 500 (Apache's default) makes 700 missed writes too many for a DIFF.
        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs,
            extraConfig: new Dictionary<string, string> { ["commitLogCount"] = "500" });
        var leader = await ensemble.WaitForQuorumAsync(RejoinTimeout);
        var follower = ensemble.Members.First(m => m != leader);
        await WriteAsync(leader, "/before", 50);

        follower.Stop();
        follower.WipeData();
        await WriteAsync(leader, "/while-down", WritesWhileWiped);
        follower.Start();
        Assert.Equal(leader.Id, (await ensemble.WaitForQuorumAsync(RejoinTimeout)).Id);

        await AssertCaughtUpAsync(ensemble, follower, WritesWhileWiped);
        output.WriteLine(RestartedRunOutput(follower));
        // An empty follower has nothing to take a difference against: the leader must send its whole tree.
        if (Subject.IsWarden) Assert.Contains("Took the leader's snapshot", RestartedRunOutput(follower));
    }

    /// <summary>
    /// A leader logs a write its followers never saw (both are stopped, then killed), then dies. The other two, started
    /// again, elect a leader of
    /// a new epoch and go on; when the old leader comes back its uncommitted tail must go (TRUNC, or SNAP where the
    /// tail is of an older epoch than everything the new leader holds): the write that was never acknowledged is on
    /// no member, and every tree is the same.
    /// </summary>
    [Fact]
    public async Task OldLeaderWithAnUncommittedTailLosesItWhenItRejoins()
    {
        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs);
        var oldLeader = await ensemble.WaitForQuorumAsync(RejoinTimeout);
        var followers = ensemble.Members.Where(m => m != oldLeader).ToList();
        await WriteAsync(oldLeader, "/before", 20);

        // The session is made while the quorum is whole (creating it is a write too); then the followers stop.
        await using (var orphanClient = await Clients.ConnectAsync(oldLeader))
        {
            foreach (var follower in followers) follower.Pause();
            // Never acknowledged: no follower can ack it. Wait (bounded) until the leader has it in its txn log.
            using var abandon = new CancellationTokenSource();
            var orphan = orphanClient.CreateAsync("/orphan", Encoding.UTF8.GetBytes("never acknowledged"), CreateMode.Persistent,
                cancellationToken: abandon.Token);
            await WaitForLoggedAsync(oldLeader, "/orphan", TimeSpan.FromSeconds(30));
            Assert.False(orphan.IsCompletedSuccessfully, "a write was acknowledged with both followers stopped");
            // The PROPOSAL may already sit in the stopped followers' socket buffers, and a follower that read it
            // could still carry it into the next epoch (a write that was never acknowledged may survive). Killing
            // them stopped throws those bytes away, so only the old leader holds the txn.
            foreach (var follower in followers) follower.Kill();
            oldLeader.Kill();
            abandon.Cancel();
            await Task.WhenAny(orphan, Task.Delay(Clients.StepTimeout));
        }
        foreach (var follower in followers) follower.Start();
        var newLeader = await ensemble.WaitForQuorumAsync(RejoinTimeout);
        Assert.NotEqual(oldLeader.Id, newLeader.Id);
        await WriteAsync(newLeader, "/after-failover", 20);

        oldLeader.Start();
        await ensemble.WaitForQuorumAsync(RejoinTimeout);
        await Convergence.AssertSameTreeOnEveryMemberAsync(ensemble, output);
        foreach (var member in ensemble.Members)
        {
            var tree = await Clients.ReadTreeAsync(member);
            Assert.False(tree.ContainsKey("/orphan"), $"server.{member.Id} holds a write that was never acknowledged");
            Assert.True(tree.ContainsKey("/after-failover/n19"), $"server.{member.Id} lacks writes made after the failover");
        }
        output.WriteLine(RestartedRunOutput(oldLeader));
        if (Subject.IsWarden)
        {
            var rejoin = RestartedRunOutput(oldLeader);
            Assert.True(rejoin.Contains("Truncated the txn log", StringComparison.Ordinal) || rejoin.Contains("Took the leader's snapshot", StringComparison.Ordinal),
                "the old leader rejoined without dropping its uncommitted tail by TRUNC or SNAP");
        }
    }

    /// <summary>Polls a member's txn log files (bounded) until one holds <paramref name="path"/>.</summary>
    private static async Task WaitForLoggedAsync(EnsembleMember member, string path, TimeSpan timeout)
    {
        var needle = Encoding.UTF8.GetBytes(path);
        var deadline = DateTime.UtcNow + timeout;
        var logs = Path.Combine(member.DataLogDirectory, "version-2");
        while (DateTime.UtcNow < deadline)
        {
            if (Directory.Exists(logs) && Directory.EnumerateFiles(logs, "log.*").Any(file =>
                    File.ReadAllBytes(file).AsSpan().IndexOf(needle) >= 0))
            {
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
        throw new TimeoutException($"server.{member.Id} did not log {path} within {timeout.TotalSeconds:0} s");
    }

    private static string RestartedRunOutput(EnsembleMember member)
    {
        var all = member.CapturedOutput;
        var start = all.IndexOf("--- run 2 of", StringComparison.Ordinal);
        return start < 0 ? all : all[start..];
    }

    private async Task AssertCaughtUpAsync(EnsembleProcess ensemble, EnsembleMember follower, int writesWhileDown)
    {
        var tree = await Clients.ReadTreeAsync(follower);
        Assert.True(tree.ContainsKey($"/while-down/n{writesWhileDown - 1}"),
            $"server.{follower.Id} lacks the writes made while it was down\n{ensemble.DescribeOutputs()}");
        await Convergence.AssertSameTreeOnEveryMemberAsync(ensemble, output);

        // Writes made after it came back reach it too.
        await WriteAsync(ensemble.Members.First(m => m != follower), "/after", 20);
        await Convergence.AssertSameTreeOnEveryMemberAsync(ensemble, output);
    }

    /// <summary>Creates a parent and <paramref name="count"/> children through one member, in batches of pipelined creates.</summary>
    private static async Task WriteAsync(EnsembleMember member, string parent, int count)
    {
        await using var client = await Clients.ConnectAsync(member);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await client.CreateAsync(parent, [], CreateMode.Persistent, cancellationToken: timeout.Token);
        for (var start = 0; start < count; start += 50)
        {
            await Task.WhenAll(Enumerable.Range(start, Math.Min(50, count - start)).Select(i =>
                client.CreateAsync($"{parent}/n{i}", Encoding.UTF8.GetBytes($"value {i}"), CreateMode.Persistent,
                    cancellationToken: timeout.Token)));
        }
    }
}
