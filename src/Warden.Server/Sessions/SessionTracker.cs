namespace Warden.Server.Sessions;

/// <summary>
/// Issues session ids and passwords and expires idle sessions, as Apache ZooKeeper's SessionTrackerImpl does:
/// expiry times are rounded up to the next multiple of the tick so that sessions expire in buckets, one check
/// per tick. Owned by the state-machine loop; not thread-safe.
/// </summary>
public sealed class SessionTracker
{
    /// <summary>Apache's constant mixed into the password seed.</summary>
    private const long PasswordSecret = 0xB3415C00L;

    private readonly Dictionary<long, Session> _sessions = new();
    private readonly SortedDictionary<long, HashSet<Session>> _buckets = new();
    private readonly int _tickTimeMs;
    private long _nextSessionId;

    public SessionTracker(int tickTimeMs, long serverId, long nowMs)
    {
        _tickTimeMs = tickTimeMs;
        _nextSessionId = InitialSessionId(serverId, nowMs);
    }

    public int Count => _sessions.Count;
    public IReadOnlyCollection<Session> Sessions => _sessions.Values;

    /// <summary>The first id: the clock shifted into the middle bits and the server id in the top byte.</summary>
    public static long InitialSessionId(long serverId, long nowMs)
    {
        long id = (long)((ulong)(nowMs << 24) >> 8);
        id |= serverId << 56;
        if (id == unchecked((long)0x8000000000000000UL)) id++;
        return id;
    }

    public static byte[] PasswordFor(long sessionId)
    {
        var password = new byte[16];
        new JavaRandom(sessionId ^ PasswordSecret).NextBytes(password);
        return password;
    }

    public static bool CheckPassword(long sessionId, ReadOnlySpan<byte> password) =>
        sessionId != 0 && password.SequenceEqual(PasswordFor(sessionId));

    public long NextSessionId() => _nextSessionId++;

    public Session? Get(long sessionId) => _sessions.GetValueOrDefault(sessionId);

    /// <summary>Tracks a session (new, or restored from disk) and starts its expiry clock.</summary>
    public Session Add(long sessionId, int timeoutMs, long nowMs)
    {
        if (!_sessions.TryGetValue(sessionId, out var session))
        {
            session = new Session(sessionId, timeoutMs);
            _sessions[sessionId] = session;
        }
        Touch(session, timeoutMs, nowMs);
        return session;
    }

    /// <summary>
    /// Tracks a session object that another tracker held until now (a local session being upgraded to a global one),
    /// so that the connection holding it keeps the same object.
    /// </summary>
    public void Adopt(Session session, long nowMs)
    {
        session.ExpiresAtMs = 0;
        _sessions[session.Id] = session;
        Touch(session, session.TimeoutMs, nowMs);
    }

    /// <summary>Moves a session's expiry forward. Returns false for unknown or closing sessions.</summary>
    public bool Touch(long sessionId, int timeoutMs, long nowMs)
    {
        var session = Get(sessionId);
        if (session is null || session.IsClosing) return false;
        Touch(session, timeoutMs, nowMs);
        return true;
    }

    public void Touch(Session session, long nowMs) => Touch(session, session.TimeoutMs, nowMs);

    private void Touch(Session session, int timeoutMs, long nowMs)
    {
        long expiresAt = RoundToNextTick(nowMs + timeoutMs);
        if (expiresAt == session.ExpiresAtMs) return;
        RemoveFromBucket(session);
        session.ExpiresAtMs = expiresAt;
        if (!_buckets.TryGetValue(expiresAt, out var bucket))
        {
            bucket = new HashSet<Session>();
            _buckets[expiresAt] = bucket;
        }
        bucket.Add(session);
    }

    private long RoundToNextTick(long timeMs) => (timeMs / _tickTimeMs + 1) * _tickTimeMs;

    private void RemoveFromBucket(Session session)
    {
        if (session.ExpiresAtMs != 0 && _buckets.TryGetValue(session.ExpiresAtMs, out var old))
        {
            old.Remove(session);
            if (old.Count == 0) _buckets.Remove(session.ExpiresAtMs);
        }
    }

    /// <summary>Takes the sessions whose bucket has ended; they are marked closing and leave the buckets.</summary>
    public List<Session> TakeExpired(long nowMs)
    {
        var expired = new List<Session>();
        while (_buckets.Count > 0)
        {
            var first = _buckets.First();
            if (first.Key > nowMs) break;
            _buckets.Remove(first.Key);
            foreach (var session in first.Value)
            {
                session.ExpiresAtMs = 0;
                session.IsClosing = true;
                expired.Add(session);
            }
        }
        return expired;
    }

    public void MarkClosing(Session session)
    {
        session.IsClosing = true;
        RemoveFromBucket(session);
        session.ExpiresAtMs = 0;
    }

    public void Remove(long sessionId)
    {
        if (_sessions.Remove(sessionId, out var session)) RemoveFromBucket(session);
    }

    /// <summary>Milliseconds of the monotonic clock, as Apache's Time.currentElapsedTime.</summary>
    public static long MonotonicMs(TimeProvider time) =>
        (long)(time.GetTimestamp() * 1000.0 / time.TimestampFrequency);
}
