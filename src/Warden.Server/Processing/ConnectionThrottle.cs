namespace Warden.Server.Processing;

/// <summary>
/// zookeeper.connection_throttle_* as Apache ZooKeeper 3.8's BlueThrottle reads them. Tokens 0 (the default)
/// turns the throttle off.
/// </summary>
public sealed record ConnectionThrottleSettings
{
    /// <summary>connection_throttle_tokens: the bucket's size, and how full it starts.</summary>
    public int Tokens { get; init; }

    /// <summary>connection_throttle_fill_time: milliseconds per refill step.</summary>
    public int FillTimeMs { get; init; } = 1;

    /// <summary>connection_throttle_fill_count: tokens added per step.</summary>
    public int FillCount { get; init; } = 1;

    /// <summary>connection_throttle_freeze_time: -1 leaves BLUE's random early dropping off, which is all Warden does.</summary>
    public int FreezeTimeMs { get; init; } = -1;

    /// <summary>connection_throttle_weight_enabled: new global sessions, new local ones and resumed ones cost different amounts.</summary>
    public bool WeightEnabled { get; init; }

    public int GlobalSessionWeight { get; init; } = 3;
    public int LocalSessionWeight { get; init; } = 1;
    public int RenewSessionWeight { get; init; } = 2;

    /// <summary>Reads the properties with Integer.getInteger's rules; a bad value keeps the default, as in Apache.</summary>
    public static ConnectionThrottleSettings From(IReadOnlyDictionary<string, string> properties)
    {
        int Int(string name, int fallback) =>
            properties.TryGetValue("zookeeper.connection_throttle_" + name, out var text) && Configuration.JavaNumbers.TryDecodeInt(text, out int value)
                ? value : fallback;
        return new ConnectionThrottleSettings
        {
            Tokens = Int("tokens", 0),
            FillTimeMs = Int("fill_time", 1),
            FillCount = Int("fill_count", 1),
            FreezeTimeMs = Int("freeze_time", -1),
            WeightEnabled = properties.GetValueOrDefault("zookeeper.connection_throttle_weight_enabled")?.Equals("true", StringComparison.OrdinalIgnoreCase) == true,
            GlobalSessionWeight = Int("global_session_weight", 3),
            LocalSessionWeight = Int("local_session_weight", 1),
            RenewSessionWeight = Int("renew_session_weight", 2),
        };
    }
}

/// <summary>
/// The token bucket Apache's BlueThrottle keeps for connect requests: it starts full; once more than a fill time
/// has passed since the last refill, it gains (elapsed / fillTime) × fillCount tokens, up to its size, and the
/// remainder of the elapsed time is dropped, as there; a connect request takes its tokens or is refused.
/// Pure: the caller passes the time.
/// </summary>
public sealed class ConnectionThrottle(ConnectionThrottleSettings settings, long nowMs)
{
    private int _tokens = settings.Tokens;
    private long _lastRefillMs = nowMs;

    public bool Enabled => settings.Tokens != 0;

    /// <summary>Tokens missing from a full bucket (Apache's connection_token_deficit).</summary>
    public int Deficit => settings.Tokens - _tokens;

    /// <summary>
    /// What a connect request costs: 1, or with weights by whether it resumes a session or creates one, local (with
    /// localSessionsEnabled) or global.
    /// </summary>
    public int Cost(bool resumesSession, bool localSessions = false) => !settings.WeightEnabled ? 1
        : resumesSession ? settings.RenewSessionWeight : localSessions ? settings.LocalSessionWeight : settings.GlobalSessionWeight;

    /// <summary>Takes <paramref name="need"/> tokens if the bucket has them.</summary>
    public bool TryTake(int need, long nowMs)
    {
        if (!Enabled) return true;
        long elapsed = nowMs - _lastRefillMs;
        if (elapsed > settings.FillTimeMs)
        {
            long refill = elapsed * settings.FillCount / Math.Max(1, settings.FillTimeMs);
            _tokens = (int)Math.Min(_tokens + refill, settings.Tokens);
            _lastRefillMs = nowMs;
        }
        if (_tokens < need) return false;
        _tokens -= need;
        return true;
    }
}
