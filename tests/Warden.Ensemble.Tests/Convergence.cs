using Warden.Client;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// The end-of-test checks every fault test shares: every acknowledged write is on every member, the members'
/// trees are the same, and the writers' sessions survived.
/// </summary>
internal static class Convergence
{
    /// <summary>
    /// Reads each writer's parent on each running member (after a sync) and fails on any acknowledged
    /// create that a member lacks, or on two members whose children lists differ.
    /// </summary>
    public static Task AssertAcknowledgedWritesOnEveryMemberAsync(
        EnsembleProcess ensemble, IReadOnlyList<AckedWriter> writers, ITestOutputHelper output) =>
        AssertAcknowledgedWritesOnEveryMemberAsync(ensemble,
            writers.Select(w => (w.Parent, w.Acknowledged, w.ConnectionLosses)).ToList(), output);

    /// <summary>The same check for any writer: its parent, its acknowledged child names, and its unknown outcomes.</summary>
    public static async Task AssertAcknowledgedWritesOnEveryMemberAsync(
        EnsembleProcess ensemble, IReadOnlyList<(string Parent, IReadOnlyList<string> Acknowledged, int ConnectionLosses)> writers,
        ITestOutputHelper output)
    {
        foreach (var writer in writers)
        {
            var acknowledged = writer.Acknowledged;
            IReadOnlyList<string>? first = null;
            var firstMember = 0;
            foreach (var member in ensemble.Members.Where(m => m.IsRunning))
            {
                await using var client = await Clients.ConnectAsync(member);
                using var timeout = new CancellationTokenSource(Clients.StepTimeout);
                await client.SyncAsync(writer.Parent, timeout.Token);
                var children = (await client.GetChildrenAsync(writer.Parent, timeout.Token)).Children
                    .Order(StringComparer.Ordinal).ToList();
                var missing = acknowledged.Except(children).ToList();
                Assert.True(missing.Count == 0,
                    $"server.{member.Id} lacks {missing.Count} of {acknowledged.Count} acknowledged creates under {writer.Parent}, " +
                    $"e.g. {string.Join(", ", missing.Take(5))}\n{ensemble.DescribeOutputs()}");
                if (first is null)
                {
                    first = children;
                    firstMember = member.Id;
                }
                else
                {
                    Assert.True(first.SequenceEqual(children),
                        $"{writer.Parent} has {first.Count} children on server.{firstMember} but {children.Count} on server.{member.Id}; " +
                        $"only on server.{firstMember}: {string.Join(", ", first.Except(children).Take(5))}; " +
                        $"only on server.{member.Id}: {string.Join(", ", children.Except(first).Take(5))}");
                }
            }
            output.WriteLine($"{writer.Parent}: {acknowledged.Count} acknowledged, {first?.Count} present on every member, " +
                             $"{writer.ConnectionLosses} unknown outcomes");
        }
    }

    /// <summary>Every running member's whole tree equals the first running member's.</summary>
    public static async Task AssertSameTreeOnEveryMemberAsync(EnsembleProcess ensemble, ITestOutputHelper output)
    {
        var running = ensemble.Members.Where(m => m.IsRunning).ToList();
        var reference = await Clients.ReadTreeAsync(running[0]);
        foreach (var member in running.Skip(1))
        {
            var tree = await Clients.ReadTreeAsync(member);
            Clients.AssertSameTree($"server.{running[0].Id}", reference, $"server.{member.Id}", tree);
        }
        output.WriteLine($"{running.Count} members hold the same tree of {reference.Count} znodes");
    }

    /// <summary>Each writer's session is the one it started with and never expired, and nothing but ConnectionLoss stopped it.</summary>
    public static void AssertSessionsSurvived(IReadOnlyList<AckedWriter> writers)
    {
        foreach (var writer in writers)
        {
            Assert.True(writer.Failure is null, $"writer {writer.Parent} failed: {writer.Failure}");
            Assert.DoesNotContain(ConnectionState.Expired, writer.States);
            Assert.Equal(writer.InitialSessionId, writer.SessionId);
        }
    }
}
