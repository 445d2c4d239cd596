using Warden.Faults.Tests.History;

namespace Warden.Faults.Tests.CheckerTests;

/// <summary>Writes small histories by hand: each operation with its invoke and completion times in milliseconds.</summary>
internal sealed class HistoryBuilder
{
    private readonly List<HistoryEvent> events = [];
    private long nextOp;

    public IReadOnlyList<HistoryEvent> Events => events;

    public IReadOnlyList<Operation> Operations => HistoryLog.Pair(events);

    public HistoryBuilder Read(int process, string key, long startMs, long endMs, long value, int version) =>
        Add(process, "read", key, startMs, endMs, EventType.Ok, null, null, value, version);

    public HistoryBuilder Write(int process, string key, long startMs, long? endMs, long value, int? resultVersion, EventType outcome = EventType.Ok) =>
        Add(process, "write", key, startMs, endMs, outcome, value, null, null, resultVersion);

    public HistoryBuilder Cas(int process, string key, long startMs, long? endMs, int expected, long value, EventType outcome = EventType.Ok) =>
        Add(process, "cas", key, startMs, endMs, outcome, value, expected, null, outcome == EventType.Ok ? expected + 1 : null,
            outcome == EventType.Fail ? "BadVersion" : null);

    public HistoryBuilder Op(int process, string function, long startMs, long? endMs, EventType outcome,
        long? invokeValue = null, long? resultValue = null, IReadOnlyList<long>? values = null)
    {
        var op = nextOp++;
        events.Add(new HistoryEvent(op, process, EventType.Invoke, function, startMs * 1_000_000, Value: invokeValue));
        if (endMs is { } end)
        {
            events.Add(new HistoryEvent(op, process, outcome, function, end * 1_000_000, Value: resultValue, Values: values));
        }
        return this;
    }

    private HistoryBuilder Add(int process, string function, string key, long startMs, long? endMs, EventType outcome,
        long? invokeValue, int? invokeVersion, long? resultValue, int? resultVersion, string? error = null)
    {
        var op = nextOp++;
        events.Add(new HistoryEvent(op, process, EventType.Invoke, function, startMs * 1_000_000, key, invokeValue, invokeVersion));
        if (endMs is { } end && outcome != EventType.Info)
        {
            events.Add(new HistoryEvent(op, process, outcome, function, end * 1_000_000, key, resultValue, resultVersion, Error: error));
        }
        else if (endMs is { } infoEnd)
        {
            events.Add(new HistoryEvent(op, process, EventType.Info, function, infoEnd * 1_000_000, key, Error: "ConnectionLoss"));
        }
        return this;
    }
}
