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
    private readonly Queue<(IClientConnection Connection, PendingRequest Request)> _pendingSyncs = new();

    private void OnRequest(RequestWork work)
    {
        var connection = work.Connection;
        var state = connection.State;
        if (state.Closed) return;
        state.PacketsReceived++;
        Stats.PacketsReceived++;
        var pending = new PendingRequest(work.Xid, work.Type, work.Body, work.ReceivedAtMs);
        if (MustWait(state, work.Type))
        {
            state.Waiting.Enqueue(pending);
            return;
        }
        Dispatch(connection, pending);
    }

    /// <summary>
    /// A request waits while the session is being created, behind anything already waiting, and (unless it is a
    /// write or auth) while its session has writes not yet applied, so that it sees them (ordering rule 3).
    /// </summary>
    private static bool MustWait(ConnectionState state, OpCode type) =>
        state.AwaitingSession || state.Waiting.Count > 0 || (state.PendingWrites > 0 && !IsWrite(type) && type is not (OpCode.Auth or OpCode.Sasl));

    private void DrainWaiting(IClientConnection connection)
    {
        var state = connection.State;
        while (state.Waiting.Count > 0 && !state.AwaitingSession && !state.Closed)
        {
            var next = state.Waiting.Peek();
            if (state.PendingWrites > 0 && !IsWrite(next.Type) && next.Type is not (OpCode.Auth or OpCode.Sasl)) return;
            state.Waiting.Dequeue();
            Guarded(connection, () => Dispatch(connection, next));
        }
    }

    public static bool IsWrite(OpCode type) => type is OpCode.Create or OpCode.Create2 or OpCode.CreateContainer
        or OpCode.CreateTtl or OpCode.Delete or OpCode.SetData or OpCode.SetAcl or OpCode.Check or OpCode.Multi
        or OpCode.CloseSession or OpCode.Reconfig;

    private void Dispatch(IClientConnection connection, PendingRequest request)
    {
        var state = connection.State;
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
        bool live = TouchSession(session);
        if (request.Type == OpCode.CloseSession)
        {
            if (!live) Reply(connection, request, ErrorCode.SessionExpired, null);
            else if (PreparesWrites && WriteRefusal(session, live, _settings.ServerId) is { } refusal) ProposeWrite(connection, request, session.Id, connection.State.AuthInfo, refusal);
            else if (PreparesWrites) ProposeCloseSession(session, connection, request.Xid, request.ReceivedAtMs);
            else ForwardWrite(connection, request, session);
            return;
        }
        if (IsWrite(request.Type))
        {
            if (PreparesWrites) ProposeWrite(connection, request, session.Id, connection.State.AuthInfo, WriteRefusal(session, live, _settings.ServerId));
            else ForwardWrite(connection, request, session);
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
            ForwardSync(connection, request, session);
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
    private void ProposeWrite(IClientConnection? connection, PendingRequest request, long sessionId, IReadOnlyList<Id> authInfo, ErrorCode? refusal)
    {
        long zxid = NextZxid();
        long wallClock = WallClockMs;
        Txn body = refusal is null
            ? _preparer.Prepare(request.Type, request.Body, zxid, wallClock, sessionId, authInfo)
            : new ErrorTxn(refusal.Value);
        // A failed write still takes its zxid, logged as an error txn, as Apache's server does.
        var type = body is ErrorTxn ? OpCode.Error : request.Type == OpCode.Multi ? OpCode.Multi : body.Type;
        var header = new TxnHeader(sessionId, request.Xid, zxid, wallClock, (int)type);
        Propose(header, body, connection, request.Xid, request.Type, request.ReceivedAtMs);
    }

    /// <summary>
    /// On a learner: the write goes to the leader as it came (no Prep here, since only the leader knows the
    /// changes still in flight), and its reply waits for the txn on the commit stream.
    /// </summary>
    private void ForwardWrite(IClientConnection connection, PendingRequest request, Session session)
    {
        if (request.Type == OpCode.CloseSession) Sessions.MarkClosing(session);
        _awaiting.Add(new Proposal(null, connection, session.Id, request.Xid, request.Type, request.ReceivedAtMs));
        connection.State.PendingWrites++;
        if (!LeaderLink.Forward(session.Id, request.Xid, request.Type, request.Body, connection.State.AuthInfo))
        {
            CloseConnection(connection, "lost the leader while forwarding a write");
        }
    }

    /// <summary>
    /// On a learner: sync goes to the leader, which answers once everything it committed before has been sent
    /// here; the reply then waits for those commits to be applied, and later reads of the session wait for it.
    /// </summary>
    private void ForwardSync(IClientConnection connection, PendingRequest request, Session session)
    {
        _pendingSyncs.Enqueue((connection, request));
        connection.State.PendingWrites++;
        if (!LeaderLink.Forward(session.Id, request.Xid, OpCode.Sync, request.Body, connection.State.AuthInfo))
        {
            CloseConnection(connection, "lost the leader while forwarding a sync");
        }
    }

    /// <summary>On a learner: the leader's SYNC arrived after every commit it had; the oldest sync is answered.</summary>
    private void OnSynced()
    {
        if (!_pendingSyncs.TryDequeue(out var pending)) return;
        var (connection, request) = pending;
        if (connection.State.Closed) return;
        connection.State.PendingWrites--;
        Guarded(connection, () =>
        {
            var body = _reads.Handle(OpCode.Sync, request.Body, connection, connection.State.Session?.Id ?? 0);
            Reply(connection, request, ErrorCode.Ok, body);
            DrainWaiting(connection);
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
            var refusal = owned is null ? ErrorCode.SessionExpired : WriteRefusal(owned, live, work.LearnerId);
            ProposeWrite(null, new PendingRequest(work.Cxid, work.Type, work.Body, now), work.SessionId, work.AuthInfo, refusal);
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
