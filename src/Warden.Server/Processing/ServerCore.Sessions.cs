using Microsoft.Extensions.Logging;
using Warden.Data;
using Warden.Protocol;
using Warden.Server.Replication;
using Warden.Server.Security;
using Warden.Server.Sessions;

namespace Warden.Server.Processing;

// Sessions: connecting, creating, resuming (locally, or by asking the leader), keeping alive and closing.
public sealed partial class ServerCore
{
    /// <summary>Connections of a learner waiting for the leader's answer about the session they resume.</summary>
    private readonly Dictionary<long, (IClientConnection Connection, int TimeoutMs)> _revalidating = [];

    /// <summary>Sessions a learner's clients kept alive since the last PING reply, with their timeouts.</summary>
    private readonly Dictionary<long, int> _touched = [];

    private void OnConnect(ConnectWork work)
    {
        var connection = work.Connection;
        var request = work.Request;
        var state = connection.State;
        if (!Serving)
        {
            // Apache closes connections while its ZooKeeperServer is not running (no leader yet, or syncing).
            _log.LogDebug("Refusing client {Remote}: the server is not serving (no leader yet)", connection.RemoteAddress);
            connection.Close("the server is not serving yet (no leader)");
            state.Closed = true;
            return;
        }
        if (!PassesConnectionThrottle(connection, request.SessionId != 0))
        {
            connection.Close("the connection throttle is out of tokens");
            state.Closed = true;
            return;
        }
        // Counted once past the throttle, as Apache counts connection_request_count (a refusal is connection_rejected).
        Stats.ConnectionRequests++;
        if (Mode == ServingMode.ReadOnly && !request.ReadOnly)
        {
            _log.LogInformation("Refusing session request for not-read-only client {Remote}: this server is read-only until it rejoins a quorum",
                connection.RemoteAddress);
            connection.Close("a read-write client on a read-only server");
            state.Closed = true;
            return;
        }
        _connections[connection.ConnectionId] = connection;
        AuthInfoSet.Add(state.AuthInfo, new Id("ip", connection.RemoteAddress));

        if (request.LastZxidSeen > Tree.LastProcessedZxid)
        {
            _log.LogInformation(
                "Refusing session request for client {Remote} as it has seen zxid 0x{ClientZxid:x} our last zxid is 0x{ServerZxid:x} client must try another server",
                connection.RemoteAddress, request.LastZxidSeen, Tree.LastProcessedZxid);
            CloseConnection(connection, "client has seen a newer zxid");
            return;
        }

        int timeoutMs = Math.Clamp(request.TimeoutMs, _settings.MinSessionTimeoutMs, _settings.MaxSessionTimeoutMs);
        state.NegotiatedTimeoutMs = timeoutMs;
        if (request.SessionId == 0)
        {
            CreateSession(connection, timeoutMs);
        }
        else
        {
            ReopenSession(connection, request, timeoutMs);
        }
    }

    private void CreateSession(IClientConnection connection, int timeoutMs)
    {
        if (MakesLocalSessions)
        {
            CreateLocalSession(connection, timeoutMs);
            return;
        }
        if (Mode == ServingMode.ReadOnly)
        {
            // Apache's read-only server answers a new global session NOTREADONLY in place of a connect response, which
            // no client can read; only a local session could be made here.
            _log.LogInformation("Refusing global session request in RO mode {Remote}: a read-only server makes only local sessions, and localSessionsEnabled is off",
                connection.RemoteAddress);
            CloseConnection(connection, "a new global session on a read-only server");
            return;
        }
        long sessionId = Sessions.NextSessionId();
        connection.State.AwaitingSession = true;
        if (!PreparesWrites)
        {
            // A learner names the session (its id carries this server's id) and forwards its creation; the leader
            // makes the txn, and the commit answers the client here.
            _awaiting.Add(new Proposal(null, connection, sessionId, 0, OpCode.CreateSession, NowMs));
            var body = new byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(body, timeoutMs);
            if (!LeaderLink.Forward(sessionId, 0, OpCode.CreateSession, body, connection.State.AuthInfo))
            {
                CloseConnection(connection, "no leader to create the session");
            }
            return;
        }
        var session = Sessions.Add(sessionId, timeoutMs, NowMs);
        session.Owner = connection;
        if (Mode == ServingMode.Leader) session.OwnerServerId = _settings.ServerId;
        connection.State.Session = session;
        var header = new TxnHeader(sessionId, 0, NextZxid(), WallClockMs, (int)OpCode.CreateSession);
        Propose(header, new CreateSessionTxn(timeoutMs), connection, 0, OpCode.CreateSession, NowMs);
    }

    private ILeaderLink LeaderLink => _replicator as ILeaderLink
        ?? throw new InvalidOperationException($"a server in mode {Mode} needs a replicator that reaches the leader");

    private void ReopenSession(IClientConnection connection, ConnectRequest request, int timeoutMs)
    {
        long sessionId = request.SessionId;
        if (MakesLocalSessions && TryReopenLocalSession(connection, request, timeoutMs)) return;
        if (Mode == ServingMode.ReadOnly && _settings.LocalSessionsEnabled && Sessions.Get(sessionId) is null)
        {
            // Neither a local session of this read-only server nor a global one it knew: invalid, as Apache answers.
            FinishReopen(connection, sessionId, timeoutMs, valid: false);
            return;
        }
        if (Mode == ServingMode.ReadOnly)
        {
            // As Apache 3.8: the quorum may go on without this server and expire the session (and its ephemeral
            // nodes, the locks they stand for) while its client would believe it alive here.
            _log.LogInformation("Refusing global session reconnection in RO mode {Remote}: the quorum, not this cut-off server, decides whether session 0x{Session:x} lives",
                connection.RemoteAddress, sessionId);
            CloseConnection(connection, "a global session on a read-only server");
            return;
        }
        var session = Sessions.Get(sessionId);
        if (session?.Owner is IClientConnection previous && !ReferenceEquals(previous, connection))
        {
            // The client moved to a new connection; the old one must stop receiving its watch events.
            CloseConnection(previous, "the session reconnected on another connection");
        }
        if (!PreparesWrites && SessionTracker.CheckPassword(sessionId, request.Password))
        {
            // Only the leader knows whether a global session is still alive (Apache's REVALIDATE).
            if (_revalidating.Remove(sessionId, out var waiting)) CloseConnection(waiting.Connection, "the session reconnected on another connection");
            _revalidating[sessionId] = (connection, timeoutMs);
            connection.State.AwaitingSession = true;
            if (!LeaderLink.Revalidate(sessionId, timeoutMs)) OnRevalidated(new RevalidatedWork(sessionId, false));
            return;
        }
        bool valid = SessionTracker.CheckPassword(sessionId, request.Password) && Sessions.Touch(sessionId, timeoutMs, NowMs);
        FinishReopen(connection, sessionId, timeoutMs, valid);
    }

    private void FinishReopen(IClientConnection connection, long sessionId, int timeoutMs, bool valid, Session? local = null)
    {
        if (!valid)
        {
            _log.LogInformation("Invalid session 0x{Session:x} for client {Remote}, probably expired", sessionId, connection.RemoteAddress);
            SendConnectResponse(connection, new ConnectResponse(0, 0, 0, new byte[16], false));
            CloseConnection(connection, "invalid or expired session");
            return;
        }
        // A learner may not have seen the session's creation committed yet (it was made through another server).
        var session = local ?? Sessions.Get(sessionId) ?? Sessions.Add(sessionId, timeoutMs, NowMs);
        session.Owner = connection;
        if (Mode == ServingMode.Leader) session.OwnerServerId = _settings.ServerId;
        connection.State.Session = session;
        connection.State.AwaitingSession = false;
        connection.State.EstablishedAtMs = NowMs;
        SendConnectResponse(connection,
            new ConnectResponse(0, timeoutMs, sessionId, SessionTracker.PasswordFor(sessionId), Mode == ServingMode.ReadOnly));
        Advance(connection);
    }

    /// <summary>On a learner: the leader answered a REVALIDATE.</summary>
    private void OnRevalidated(RevalidatedWork work)
    {
        if (!_revalidating.Remove(work.SessionId, out var waiting) || waiting.Connection.State.Closed) return;
        Guarded(waiting.Connection, () => FinishReopen(waiting.Connection, work.SessionId, waiting.TimeoutMs, work.Valid));
    }

    /// <summary>On the leader: a learner's client resumed a session there; it is valid if it has not expired.</summary>
    private void OnRevalidate(RevalidateWork work)
    {
        bool valid = Mode == ServingMode.Leader && Sessions.Touch(work.SessionId, work.TimeoutMs, NowMs);
        if (valid) Sessions.Get(work.SessionId)!.OwnerServerId = work.LearnerId;
        if (valid && Sessions.Get(work.SessionId) is { Owner: IClientConnection local })
        {
            // The client left this server for the learner: the old connection must not take its events any more.
            CloseConnection(local, "the session moved to another server");
        }
        work.Answer(valid);
    }

    /// <summary>Keeps a session alive: here, or (on a learner) in the table its next PING reply carries.</summary>
    private bool TouchSession(Session session)
    {
        if (session.IsLocal) return LocalSessions.Touch(session.Id, session.TimeoutMs, NowMs);
        if (PreparesWrites) return Sessions.Touch(session.Id, session.TimeoutMs, NowMs);
        if (session.IsClosing) return false;
        lock (_touched) _touched[session.Id] = session.TimeoutMs;
        return true;
    }

    /// <summary>Takes the sessions touched since the last call: the body of a learner's PING reply. Thread-safe.</summary>
    public List<(long SessionId, int TimeoutMs)> TakeTouchedSessions()
    {
        lock (_touched)
        {
            var taken = _touched.Select(pair => (pair.Key, pair.Value)).ToList();
            _touched.Clear();
            return taken;
        }
    }

    private void SendConnectResponse(IClientConnection connection, ConnectResponse response)
    {
        _writer.Reset();
        _writer.BeginFrame();
        response.Write(_writer);
        _writer.EndFrame();
        connection.Send(_writer.ToArray());
    }

    private void ProposeCloseSession(Session session, IClientConnection? connection, int xid, long receivedAtMs, QueuedRequest? entry = null)
    {
        Sessions.MarkClosing(session);
        long zxid = NextZxid();
        var body = _preparer.PrepareCloseSession(session.Id, zxid);
        var header = new TxnHeader(session.Id, xid, zxid, WallClockMs, (int)OpCode.CloseSession);
        Propose(header, body, connection, xid, OpCode.CloseSession, receivedAtMs, entry);
    }

    /// <summary>A committed createSession: every server tracks every session, so any of them can lead later.</summary>
    private void OnSessionCreated(Proposal? proposal, long sessionId, int timeoutMs)
    {
        var session = Sessions.Get(sessionId) ?? Sessions.Add(sessionId, timeoutMs, NowMs);
        var connection = proposal?.Connection;
        if (connection is null || connection.State.Closed) return;
        session.Owner = connection;
        connection.State.Session = session;
        connection.State.AwaitingSession = false;
        connection.State.EstablishedAtMs = NowMs;
        SendConnectResponse(connection,
            new ConnectResponse(0, connection.State.NegotiatedTimeoutMs, sessionId, SessionTracker.PasswordFor(sessionId), false));
        Advance(connection);
    }

    private void OnSessionClosed(Proposal? proposal, long sessionId)
    {
        var owner = Sessions.Get(sessionId)?.Owner as IClientConnection;
        Sessions.Remove(sessionId);
        var connection = proposal?.Connection;
        if (connection is not null && !connection.State.Closed)
        {
            TakeAnswered(connection, proposal!.Entry);
            Reply(connection, new PendingRequest(proposal!.Xid, OpCode.CloseSession, [], proposal.ReceivedAtMs), ErrorCode.Ok, null);
            CloseConnection(connection, "the client closed its session");
        }
        if (owner is not null && !ReferenceEquals(owner, connection)) CloseConnection(owner, "the session expired");
    }
}
