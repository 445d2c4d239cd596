namespace Warden.Server.Network;

/// <summary>
/// The requests the whole server has taken off sockets and not yet answered, against Apache's
/// zookeeper.globalOutstandingLimit. As in Apache (ZooKeeperServer.shouldThrottle), going over the limit does
/// not stop every connection: it stops reading from each connection that already has a request in flight, so
/// a busy client waits for its own answers while a quiet one still gets its next request in.
/// </summary>
public sealed class OutstandingRequests(int limit)
{
    private long _count;

    public int Limit { get; } = Math.Max(1, limit);

    public long Count => Interlocked.Read(ref _count);

    /// <summary>Whether a connection with this many requests in flight must wait before sending another.</summary>
    public bool MustWait(int connectionOutstanding) => connectionOutstanding > 0 && Count >= Limit;

    public void Add(int requests) => Interlocked.Add(ref _count, requests);
}
