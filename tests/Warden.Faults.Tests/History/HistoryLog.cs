using System.Diagnostics;

namespace Warden.Faults.Tests.History;

/// <summary>
/// The history of a run: every client's invocations and completions, stamped with one monotonic clock,
/// appended to a JSON-lines file as they happen (so that a run that dies still leaves its history) and kept
/// in memory for the checkers. Thread-safe: every client appends to the same log.
/// </summary>
public sealed class HistoryLog : IDisposable
{
    private readonly Lock gate = new();
    private readonly List<HistoryEvent> events = [];
    private readonly StreamWriter? writer;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private long nextOp;
    private long lastWriteOkNs = -1;

    /// <param name="path">The JSON-lines file to write, or null to keep the history in memory only.</param>
    public HistoryLog(string? path)
    {
        Path = path;
        if (path is not null)
        {
            writer = new StreamWriter(path, append: false) { AutoFlush = false };
        }
    }

    /// <summary>The file the history goes to, if any.</summary>
    public string? Path { get; }

    /// <summary>Monotonic nanoseconds since the log was made: the time of every event.</summary>
    public long NowNs => (long)(clock.ElapsedTicks * (1_000_000_000.0 / Stopwatch.Frequency));

    /// <summary>A copy of every event so far, in the order they were appended.</summary>
    public IReadOnlyList<HistoryEvent> Events
    {
        get { lock (gate) return events.ToArray(); }
    }

    /// <summary>Records an invocation and returns its operation number, for the completion.</summary>
    public long Invoke(int process, string function, string? key = null, long? value = null, int? version = null)
    {
        lock (gate)
        {
            var op = nextOp++;
            Append(new HistoryEvent(op, process, EventType.Invoke, function, NowNs, key, value, version));
            return op;
        }
    }

    /// <summary>The functions that change the tree: an ok of any of them is a successful write.</summary>
    public static readonly IReadOnlySet<string> WriteFunctions = new HashSet<string>(StringComparer.Ordinal)
    {
        "write", "cas", "add", "next", "fenced",
    };

    /// <summary>When the latest successful write completed (monotonic ns), or -1 before the first.</summary>
    public long LastWriteOkNs => Interlocked.Read(ref lastWriteOkNs);

    /// <summary>Records how operation <paramref name="op"/> ended.</summary>
    public void Complete(long op, int process, EventType type, string function, string? key = null, long? value = null,
        int? version = null, IReadOnlyList<long>? values = null, string? error = null)
    {
        if (type == EventType.Invoke)
        {
            throw new ArgumentException("a completion cannot be an invocation", nameof(type));
        }
        lock (gate)
        {
            var now = NowNs;
            Append(new HistoryEvent(op, process, type, function, now, key, value, version, values, error));
            if (type == EventType.Ok && WriteFunctions.Contains(function))
            {
                Interlocked.Exchange(ref lastWriteOkNs, now);
            }
        }
    }

    private void Append(HistoryEvent e)
    {
        events.Add(e);
        writer?.WriteLine(e.ToJsonLine());
    }

    public void Flush()
    {
        lock (gate) writer?.Flush();
    }

    public void Dispose()
    {
        lock (gate) writer?.Dispose();
    }

    /// <summary>Reads a history file written by a run, for a check-only replay.</summary>
    public static IReadOnlyList<HistoryEvent> Load(string path) =>
        File.ReadLines(path).Where(line => line.Length > 0).Select(HistoryEvent.FromJsonLine).ToList();

    /// <summary>Writes events as a history file (used to save an edited history).</summary>
    public static void Save(string path, IEnumerable<HistoryEvent> events) =>
        File.WriteAllLines(path, events.Select(e => e.ToJsonLine()));

    /// <summary>
    /// Pairs every invocation with its completion. An invocation without one (the run ended first) is
    /// indeterminate, as is one completed with <see cref="EventType.Info"/>; both stay open.
    /// </summary>
    public static IReadOnlyList<Operation> Pair(IEnumerable<HistoryEvent> history)
    {
        var invocations = new Dictionary<long, HistoryEvent>();
        var completions = new Dictionary<long, HistoryEvent>();
        foreach (var e in history)
        {
            var table = e.Type == EventType.Invoke ? invocations : completions;
            if (!table.TryAdd(e.Op, e))
            {
                throw new FormatException($"operation {e.Op} has two {(e.Type == EventType.Invoke ? "invocations" : "completions")}");
            }
        }
        var operations = new List<Operation>(invocations.Count);
        foreach (var invoke in invocations.Values.OrderBy(e => e.TimeNs).ThenBy(e => e.Op))
        {
            completions.TryGetValue(invoke.Op, out var done);
            var outcome = done?.Type ?? EventType.Info;
            operations.Add(new Operation(
                invoke.Op, invoke.Process, invoke.Function, outcome, invoke.TimeNs,
                outcome == EventType.Info ? null : done!.TimeNs,
                invoke.Key, invoke.Value, invoke.Version,
                done?.Value, done?.Version, done?.Values, done?.Error));
        }
        var orphans = completions.Keys.Except(invocations.Keys).ToList();
        if (orphans.Count > 0)
        {
            throw new FormatException($"completions without an invocation: ops {string.Join(", ", orphans.Take(5))}");
        }
        return operations;
    }
}
