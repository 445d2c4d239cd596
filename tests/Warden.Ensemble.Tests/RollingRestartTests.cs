using System.Diagnostics;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// The README's rolling restart: each member in turn is stopped cleanly (SIGTERM) and started again on its own
/// data, followers first and the leader last, while kazoo sessions write through the whole host list. Restarting a
/// follower must cost no election at all, restarting the leader exactly one, and at the end every acknowledged
/// write is on every member.
/// </summary>
public sealed class RollingRestartTests(ITestOutputHelper output)
{
    private const int WriterCount = 3;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task RestartingEachMemberInTurnUnderWritersCostsAtMostOneElectionEachAndLosesNothing()
    {
        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs);
        var writers = new List<KazooWriter>();
        try
        {
            for (var index = 0; index < WriterCount; index++)
            {
                writers.Add(await KazooWriter.StartAsync(ensemble.ConnectString, $"/rolling{index}"));
            }
            var leader = await ensemble.WaitForQuorumAsync(Bound);
            long epoch = await EpochAsync(leader);
            await EveryWriterProgressesAsync(writers, ensemble);

            var order = ensemble.Members.Where(m => m != leader).Append(leader).ToList();
            foreach (var member in order)
            {
                bool wasLeader = member == leader;
                var stopwatch = Stopwatch.StartNew();
                member.Stop();
                var serving = await ensemble.WaitForQuorumAsync(Bound);
                await EveryWriterProgressesAsync(writers, ensemble);
                member.Start();
                await ensemble.WaitForModeAsync(member, MemberMode.Follower, Bound);
                var after = await ensemble.WaitForQuorumAsync(Bound);
                await EveryWriterProgressesAsync(writers, ensemble);
                long epochAfter = await EpochAsync(after);
                output.WriteLine($"restarted server.{member.Id} ({(wasLeader ? "leader" : "follower")}) in {stopwatch.ElapsedMilliseconds} ms; " +
                                 $"leader server.{after.Id}, epoch {epoch} -> {epochAfter}; acknowledged {writers.Sum(w => w.AcknowledgedCount)}");
                if (wasLeader)
                {
                    Assert.NotEqual(member.Id, serving.Id);
                    Assert.Equal(serving.Id, after.Id);
                    Assert.Equal(epoch + 1, epochAfter);
                }
                else
                {
                    Assert.Equal(leader.Id, serving.Id);
                    Assert.Equal(leader.Id, after.Id);
                    Assert.Equal(epoch, epochAfter);
                }
                epoch = epochAfter;
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
    }

    /// <summary>The epoch of the member's last zxid, from srvr: it rises by one with each election.</summary>
    private static async Task<long> EpochAsync(EnsembleMember member)
    {
        long zxid = await member.ZxidAsync(TimeSpan.FromSeconds(5)) ?? throw new InvalidOperationException($"server.{member.Id} gave no zxid");
        return zxid >> 32;
    }

    private static async Task EveryWriterProgressesAsync(IReadOnlyList<KazooWriter> writers, EnsembleProcess ensemble)
    {
        try
        {
            await Task.WhenAll(writers.Select(w => w.WaitForProgressAsync(3, Bound)));
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            throw new TimeoutException(e.Message + "\n" + ensemble.DescribeOutputs(), e);
        }
    }
}
