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
        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs);
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
