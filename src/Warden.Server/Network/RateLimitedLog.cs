using Microsoft.Extensions.Logging;

namespace Warden.Server.Network;

/// <summary>
/// Folds repeats of the same warning, as Apache's RateLogger does for refused connections: the first is
/// written at once, and repeats within the interval are counted and written as one "[N times]" line when the
/// next one comes after the interval. A client that opens thousands of refused connections a second then
/// costs a line a second, not a line per connection. Warnings given the same <c>kind</c> fold together even
/// when their texts differ (a flood from many addresses is one kind of refusal); the folded line then says how
/// many distinct texts the folded ones had.
/// </summary>
public sealed class RateLimitedLog(ILogger log, TimeProvider time, TimeSpan interval)
{
    private const int DistinctCounted = 10_000;

    private readonly Lock _gate = new();
    private string? _key;
    private string? _message;
    private long _windowStart;
    private int _repeats;
    private readonly HashSet<string> _distinct = [];

    public void Warn(string message, string? kind = null)
    {
        string key = kind ?? message;
        string? flush = null;
        int flushed = 0;
        int distinct = 0;
        bool sameText = true;
        bool writeNow = false;
        lock (_gate)
        {
            long now = time.GetTimestamp();
            bool inWindow = _key == key && time.GetElapsedTime(_windowStart, now) < interval;
            if (inWindow)
            {
                _repeats++;
                if (_distinct.Count < DistinctCounted) _distinct.Add(message);
            }
            else
            {
                flush = _repeats > 0 ? _message : null;
                flushed = _repeats;
                distinct = _distinct.Count;
                sameText = distinct == 1 && _message is not null && _distinct.Contains(_message);
                _key = key;
                _message = message;
                _windowStart = now;
                _repeats = 0;
                _distinct.Clear();
                writeNow = true;
            }
        }
        if (flush is not null)
        {
            if (sameText) log.LogWarning("[{Count} times] {Message}", flushed, flush);
            else log.LogWarning("[{Count} times, {Distinct} distinct] {Message}", flushed, distinct, flush);
        }
        if (writeNow) log.LogWarning("{Message}", message);
    }
}
