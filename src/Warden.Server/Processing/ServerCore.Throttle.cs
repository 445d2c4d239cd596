using Microsoft.Extensions.Logging;
using Warden.Protocol;

namespace Warden.Server.Processing;

// Limits on incoming work that Apache applies in its ZooKeeperServer: the connection throttle and the request throttle.
public sealed partial class ServerCore
{
    /// <summary>Requests waiting in the request throttle, in arrival order across all connections, with when they came in.</summary>
    private readonly Queue<(RequestWork Work, long QueuedAtMs)> _throttled = new();
    private int _inProcess;
    private Network.RateLimitedLog? _requestThrottleLog;

    /// <summary>Requests taken by the loop and not yet answered (Apache's inProcess, what the request throttle limits).</summary>
    public int RequestsInProcess => _inProcess;

    /// <summary>Requests waiting in the request throttle.</summary>
    public int RequestsThrottled => _throttled.Count;

    /// <summary>
    /// Apache's RequestThrottler: with zookeeper.request_throttle_max_requests set, a request that arrives while that
    /// many are in process (or while others already wait) waits in one queue for all connections, in arrival order;
    /// each answer lets the oldest waiting request in. The throttle stops the loop from taking on more work than it
    /// can answer; the network layer meanwhile stops reading busy connections (globalOutstandingLimit).
    /// </summary>
    private void OnRequestWork(RequestWork work)
    {
        var throttle = _settings.RequestThrottle;
        if (throttle.Enabled && (_throttled.Count > 0 || _inProcess >= throttle.MaxRequests))
        {
            _throttled.Enqueue((work, NowMs));
            Stats.RequestThrottleWaits++;
            _requestThrottleLog ??= new Network.RateLimitedLog(_log, _time, TimeSpan.FromSeconds(1));
            _requestThrottleLog.Warn($"Requests wait in the request throttle: {_inProcess} in process reach " +
                $"zookeeper.request_throttle_max_requests={throttle.MaxRequests}, {_throttled.Count} waiting");
            return;
        }
        Admit(work, throttled: false);
    }

    private void Admit(RequestWork work, bool throttled)
    {
        var state = work.Connection.State;
        if (state.Closed) return;
        state.InProcess++;
        _inProcess++;
        Guarded(work.Connection, () => OnRequest(work, throttled));
    }

    /// <summary>A request was answered: one fewer in process, and the throttle may let the next one in.</summary>
    private void Answered(IClientConnection connection)
    {
        connection.RequestCompleted();
        var state = connection.State;
        if (state.InProcess == 0) return;
        state.InProcess--;
        _inProcess--;
    }

    /// <summary>A connection went with requests still in process: they no longer count.</summary>
    private void ForgetInProcess(ConnectionState state)
    {
        _inProcess -= state.InProcess;
        state.InProcess = 0;
    }

    /// <summary>
    /// Lets waiting requests in while fewer than the limit are in process, oldest first. A stale request at the head
    /// (its connection gone, or, with request_stale_latency_check, older than its session timeout) is dropped and its
    /// connection closed, so that none of that connection's later requests is answered before it; one that waited
    /// past throttled_op_wait_time goes in marked to be answered ThrottledOp.
    /// </summary>
    private void DrainRequestThrottle()
    {
        var throttle = _settings.RequestThrottle;
        while (_throttled.TryPeek(out var head))
        {
            var (work, queuedAtMs) = head;
            var state = work.Connection.State;
            if (state.DroppedByThrottle)
            {
                // Apache's mustDrop: a later request of a connection whose earlier one was dropped goes too, uncounted.
                _throttled.Dequeue();
                work.Connection.RequestCompleted();
                continue;
            }
            bool stale = IsStale(work);
            if (stale && throttle.DropStale)
            {
                _throttled.Dequeue();
                Stats.StaleRequestsDropped++;
                state.DroppedByThrottle = true;
                work.Connection.RequestCompleted();
                CloseConnection(work.Connection, "a stale request was dropped by the request throttle");
                continue;
            }
            if (_inProcess >= throttle.MaxRequests) return;
            _throttled.Dequeue();
            long waitedMs = Math.Max(0, NowMs - queuedAtMs);
            Stats.RequestThrottleQueueTime.Add(waitedMs);
            if (stale) Stats.StaleRequests++;
            bool throttledOp = throttle.ThrottledOpWaitTimeMs > 0 && waitedMs > throttle.ThrottledOpWaitTimeMs
                && work.Type is not (OpCode.Ping or OpCode.CloseSession or OpCode.Auth or OpCode.Sasl);
            if (throttledOp) Stats.ThrottledOps++;
            Admit(work, throttledOp);
        }
    }

    /// <summary>Apache's Request.isStale: closeSession never is; a closed connection's request is; with the latency check, an old one is.</summary>
    private bool IsStale(RequestWork work)
    {
        if (work.Type == OpCode.CloseSession) return false;
        var throttle = _settings.RequestThrottle;
        var state = work.Connection.State;
        if (throttle.StaleConnectionCheck && state.Closed) return true;
        return throttle.StaleLatencyCheck && NowMs - work.ReceivedAtMs > state.NegotiatedTimeoutMs;
    }

    private ConnectionThrottle? _connectionThrottle;
    private Network.RateLimitedLog? _throttleLog;

    /// <summary>
    /// zookeeper.connection_throttle_*: a connect request that finds the token bucket short is refused by closing
    /// its connection, before any session is made or resumed (Apache: ClientCnxnLimitException, counted in
    /// connection_rejected). Refusals are logged at most once a second.
    /// </summary>
    private bool PassesConnectionThrottle(IClientConnection connection, bool resumesSession)
    {
        if (_connectionThrottle is null)
        {
            _connectionThrottle = new ConnectionThrottle(_settings.ConnectionThrottle, NowMs);
            if (_connectionThrottle.Enabled && _settings.ConnectionThrottle.FreezeTimeMs != -1)
            {
                _log.LogWarning("connection_throttle_freeze_time={Freeze}: BLUE's random early dropping is not supported; only the token bucket applies",
                    _settings.ConnectionThrottle.FreezeTimeMs);
            }
        }
        var throttle = _connectionThrottle;
        if (!throttle.Enabled) return true;
        if (throttle.TryTake(throttle.Cost(resumesSession, _settings.LocalSessionsEnabled), NowMs)) return true;
        Stats.ConnectionsRejected++;
        _throttleLog ??= new Network.RateLimitedLog(_log, _time, TimeSpan.FromSeconds(1));
        _throttleLog.Warn($"Closing connection from {connection.RemoteAddress}: the connection throttle is out of tokens " +
            $"(connection_throttle_tokens={_settings.ConnectionThrottle.Tokens}, fill_count={_settings.ConnectionThrottle.FillCount} " +
            $"every fill_time={_settings.ConnectionThrottle.FillTimeMs} ms)");
        return false;
    }
}
