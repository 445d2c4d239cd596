using Microsoft.Extensions.Logging;

namespace Warden.Server.Network;

/// <summary>
/// Folds repeats of the same warning, as Apache's RateLogger does for refused connections: the first is
/// written at once, and repeats within the interval are counted and written as one "[N times]" line when the
/// next one comes after the interval. A client that opens thousands of refused connections a second then
/// costs a line a second, not a line per connection.
/// </summary>
public sealed class RateLimitedLog(ILogger log, TimeProvider time, TimeSpan interval)
{
    private readonly object _gate = new();
    private string? _message;
    private long _windowStart;
    private int _repeats;

    public void Warn(string message)
    {
        string? flush = null;
        int flushed = 0;
        bool writeNow = false;
        lock (_gate)
        {
            long now = time.GetTimestamp();
            bool inWindow = _message == message && time.GetElapsedTime(_windowStart, now) < interval;
            if (inWindow)
            {
                _repeats++;
            }
            else
            {
                flush = _repeats > 0 ? _message : null;
                flushed = _repeats;
                _message = message;
                _windowStart = now;
                _repeats = 0;
                writeNow = true;
            }
        }
        if (flush is not null) log.LogWarning("[{Count} times] {Message}", flushed, flush);
        if (writeNow) log.LogWarning("{Message}", message);
    }
}
