using System.Text.Json;
using System.Text.Json.Serialization;

namespace Warden.Faults.Tests.History;

/// <summary>
/// What became of an operation, as Jepsen records it: <see cref="Invoke"/> when a client starts it, then
/// exactly one of <see cref="Ok"/> (it took effect), <see cref="Fail"/> (it certainly did not) or
/// <see cref="Info"/> (unknown: a timeout or a lost connection; it may take effect at any later time, or never).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<EventType>))]
public enum EventType
{
    Invoke,
    Ok,
    Fail,
    Info,
}

/// <summary>
/// One line of a history file. An invocation and its completion share <see cref="Op"/>. Fields a function
/// does not use stay null and are left out of the JSON.
/// </summary>
/// <param name="Op">The operation's number, unique in the history.</param>
/// <param name="Process">The client that ran it (one client never has two operations outstanding).</param>
/// <param name="Type">Invoke, or how the operation ended.</param>
/// <param name="Function">read, write, cas (register); add, read-all (set); next (sequence); acquire, fenced, release (lock).</param>
/// <param name="TimeNs">Monotonic nanoseconds since the run began.</param>
/// <param name="Key">The register key, or the element or token the operation names.</param>
/// <param name="Value">The value written (invoke), or the value read (read ok).</param>
/// <param name="Version">The version expected (cas invoke), or the version read or produced (ok).</param>
/// <param name="Values">The elements a final read returned.</param>
/// <param name="Error">Why the operation failed or is indeterminate.</param>
public sealed record HistoryEvent(
    long Op,
    int Process,
    EventType Type,
    string Function,
    long TimeNs,
    string? Key = null,
    long? Value = null,
    int? Version = null,
    IReadOnlyList<long>? Values = null,
    string? Error = null)
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJsonLine() => JsonSerializer.Serialize(this, Json);

    public static HistoryEvent FromJsonLine(string line) =>
        JsonSerializer.Deserialize<HistoryEvent>(line, Json) ?? throw new FormatException($"not a history event: {line}");
}

/// <summary>
/// An invocation paired with its completion. <see cref="CompleteNs"/> is null for an indeterminate operation,
/// which stays open for ever: it may take effect at any time after <see cref="InvokeNs"/>, or never.
/// </summary>
public sealed record Operation(
    long Op,
    int Process,
    string Function,
    EventType Outcome,
    long InvokeNs,
    long? CompleteNs,
    string? Key,
    long? InvokeValue,
    int? InvokeVersion,
    long? ResultValue,
    int? ResultVersion,
    IReadOnlyList<long>? ResultValues,
    string? Error)
{
    public override string ToString() =>
        $"op {Op} p{Process} {Function} key={Key} in=({InvokeValue},{InvokeVersion}) {Outcome} out=({ResultValue},{ResultVersion}) " +
        $"[{InvokeNs / 1_000_000.0:0.0}ms..{(CompleteNs is { } c ? $"{c / 1_000_000.0:0.0}ms" : "open")}]";
}
