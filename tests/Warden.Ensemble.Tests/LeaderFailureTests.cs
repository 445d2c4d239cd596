using System.Diagnostics;
using System.Globalization;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// The leader dies (kill -9) or freezes (SIGSTOP past syncLimit) while four Warden.Client sessions write
/// through the whole host list. Each time the others elect a new leader, and at the end every
/// acknowledged write is on every member, the trees are equal and no writer's session expired.
/// </summary>
public sealed class LeaderFailureTests(ITestOutputHelper output)
{
    private const int WriterCount = 4;
    private static readonly TimeSpan ElectionTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RejoinTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ProgressTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// 20 rounds in CI; WARDEN_ENSEMBLE_KILL_ROUNDS asks for more (100 by hand). Each round kills the leader
    /// at a random point of the write stream, requires a new leader and further acknowledged writes from
    /// every writer, then restarts the killed member on its directories and waits for it to follow.
    /// </summary>
    [Fact]
    public async Task KillingTheLeaderRepeatedlyUnderWritersLosesNoAcknowledgedWrite()
    {
        var rounds = int.Parse(Environment.GetEnvironmentVariable("WARDEN_ENSEMBLE_KILL_ROUNDS") ?? "20", CultureInfo.InvariantCulture);
        var seed = int.Parse(Environment.GetEnvironmentVariable("WARDEN_ENSEMBLE_SEED") ?? Random.Shared.Next(1, 1_000_000).ToString(CultureInfo.InvariantCulture),
            CultureInfo.InvariantCulture);
        var random = new Random(seed);
        output.WriteLine($"{rounds} rounds, seed {seed} (WARDEN_ENSEMBLE_SEED replays the kill points)");

        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs);
        var writers = await StartWritersAsync(ensemble);
        try
        {
            var leader = await ensemble.WaitForQuorumAsync(ElectionTimeout);
            var elections = new List<TimeSpan>();
            for (var round = 1; round <= rounds; round++)
            {
                // A random number of acknowledged creates first, so the kill lands at a different point of the stream each round.
                await writers[random.Next(WriterCount)].WaitForProgressAsync(random.Next(1, 40), ProgressTimeout);
                var killed = leader;
                var stopwatch = Stopwatch.StartNew();
                killed.Kill();
                var successor = await ensemble.WaitForQuorumAsync(ElectionTimeout);
                elections.Add(stopwatch.Elapsed);
                Assert.NotEqual(killed.Id, successor.Id);
                await WhenEveryWriterProgressesAsync(writers, ensemble);

                killed.Start();
                leader = await ensemble.WaitForQuorumAsync(RejoinTimeout);
                output.WriteLine($"round {round}: killed leader server.{killed.Id}, server.{successor.Id} led after " +
                                 $"{elections[^1].TotalMilliseconds:0} ms at most; now leader server.{leader.Id}; " +
                                 $"acknowledged {writers.Sum(w => w.AcknowledgedCount)}");
            }
            output.WriteLine($"new leader seen after the kill: median {Median(elections):0} ms, max {elections.Max().TotalMilliseconds:0} ms " +
                             "(polling srvr every 50 ms)");

            await StopAllAsync(writers);
            await Convergence.AssertAcknowledgedWritesOnEveryMemberAsync(ensemble, writers, output);
            await Convergence.AssertSameTreeOnEveryMemberAsync(ensemble, output);
            Convergence.AssertSessionsSurvived(writers);
        }
        finally
        {
            await DisposeAllAsync(writers);
        }
    }

    /// <summary>
    /// SIGSTOP freezes the leader with its sockets open, longer than syncLimit (5 ticks): the followers stop
    /// hearing from it and elect a new leader among themselves. After SIGCONT the old leader must find it
    /// has been replaced and follow, and no write acknowledged before, during or after is lost.
    /// </summary>
    [Fact]
    public async Task PausedLeaderIsReplacedAndFollowsOnceResumed()
    {
        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs);
        var writers = await StartWritersAsync(ensemble);
        try
        {
            var paused = await ensemble.WaitForQuorumAsync(ElectionTimeout);
            await writers[0].WaitForProgressAsync(10, ProgressTimeout);
            var stopwatch = Stopwatch.StartNew();
            paused.Pause();
            var successor = await ensemble.WaitForQuorumAsync(ElectionTimeout);
            output.WriteLine($"paused leader server.{paused.Id}; server.{successor.Id} led after {stopwatch.ElapsedMilliseconds} ms " +
                             $"(syncLimit is {5 * ensemble.TickTimeMs} ms)");
            Assert.NotEqual(paused.Id, successor.Id);
            await WhenEveryWriterProgressesAsync(writers, ensemble);

            paused.Resume();
            // The election's log lines are short, and they explain a slow election better than any assertion.
            output.WriteLine(ensemble.DescribeOutputs());
            await ensemble.WaitForModeAsync(paused, MemberMode.Follower, RejoinTimeout);
            var leader = await ensemble.WaitForQuorumAsync(RejoinTimeout);
            Assert.Equal(successor.Id, leader.Id);
            await WhenEveryWriterProgressesAsync(writers, ensemble);

            await StopAllAsync(writers);
            await Convergence.AssertAcknowledgedWritesOnEveryMemberAsync(ensemble, writers, output);
            await Convergence.AssertSameTreeOnEveryMemberAsync(ensemble, output);
            Convergence.AssertSessionsSurvived(writers);
        }
        finally
        {
            await DisposeAllAsync(writers);
        }
    }

    private static async Task<List<AckedWriter>> StartWritersAsync(EnsembleProcess ensemble)
    {
        var writers = new List<AckedWriter>();
        for (var index = 0; index < WriterCount; index++)
        {
            writers.Add(await AckedWriter.StartAsync(ensemble.ConnectString, $"/writer{index}"));
        }
        return writers;
    }

    private static async Task WhenEveryWriterProgressesAsync(IReadOnlyList<AckedWriter> writers, EnsembleProcess ensemble)
    {
        try
        {
            await Task.WhenAll(writers.Select(w => w.WaitForProgressAsync(3, ProgressTimeout)));
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            throw new TimeoutException(e.Message + "\n" + ensemble.DescribeOutputs(), e);
        }
    }

    private static async Task StopAllAsync(IEnumerable<AckedWriter> writers)
    {
        foreach (var writer in writers)
        {
            await writer.StopAsync();
        }
    }

    private static async Task DisposeAllAsync(IEnumerable<AckedWriter> writers)
    {
        foreach (var writer in writers)
        {
            await writer.DisposeAsync();
        }
    }

    private static double Median(List<TimeSpan> values) =>
        values.Count == 0 ? 0 : values.Order().ElementAt(values.Count / 2).TotalMilliseconds;
}
