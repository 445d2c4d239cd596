using Microsoft.Extensions.Logging;
using Warden.Data;
using Warden.Protocol;
using Warden.Server.Sessions;

namespace Warden.Server.Processing;

// Dispatch: a request's way from the connection to a reply (reads), a proposal (writes where they are prepared)
// or the leader (writes on a learner).
public sealed partial class ServerCore
{
    /// <summary>On a learner: syncs forwarded to the leader, answered in order as its SYNCs come back.</summary>
    private readonly Queue<(IClientConnection Connection, QueuedRequest Entry)> _pendingSyncs = new();

    // Ordering rules 2, 3 and 6 for one connection. Its requests join its queue of unanswered ones, in request order.
    // - A request at the head that is not in flight is acted on at once: every request before it has been answered,
    //   so a read there sees exactly the session's earlier writes, all applied, and none of its later ones, which
    //   are applied only by commits that come after this moment on the loop (rule 3).
    // - A write behind a waiting read is proposed (prepared and logged, or forwarded to the leader) as soon as it
    //   arrives: only its reply waits its turn (rule 6), as Apache's CommitProcessor lets writes flow to the log
    //   while reads of the session wait. A session's writes commit in the order they were proposed, so when one
    //   commits, everything before it has been answered and its reply leaves in request order (rule 2).
    // - A held close, auth or unknown request is a barrier: no later write is proposed before it has been acted on,
    //   since it may end the session or change the identities the write is checked with.

    private void OnRequest(RequestWork work, bool throttled)
    {
        var connection = work.Connection;
        var state = connection.State;
        if (state.Closed) return;
        state.PacketsReceived++;
        Stats.PacketsReceived++;
        var entry = new QueuedRequest(new PendingRequest(work.Xid, work.Type, work.Body, work.ReceivedAtMs))
        {
            Refusal = throttled ? ErrorCode.ThrottledOp : null,
        };
        var unanswered = state.Unanswered;
        if (work.Type is OpCode.Auth or OpCode.Sasl && !state.AwaitingSession && unanswered.All(queued => queued.InFlight))
        {
            // Authentication answers with its own xid and changes only what later requests are checked with, so it
            // need not wait for writes in flight (Apache handles it as it arrives); it does wait behind held requests.
            Dispatch(connection, entry);
            return;
        }
        unanswered.Enqueue(entry);
        if (IsBarrier(entry)) state.HeldBarriers++;
        else if (MayOvertake(entry)) state.HeldWrites++;
        if (state.AwaitingSession) return;
        if (unanswered.Count > 1 && MayOvertake(entry) && state.HeldBarriers == 0)
        {
            // Rule 6: requests ahead of this write still wait, but none of them may change how it is prepared.
            state.HeldWrites--;
            Dispatch(connection, entry);
            return;
        }
        Advance(connection);
    }

    /// <summary>A write that may be proposed while earlier requests of its connection wait for their answers.</summary>
    private static bool MayOvertake(OpCode type) => IsWrite(type) && type != OpCode.CloseSession;

    /// <summary>A request no later write may overtake while it is held (see the rules above).</summary>
    private static bool IsBarrier(OpCode type) => !MayOvertake(type) && type != OpCode.Ping && !ReadHandler.Handles(type);

    // A request marked to be refused is only answered, in its turn, like a read: it is neither.
    private static bool MayOvertake(QueuedRequest entry) => entry.Refusal is null && MayOvertake(entry.Request.Type);

    private static bool IsBarrier(QueuedRequest entry) => entry.Refusal is null && IsBarrier(entry.Request.Type);

    /// <summary>
    /// Acts on the connection's held requests that may go now: from the head up to the first one in flight, and then
    /// the held writes behind it up to the first barrier.
    /// </summary>
    private void Advance(IClientConnection connection)
    {
        var state = connection.State;
        var unanswered = state.Unanswered;
        while (!state.AwaitingSession && !state.Closed && unanswered.TryPeek(out var head) && !head.InFlight)
        {
            if (IsBarrier(head)) state.HeldBarriers--;
            else if (MayOvertake(head)) state.HeldWrites--;
            Guarded(connection, () => Dispatch(connection, head));
            if (state.Closed) return;
            if (!head.InFlight) unanswered.Dequeue();
        }
        if (state.HeldWrites == 0 || state.AwaitingSession || state.Closed) return;
        foreach (var entry in unanswered)
        {
            if (entry.InFlight) continue;
            if (IsBarrier(entry)) return;
            if (!MayOvertake(entry)) continue;
            state.HeldWrites--;
            Guarded(connection, () => Dispatch(connection, entry));
            if (state.Closed) return;
        }
    }

    /// <summary>
    /// A request in flight was answered by the commit stream: it leaves the connection's queue. It is the head unless
    /// the answers came back in another order than the requests went out, which only the leader's SYNC can do (it is
    /// delivered beside the commits, not in their stream); the reply then goes out as it comes, as before rule 6.
    /// </summary>
    private void TakeAnswered(IClientConnection connection, QueuedRequest? entry)
    {
        if (entry is null) return;
        var unanswered = connection.State.Unanswered;
        if (unanswered.TryPeek(out var head) && ReferenceEquals(head, entry))
        {
            unanswered.Dequeue();
            return;
        }
        _log.LogWarning("A {Type} of {Remote} was answered before requests sent ahead of it", entry.Request.Type, connection.RemoteAddress);
        var rest = unanswered.Where(queued => !ReferenceEquals(queued, entry)).ToList();
        unanswered.Clear();
        foreach (var queued in rest) unanswered.Enqueue(queued);
    }

    public static bool IsWrite(OpCode type) => type is OpCode.Create or OpCode.Create2 or OpCode.CreateContainer
        or OpCode.CreateTtl or OpCode.Delete or OpCode.SetData or OpCode.SetAcl or OpCode.Check or OpCode.Multi
        or OpCode.CloseSession or OpCode.Reconfig;

    /// <summary>Acts on one request: answers it now, or puts it in flight (<see cref="QueuedRequest.InFlight"/>).</summary>
    private void Dispatch(IClientConnection connection, QueuedRequest entry)
    {
        var request = entry.Request;
        var state = connection.State;
        if (entry.Refusal is { } answer)
        {
            // Apache's FinalRequestProcessor answers a throttled request THROTTLEDOP without applying it.
            Reply(connection, request, answer, null);
            return;
        }
        if (request.Type == OpCode.Auth)
        {
            HandleAuth(connection, request);
            return;
        }
        if (request.Type == OpCode.Sasl)
        {
            HandleSasl(connection, request);
            return;
        }
        if (!PassesEnforcedAuthentication(connection, request)) return;
        var session = state.Session;
        if (session is null)
        {
            CloseConnection(connection, "request without a session");
            return;
        }
        if (Mode == ServingMode.ReadOnly && RefusedWhenReadOnly(request.Type))
        {
            Reply(connection, request, ErrorCode.NotReadOnly, null);
            return;
        }
        bool live = TouchSession(session);
        if (request.Type == OpCode.CloseSession)
        {
            if (!live) Reply(connection, request, ErrorCode.SessionExpired, null);
            else if (session.IsLocal) CloseLocalSession(connection, request, session);
            else if (PreparesWrites && WriteRefusal(session, live, _settings.ServerId) is { } refusal) ProposeWrite(connection, entry, request, session.Id, connection.State.AuthInfo, refusal);
            else if (PreparesWrites) ProposeCloseSession(session, connection, request.Xid, request.ReceivedAtMs, entry);
            else ForwardWrite(connection, entry, session);
            return;
        }
        if (IsWrite(request.Type))
        {
            var replyError = live ? CheckUpgrade(connection, request, session) : null;
            if (state.Closed) return;
            if (PreparesWrites) ProposeWrite(connection, entry, request, session.Id, connection.State.AuthInfo, WriteRefusal(session, live, _settings.ServerId));
            else ForwardWrite(connection, entry, session, replyError);
            return;
        }
        if (request.Type == OpCode.Ping)
        {
            Reply(connection, request with { Xid = Xids.Ping }, live ? ErrorCode.Ok : ErrorCode.SessionExpired, null);
            return;
        }
        if (!ReadHandler.Handles(request.Type))
        {
            _log.LogWarning("Received packet at server of unknown type {Type} from {Remote}", (int)request.Type, connection.RemoteAddress);
            SendFrame(connection, new ReplyHeader(request.Xid, -1, (int)ErrorCode.Unimplemented), null);
            CloseConnection(connection, $"unknown request type {(int)request.Type}");
            return;
        }
        if (!live)
        {
            Reply(connection, request, ErrorCode.SessionExpired, null);
            return;
        }
        if (request.Type == OpCode.Sync && !PreparesWrites)
        {
            ForwardSync(connection, entry, session);
            return;
        }
        try
        {
            var body = _reads.Handle(request.Type, request.Body, connection, session.Id);
            Reply(connection, request, ErrorCode.Ok, body);
        }
        catch (KeeperException e)
        {
            Reply(connection, request, e.Code, null);
        }
        catch (JuteException e)
        {
            _log.LogWarning("Malformed {Type} request from {Remote}: {Reason}", request.Type, connection.RemoteAddress, e.Message);
            Reply(connection, request, ErrorCode.MarshallingError, null);
        }
    }

    /// <summary>Prepares a write here (standalone or leader): the one place a zxid is assigned.</summary>
    private void ProposeWrite(IClientConnection? connection, QueuedRequest? entry, PendingRequest request, long sessionId, IReadOnlyList<Id> authInfo,
        ErrorCode? refusal)
    {
        long zxid = NextZxid();
        long wallClock = WallClockMs;
        Txn body = refusal is null
            ? _preparer.Prepare(request.Type, request.Body, zxid, wallClock, sessionId, authInfo)
            : new ErrorTxn(refusal.Value);
        // A failed write still takes its zxid, logged as an error txn, as Apache's server does.
        var type = body is ErrorTxn ? OpCode.Error : request.Type == OpCode.Multi ? OpCode.Multi : body.Type;
        var header = new TxnHeader(sessionId, request.Xid, zxid, wallClock, (int)type);
        Propose(header, body, connection, request.Xid, request.Type, request.ReceivedAtMs, entry);
    }

    /// <summary>
    /// On a learner: the write goes to the leader as it came (no Prep here, since only the leader knows the
    /// changes still in flight), and its reply waits for the txn on the commit stream.
    /// </summary>
    private void ForwardWrite(IClientConnection connection, QueuedRequest entry, Session session, ErrorCode? replyError = null)
    {
        var request = entry.Request;
        if (request.Type == OpCode.CloseSession) Sessions.MarkClosing(session);
        _awaiting.Add(new Proposal(null, connection, session.Id, request.Xid, request.Type, request.ReceivedAtMs, entry, replyError));
        entry.InFlight = true;
        if (!LeaderLink.Forward(session.Id, request.Xid, request.Type, request.Body, connection.State.AuthInfo))
        {
            CloseConnection(connection, "lost the leader while forwarding a write");
        }
    }

    /// <summary>
    /// On a learner: sync goes to the leader, which answers once everything it committed before has been sent
    /// here; the reply then waits for those commits to be applied, and later reads of the session wait for it.
    /// </summary>
    private void ForwardSync(IClientConnection connection, QueuedRequest entry, Session session)
    {
        var request = entry.Request;
        _pendingSyncs.Enqueue((connection, entry));
        entry.InFlight = true;
        if (!LeaderLink.Forward(session.Id, request.Xid, OpCode.Sync, request.Body, connection.State.AuthInfo))
        {
            CloseConnection(connection, "lost the leader while forwarding a sync");
        }
    }

    /// <summary>On a learner: the leader's SYNC arrived after every commit it had; the oldest sync is answered.</summary>
    private void OnSynced()
    {
        if (!_pendingSyncs.TryDequeue(out var pending)) return;
        var (connection, entry) = pending;
        if (connection.State.Closed) return;
        TakeAnswered(connection, entry);
        Guarded(connection, () =>
        {
            var body = _reads.Handle(OpCode.Sync, entry.Request.Body, connection, connection.State.Session?.Id ?? 0);
            Reply(connection, entry.Request, ErrorCode.Ok, body);
            Advance(connection);
        });
    }

    /// <summary>
    /// On the leader: a learner forwarded one of its clients' requests. It is prepared as a local one would be,
    /// with the client's identities from the packet; the learner answers the client when the txn commits.
    /// </summary>
    private void OnForwardedRequest(ForwardedRequestWork work)
    {
        if (Mode != ServingMode.Leader) return;
        var now = NowMs;
        try
        {
            switch (work.Type)
            {
                case OpCode.CreateSession:
                {
                    int timeoutMs = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(work.Body);
                    Sessions.Add(work.SessionId, timeoutMs, now).OwnerServerId = work.LearnerId;
                    var header = new TxnHeader(work.SessionId, work.Cxid, NextZxid(), WallClockMs, (int)OpCode.CreateSession);
                    Propose(header, new CreateSessionTxn(timeoutMs), null, work.Cxid, OpCode.CreateSession, now);
                    return;
                }
                case OpCode.CloseSession:
                {
                    var session = Sessions.Get(work.SessionId);
                    if (session is null || session.IsClosing) ProposeError(work, ErrorCode.SessionExpired);
                    else if (WriteRefusal(session, live: true, work.LearnerId) is { } moved) ProposeError(work, moved);
                    else ProposeCloseSession(session, null, work.Cxid, now);
                    return;
                }
            }
            if (!IsWrite(work.Type))
            {
                _log.LogWarning("Learner {Learner} forwarded a {Type} request, which is not a write; ignored", work.LearnerId, work.Type);
                return;
            }
            var owned = Sessions.Get(work.SessionId);
            bool live = owned is not null && Sessions.Touch(owned.Id, owned.TimeoutMs, now);
            var refusal = owned is not null ? WriteRefusal(owned, live, work.LearnerId)
                : MayBeLocalSessionOfAnotherServer(work.SessionId) ? (ErrorCode?)null : ErrorCode.SessionExpired;
            ProposeWrite(null, null, new PendingRequest(work.Cxid, work.Type, work.Body, now), work.SessionId, work.AuthInfo, refusal);
        }
        catch (Exception e) when (e is JuteException or ArgumentOutOfRangeException)
        {
            _log.LogWarning("Malformed {Type} request forwarded by learner {Learner}: {Reason}", work.Type, work.LearnerId, e.Message);
            ProposeError(work, ErrorCode.MarshallingError);
        }
    }

    /// <summary>
    /// Why a write of this session may not be prepared, if it may not: the session expired, or (in an ensemble) it
    /// belongs to another server now, because its client moved there (Apache's SessionTracker.checkSession, which
    /// answers SESSIONMOVED so that a request still in flight from the old server cannot act after the move).
    /// A session nobody owns yet is taken by the server that asks.
    /// </summary>
    private ErrorCode? WriteRefusal(Session session, bool live, long fromServerId)
    {
        if (!live) return ErrorCode.SessionExpired;
        if (Mode != ServingMode.Leader) return null;
        if (session.OwnerServerId == 0) session.OwnerServerId = fromServerId;
        return session.OwnerServerId == fromServerId ? null : ErrorCode.SessionMoved;
    }

    /// <summary>A forwarded request that cannot be prepared still gets its answer through an error txn.</summary>
    private void ProposeError(ForwardedRequestWork work, ErrorCode error)
    {
        var header = new TxnHeader(work.SessionId, work.Cxid, NextZxid(), WallClockMs, (int)OpCode.Error);
        Propose(header, new ErrorTxn(error), null, work.Cxid, work.Type, NowMs);
    }
}
