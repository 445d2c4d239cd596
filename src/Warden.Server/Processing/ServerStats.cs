using Warden.Protocol;

namespace Warden.Server.Processing;

/// <summary>Server-wide counters that srvr, stat, mntr, the AdminServer and /metrics report. Written only by the loop.</summary>
public sealed class ServerStats
{
    public long PacketsReceived { get; set; }
    public long PacketsSent { get; set; }

    /// <summary>Connect requests refused by the connection throttle (Apache's connection_rejected).</summary>
    public long ConnectionsRejected { get; set; }
    public long MinLatencyMs { get; private set; } = long.MaxValue;
    public long MaxLatencyMs { get; private set; }
    public long TotalLatencyMs { get; private set; }
    public long LatencyCount { get; private set; }

    /// <summary>Requests answered without a txn (reads, pings), as Apache's READ_LATENCY.</summary>
    public LatencySummary ReadLatency { get; } = new("readlatency");

    /// <summary>Requests that went through a txn (writes, session open and close), as Apache's UPDATE_LATENCY.</summary>
    public LatencySummary UpdateLatency { get; } = new("updatelatency");

    /// <summary>Bytes of the last, smallest and largest reply (header and body, without the length); -1 before any.</summary>
    public int LastResponseBytes { get; private set; } = -1;
    public int MinResponseBytes { get; private set; } = -1;
    public int MaxResponseBytes { get; private set; } = -1;

    /// <summary>Authentication packets refused with AUTHFAILED (Apache's auth_failed_count); not cleared by srst.</summary>
    public long AuthFailures { get; set; }

    /// <summary>
    /// auth_failed_count as Apache reports it: authentication packets refused, plus TLS handshakes on a client port
    /// that did not succeed (Apache's Netty factory counts each failed handshake future: a refused or missing
    /// certificate, plaintext on the TLS port, a connection closed before its handshake finished).
    /// </summary>
    public long AuthFailedCount => AuthFailures + TlsHandshakeFailures;

    // Counted on the connections' I/O threads, not on the loop, so kept with Interlocked; none is cleared by srst,
    // as in Apache.
    private long _tlsHandshakeFailures;
    private long _nonMtlsRemoteConnections;
    private long _nonMtlsLocalConnections;
    private long _outstandingTlsHandshakes;

    /// <summary>TLS handshakes on a client port that failed or were abandoned.</summary>
    public long TlsHandshakeFailures => Interlocked.Read(ref _tlsHandshakeFailures);

    /// <summary>Plaintext client connections accepted from another host (non_mtls_remote_conn_count).</summary>
    public long NonMtlsRemoteConnections => Interlocked.Read(ref _nonMtlsRemoteConnections);

    /// <summary>Plaintext client connections accepted from a loopback address (non_mtls_local_conn_count).</summary>
    public long NonMtlsLocalConnections => Interlocked.Read(ref _nonMtlsLocalConnections);

    /// <summary>Client connections whose TLS handshake is under way now (outstanding_tls_handshake).</summary>
    public long OutstandingTlsHandshakes => Interlocked.Read(ref _outstandingTlsHandshakes);

    public void CountTlsHandshakeFailure() => Interlocked.Increment(ref _tlsHandshakeFailures);

    public void CountNonMtlsConnection(bool loopback) =>
        Interlocked.Increment(ref loopback ? ref _nonMtlsLocalConnections : ref _nonMtlsRemoteConnections);

    public void TlsHandshakeStarted() => Interlocked.Increment(ref _outstandingTlsHandshakes);

    public void TlsHandshakeEnded() => Interlocked.Decrement(ref _outstandingTlsHandshakes);

    /// <summary>Connect requests handled (Apache's connection_request_count); not cleared by srst.</summary>
    public long ConnectionRequests { get; set; }

    // The request throttle's figures, Apache's ServerMetrics of the same names (cleared by srst, as resetAll does).

    /// <summary>Requests that found the request throttle full and waited (request_throttle_wait_count).</summary>
    public long RequestThrottleWaits { get; set; }

    /// <summary>Requests let through the throttle although stale (stale_requests).</summary>
    public long StaleRequests { get; set; }

    /// <summary>Stale requests the throttle dropped, closing their connection (stale_requests_dropped).</summary>
    public long StaleRequestsDropped { get; set; }

    /// <summary>Requests answered ThrottledOp after waiting past throttled_op_wait_time (throttled_ops).</summary>
    public long ThrottledOps { get; set; }

    /// <summary>How long requests waited in the request throttle, in ms (request_throttle_queue_time_ms).</summary>
    public LatencySummary RequestThrottleQueueTime { get; } = new("request_throttle_queue_time_ms");

    public void RecordLatency(long latencyMs, OpCode type)
    {
        RecordLatency(latencyMs);
        (IsUpdate(type) ? UpdateLatency : ReadLatency).Add(latencyMs);
    }

    public void RecordLatency(long latencyMs)
    {
        MinLatencyMs = Math.Min(MinLatencyMs, latencyMs);
        MaxLatencyMs = Math.Max(MaxLatencyMs, latencyMs);
        TotalLatencyMs += latencyMs;
        LatencyCount++;
    }

    public void RecordResponse(int bytes)
    {
        LastResponseBytes = bytes;
        if (MinResponseBytes < 0 || bytes < MinResponseBytes) MinResponseBytes = bytes;
        if (bytes > MaxResponseBytes) MaxResponseBytes = bytes;
    }

    /// <summary>Apache counts a request as an update when it carries a txn header: every request that changes state.</summary>
    private static bool IsUpdate(OpCode type) => type is OpCode.Create or OpCode.Create2 or OpCode.CreateTtl or OpCode.CreateContainer
        or OpCode.Delete or OpCode.DeleteContainer or OpCode.SetData or OpCode.SetAcl or OpCode.Multi or OpCode.Reconfig
        or OpCode.CreateSession or OpCode.CloseSession;

    public long MinLatencyOrZero => LatencyCount == 0 ? 0 : MinLatencyMs;
    public double AverageLatencyMs => LatencyCount == 0 ? 0 : (double)TotalLatencyMs / LatencyCount;

    /// <summary>srst: Apache's ServerStats.reset clears the latency and packet counts, the response sizes and the latency summaries.</summary>
    public void Reset()
    {
        PacketsReceived = 0;
        PacketsSent = 0;
        MinLatencyMs = long.MaxValue;
        MaxLatencyMs = 0;
        TotalLatencyMs = 0;
        LatencyCount = 0;
        LastResponseBytes = -1;
        MinResponseBytes = -1;
        MaxResponseBytes = -1;
        ReadLatency.Reset();
        UpdateLatency.Reset();
        RequestThrottleWaits = 0;
        StaleRequests = 0;
        StaleRequestsDropped = 0;
        ThrottledOps = 0;
        RequestThrottleQueueTime.Reset();
    }
}
