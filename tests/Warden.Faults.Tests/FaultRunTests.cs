using System.Diagnostics;
using System.Globalization;
using Warden.Faults.Tests.Checkers;
using Warden.Faults.Tests.Harness;
using Warden.Faults.Tests.History;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Faults.Tests;

/// <summary>
/// A short fault schedule on a real three-member ensemble (Warden by default, Apache ZooKeeper 3.8 with
/// WARDEN_ENSEMBLE_SUBJECT=apache): every checker must find the history valid, and must find it invalid
/// once a bug is planted in it. The environment variables in this project's README make it a long run.
/// </summary>
public sealed class FaultRunTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ShortFaultScheduleKeepsWritesLinearizableAndAcknowledgedWritesDurable()
    {
        var options = OptionsFromEnvironment();
        var stopwatch = Stopwatch.StartNew();
        var report = await new FaultRun(options, output.WriteLine).RunAsync();
        output.WriteLine($"run took {stopwatch.Elapsed.TotalSeconds:0} s; report in {report.ReportPath}");
        Assert.True(report.AllValid, $"seed {options.Seed}, history {report.HistoryPath}:\n" + string.Join("\n", report.Checks));

        // The same real history with a planted bug must fail the checker that guards against it.
        var events = HistoryLog.Load(report.HistoryPath);
        Assert.Equal(Verdict.Valid, FaultRun.CheckAll(events).Single(c => c.Checker == RegisterChecker.Name).Verdict);
        AssertPlantedBugCaught(PlantedBugs.LostWrite(events), RegisterChecker.Name);
        AssertPlantedBugCaught(PlantedBugs.StaleRead(events), SessionOrderChecker.Name);
        AssertPlantedBugCaught(PlantedBugs.LostAdd(events), SetChecker.Name);
        AssertPlantedBugCaught(PlantedBugs.DuplicateSequence(events), SequenceChecker.Name);
        AssertPlantedBugCaught(PlantedBugs.FencedOutOfOrder(events), LockChecker.Name);
    }

    /// <summary>
    /// WARDEN_FAULTS_REPLAY=history.jsonl checks a saved history again without running anything. Without it,
    /// a simulated history makes the round trip through a file: saved, loaded, and judged the same.
    /// </summary>
    [Fact]
    public void SavedHistoryIsJudgedTheSameWhenReplayed()
    {
        if (Environment.GetEnvironmentVariable("WARDEN_FAULTS_REPLAY") is { Length: > 0 } replay)
        {
            var checks = FaultRun.CheckAll(HistoryLog.Load(replay));
            foreach (var check in checks)
            {
                output.WriteLine(check.ToString());
            }
            Assert.True(checks.All(c => c.IsValid), string.Join("\n", checks));
            return;
        }
        var history = new CheckerTests.HistoryBuilder()
            .Write(1, "k0", 0, 10, 5, 1).Read(2, "k0", 20, 30, 5, 1)
            .Op(1, "add", 0, 10, EventType.Ok, invokeValue: 1)
            .Op(3, "read-all", 100, 110, EventType.Ok, values: [1]);
        var path = Path.Combine(Path.GetTempPath(), $"warden-faults-replay-{Guid.NewGuid():N}.jsonl");
        try
        {
            HistoryLog.Save(path, history.Events);
            var loaded = HistoryLog.Load(path);
            Assert.Equal(history.Events, loaded, HistoryEventComparer.Instance);
            var checks = FaultRun.CheckAll(loaded);
            Assert.Equal(Verdict.Valid, checks.Single(c => c.Checker == RegisterChecker.Name).Verdict);
            Assert.Equal(Verdict.Valid, checks.Single(c => c.Checker == SetChecker.Name).Verdict);
            HistoryLog.Save(path, PlantedBugs.LostWrite(loaded));
            Assert.Equal(Verdict.Invalid, FaultRun.CheckAll(HistoryLog.Load(path)).Single(c => c.Checker == RegisterChecker.Name).Verdict);
            HistoryLog.Save(path, PlantedBugs.StaleRead(loaded));
            Assert.Equal(Verdict.Invalid, FaultRun.CheckAll(HistoryLog.Load(path)).Single(c => c.Checker == SessionOrderChecker.Name).Verdict);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private void AssertPlantedBugCaught(IReadOnlyList<HistoryEvent> planted, string checker)
    {
        var result = FaultRun.CheckAll(planted).Single(c => c.Checker == checker);
        output.WriteLine($"planted bug for {checker}: {result.Line}");
        Assert.Equal(Verdict.Invalid, result.Verdict);
    }

    private static FaultRunOptions OptionsFromEnvironment()
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
        var options = new FaultRunOptions
        {
            Subject = EnsembleProcess.SubjectFromEnvironment(),
            Seed = int.Parse(Env("WARDEN_FAULTS_SEED") ?? Random.Shared.Next(1, 1_000_000).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
            Rounds = int.Parse(Env("WARDEN_FAULTS_ROUNDS") ?? "10", CultureInfo.InvariantCulture),
            Members = int.Parse(Env("WARDEN_FAULTS_MEMBERS") ?? "3", CultureInfo.InvariantCulture),
            Kinds = Env("WARDEN_FAULTS_KINDS")?.Split(',').Select(Fault.Parse).ToArray() ?? Fault.DefaultKinds,
            TickTimeMs = int.Parse(Env("WARDEN_ENSEMBLE_TICK_MS") ?? EnsembleProcess.DefaultTickTimeMs.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
        };
        return Env("WARDEN_FAULTS_OUT") is { } directory ? options with { OutputDirectory = directory } : options;
    }

    private sealed class HistoryEventComparer : IEqualityComparer<HistoryEvent>
    {
        public static readonly HistoryEventComparer Instance = new();

        public bool Equals(HistoryEvent? x, HistoryEvent? y) => x?.ToJsonLine() == y?.ToJsonLine();

        public int GetHashCode(HistoryEvent obj) => obj.ToJsonLine().GetHashCode(StringComparison.Ordinal);
    }
}

/// <summary>Edits of a real history that each break one property, to show the checkers catch them.</summary>
internal static class PlantedBugs
{
    /// <summary>
    /// A read after everything else, by the session of an acknowledged write, that returns the register's
    /// initial state: a stale read (and, for a strict reader, not linearizable).
    /// </summary>
    public static IReadOnlyList<HistoryEvent> StaleRead(IReadOnlyList<HistoryEvent> events)
    {
        var written = events.First(e => e.Type == EventType.Ok && e.Function is "write" or "cas");
        var invoke = events.First(e => e.Op == written.Op && e.Type == EventType.Invoke);
        var end = events.Max(e => e.TimeNs) + 1_000_000;
        var op = events.Max(e => e.Op) + 1;
        return [.. events,
            new HistoryEvent(op, written.Process, EventType.Invoke, "read", end, invoke.Key),
            new HistoryEvent(op, written.Process, EventType.Ok, "read", end + 1_000, invoke.Key, 0, 0)];
    }

    /// <summary>
    /// A compare-and-set from version 0 acknowledged after everything else, on a register that was written:
    /// the write it would have replaced was lost.
    /// </summary>
    public static IReadOnlyList<HistoryEvent> LostWrite(IReadOnlyList<HistoryEvent> events)
    {
        var written = events.First(e => e.Type == EventType.Ok && e.Function is "write" or "cas");
        var invoke = events.First(e => e.Op == written.Op && e.Type == EventType.Invoke);
        var end = events.Max(e => e.TimeNs) + 1_000_000;
        var op = events.Max(e => e.Op) + 1;
        return [.. events,
            new HistoryEvent(op, 2_000_000, EventType.Invoke, "cas", end, invoke.Key, 999_999_999, 0),
            new HistoryEvent(op, 2_000_000, EventType.Ok, "cas", end + 1_000, invoke.Key, Version: 1)];
    }

    /// <summary>The first acknowledged add removed from every final read: an acknowledged write lost.</summary>
    public static IReadOnlyList<HistoryEvent> LostAdd(IReadOnlyList<HistoryEvent> events)
    {
        var acked = events.First(e => e.Type == EventType.Ok && e.Function == "add").Op;
        var element = events.First(e => e.Op == acked && e.Type == EventType.Invoke).Value!.Value;
        return events.Select(e => e.Function == "read-all" && e.Type == EventType.Ok
            ? e with { Values = e.Values!.Where(v => v != element).ToList() }
            : e).ToList();
    }

    /// <summary>The second acknowledged sequence number replaced by the first: one id handed out twice.</summary>
    public static IReadOnlyList<HistoryEvent> DuplicateSequence(IReadOnlyList<HistoryEvent> events)
    {
        var acked = events.Where(e => e.Type == EventType.Ok && e.Function == "next").Take(2).ToList();
        return events.Select(e => e == acked[1] ? e with { Value = acked[0].Value } : e).ToList();
    }

    /// <summary>Two entries appended to every fenced log, a newer token then an older one: an old holder writing after a newer one.</summary>
    public static IReadOnlyList<HistoryEvent> FencedOutOfOrder(IReadOnlyList<HistoryEvent> events) =>
        events.Select(e => e.Function == "read-fenced" && e.Type == EventType.Ok
            ? e with { Values = [.. e.Values!, e.Values!.DefaultIfEmpty(0).Max() + 1, e.Values!.DefaultIfEmpty(0).Max()] }
            : e).ToList();
}
