namespace Warden.Server.Processing;

/// <summary>
/// Apache ZooKeeper 3.8's RequestThrottler knobs, read as Apache reads them (Integer.getInteger and
/// Boolean.parseBoolean of Java system properties; a key in zoo.cfg sets zookeeper.&lt;key&gt; as in Apache).
/// MaxRequests 0 (the default) turns the throttle off.
/// </summary>
public sealed record RequestThrottleSettings
{
    /// <summary>zookeeper.request_throttle_max_requests: requests in process (taken and not yet answered) before new ones wait.</summary>
    public int MaxRequests { get; init; }

    /// <summary>
    /// zookeeper.request_throttle_stall_time: how long Apache's throttler sleeps between looks at a waiting request.
    /// Read but unused: Warden looks at the waiting requests after every piece of work
    /// its loop does (answers, commits, ticks every half tickTime), so there is no sleep to tune.
    /// </summary>
    public int StallTimeMs { get; init; } = 100;

    /// <summary>zookeeper.request_throttle_drop_stale: a waiting request found stale is dropped and its connection closed.</summary>
    public bool DropStale { get; init; } = true;

    /// <summary>zookeeper.request_stale_connection_check: a request whose connection has closed is stale.</summary>
    public bool StaleConnectionCheck { get; init; } = true;

    /// <summary>zookeeper.request_stale_latency_check: a request older than its session's timeout is stale.</summary>
    public bool StaleLatencyCheck { get; init; }

    /// <summary>
    /// zookeeper.throttled_op_wait_time: a request that waited longer than this (0: never) is answered with
    /// ThrottledOp (-127) in its turn, without being applied; pings and closeSession never are.
    /// </summary>
    public int ThrottledOpWaitTimeMs { get; init; }

    public bool Enabled => MaxRequests > 0;

    public static RequestThrottleSettings From(IReadOnlyDictionary<string, string> properties)
    {
        int Int(string name, int fallback) =>
            properties.TryGetValue(name, out var text) && Configuration.JavaNumbers.TryDecodeInt(text, out int value) ? value : fallback;
        // Boolean.parseBoolean: "true" in any case is true, anything else false; an absent key keeps the default.
        bool Bool(string name, bool fallback) =>
            properties.TryGetValue(name, out var text) ? text.Equals("true", StringComparison.OrdinalIgnoreCase) : fallback;
        return new RequestThrottleSettings
        {
            MaxRequests = Int("zookeeper.request_throttle_max_requests", 0),
            StallTimeMs = Int("zookeeper.request_throttle_stall_time", 100),
            DropStale = Bool("zookeeper.request_throttle_drop_stale", true),
            StaleConnectionCheck = Bool("zookeeper.request_stale_connection_check", true),
            StaleLatencyCheck = Bool("zookeeper.request_stale_latency_check", false),
            ThrottledOpWaitTimeMs = Int("zookeeper.throttled_op_wait_time", 0),
        };
    }
}
