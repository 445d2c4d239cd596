using Warden.Data;
using Warden.Protocol;
using Warden.Server.Sessions;

namespace Warden.Server.Processing;

/// <summary>
/// What the state-machine loop needs from a client connection. The network layer implements it; tests use
/// an in-memory one. <see cref="Send"/> and <see cref="Close"/> may be called from the loop at any time and
/// must not block it.
/// </summary>
public interface IClientConnection : IWatcher
{
    long ConnectionId { get; }

    /// <summary>The peer's address as text, for ip ACLs and for log lines.</summary>
    string RemoteAddress { get; }

    /// <summary>State that only the loop reads or writes.</summary>
    ConnectionState State { get; }

    /// <summary>Queues one whole frame (length prefix included) to be written in order.</summary>
    void Send(byte[] frame);

    /// <summary>Queues a frame whose large buffers are shared with other frames rather than copied.</summary>
    void Send(OutboundFrame frame) => Send(frame.ToArray());

    /// <summary>
    /// When the connection last received a whole packet, on the loop's clock. The network side sees packets as
    /// they arrive, even while the loop is busy, so a session is not expired for a ping the loop had no time to
    /// read (Apache touches the session when a request arrives, too).
    /// </summary>
    long LastHeardAtMs => long.MinValue / 2;

    /// <summary>Closes the connection once the frames queued so far are written.</summary>
    void Close(string reason);

    /// <summary>One request of this connection has been answered (admission control).</summary>
    void RequestCompleted();
}

/// <summary>A request as the loop received it (header split off, body as received).</summary>
public sealed record PendingRequest(int Xid, OpCode Type, byte[] Body, long ReceivedAtMs);

/// <summary>
/// A request of a connection not yet answered, in the connection's queue of them. It is held until the loop may act
/// on it, then either answered at once and dropped from the queue, or in flight: a write proposed (or forwarded to
/// the leader), or a sync forwarded, whose answer comes back on the commit stream.
/// </summary>
public sealed class QueuedRequest(PendingRequest request)
{
    public PendingRequest Request { get; } = request;
    public bool InFlight { get; set; }

    /// <summary>
    /// The error it is answered with in its turn, never applied (ThrottledOp when it waited in the request throttle
    /// past throttled_op_wait_time). Such a request neither overtakes earlier requests nor holds later ones back.
    /// </summary>
    public ErrorCode? Refusal { get; init; }
}

/// <summary>Per-connection bookkeeping owned by the loop.</summary>
public sealed class ConnectionState
{
    public Session? Session { get; set; }
    public List<Id> AuthInfo { get; } = [];
    /// <summary>Requests not yet answered, in request order: in flight, or held until the loop may act on them.</summary>
    public Queue<QueuedRequest> Unanswered { get; } = new();

    /// <summary>Held writes in <see cref="Unanswered"/> that the loop may propose before the requests ahead of them are answered.</summary>
    public int HeldWrites { get; set; }

    /// <summary>Held requests in <see cref="Unanswered"/> that no later write may overtake (close, auth, unknown types).</summary>
    public int HeldBarriers { get; set; }
    public bool AwaitingSession { get; set; }

    /// <summary>Requests taken by the loop (past the request throttle) and not yet answered.</summary>
    public int InProcess { get; set; }

    /// <summary>The request throttle dropped a stale request of this connection and closed it.</summary>
    public bool DroppedByThrottle { get; set; }
    public bool Closed { get; set; }
    public int NegotiatedTimeoutMs { get; set; }

    /// <summary>The connection's DIGEST-MD5 exchange, from its first SASL request on.</summary>
    public Protocol.Sasl.DigestMd5Server? SaslExchange { get; set; }

    // Figures `cons` and `stat` report.
    public long PacketsReceived { get; set; }
    public long PacketsSent { get; set; }
    public long LastZxid { get; set; } = -1;
    public int LastCxid { get; set; } = -1;
    public string LastOperation { get; set; } = "NA";
    public long LastLatencyMs { get; set; }
    public long MinLatencyMs { get; set; } = long.MaxValue;
    public long MaxLatencyMs { get; set; }
    public long TotalLatencyMs { get; set; }
    public long LatencyCount { get; set; }
    public long EstablishedAtMs { get; set; }
    public long LastResponseAtMs { get; set; }

    /// <summary>crst: counters start again, as Apache's resetStats leaves them.</summary>
    public void ResetStats()
    {
        PacketsReceived = 0;
        PacketsSent = 0;
        LastZxid = -1;
        LastCxid = -1;
        LastOperation = "NA";
        LastLatencyMs = 0;
        MinLatencyMs = long.MaxValue;
        MaxLatencyMs = 0;
        TotalLatencyMs = 0;
        LatencyCount = 0;
        LastResponseAtMs = 0;
    }

    public void RecordLatency(long latencyMs)
    {
        LastLatencyMs = latencyMs;
        MinLatencyMs = Math.Min(MinLatencyMs, latencyMs);
        MaxLatencyMs = Math.Max(MaxLatencyMs, latencyMs);
        TotalLatencyMs += latencyMs;
        LatencyCount++;
    }
}
