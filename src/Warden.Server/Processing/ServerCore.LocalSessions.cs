using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Warden.Data;
using Warden.Protocol;
using Warden.Server.Sessions;

namespace Warden.Server.Processing;

// Local sessions (localSessionsEnabled), as Apache 3.8's UpgradeableSessionTracker and its leader and learner forms
// keep them. A new session is local to the server it connected to: no createSession txn, nothing replicated, kept
// alive and expired by that server alone, and closed without a txn. Only this server knows it, so reconnecting it to
// another member finds it invalid (that member asks the leader, which knows only global sessions). Its writes go
// through the leader like any other; the leader prepares writes of a session it does not know when the session's id
// names another server, since that server vouches for it. An ephemeral node needs a global session (its owner must
// outlive this server's view of it): with localSessionsUpgradingEnabled the first ephemeral create (create, create2,
// or a multi holding one) first sends a createSession for the same id through the leader, and the session is global
// from then on; without it the create fails with EPHEMERALONLOCALSESSION. A read-only server serves clients only
// with local sessions, which is what lets a member cut off from its quorum serve anyone at all.
public sealed partial class ServerCore
{
    /// <summary>This server's local sessions; empty unless localSessionsEnabled. Replaced whenever the mode changes.</summary>
    public SessionTracker LocalSessions { get; private set; } = null!;

    private bool MakesLocalSessions => _settings.LocalSessionsEnabled && Mode is not (ServingMode.Standalone or ServingMode.NotServing);

    private SessionTracker NewLocalSessionTracker() => new(_settings.TickTimeMs, _settings.ServerId, NowMs);

    /// <summary>A local session answers its client at once: there is nothing to commit.</summary>
    private void CreateLocalSession(IClientConnection connection, int timeoutMs)
    {
        long sessionId = Sessions.NextSessionId();
        var session = LocalSessions.Add(sessionId, timeoutMs, NowMs);
        session.IsLocal = true;
        session.Owner = connection;
        if (Mode == ServingMode.Leader) session.OwnerServerId = _settings.ServerId;
        var state = connection.State;
        state.Session = session;
        state.AwaitingSession = false;
        state.EstablishedAtMs = NowMs;
        _log.LogInformation("Established local session 0x{Session:x} with negotiated timeout {TimeoutMs} for client {Remote}",
            sessionId, timeoutMs, connection.RemoteAddress);
        SendConnectResponse(connection,
            new ConnectResponse(0, timeoutMs, sessionId, SessionTracker.PasswordFor(sessionId), Mode == ServingMode.ReadOnly));
        Advance(connection);
    }

    /// <summary>
    /// Resumes one of this server's own local sessions, if the id names one; returns false for any other session,
    /// which the caller handles as a global one.
    /// </summary>
    private bool TryReopenLocalSession(IClientConnection connection, ConnectRequest request, int timeoutMs)
    {
        var session = LocalSessions.Get(request.SessionId);
        if (session is null || session.IsClosing) return false;
        if (session.Owner is IClientConnection previous && !ReferenceEquals(previous, connection))
        {
            // As for a global session: the old connection must stop receiving the session's watch events.
            CloseConnection(previous, "the session reconnected on another connection");
        }
        bool valid = SessionTracker.CheckPassword(session.Id, request.Password) && LocalSessions.Touch(session.Id, timeoutMs, NowMs);
        if (valid) session.TimeoutMs = timeoutMs;
        FinishReopen(connection, session.Id, timeoutMs, valid, session);
        return true;
    }

    /// <summary>Apache's closeSession of a local session: no txn; the reply carries the last applied zxid.</summary>
    private void CloseLocalSession(IClientConnection connection, PendingRequest request, Session session)
    {
        _log.LogInformation("Submitting local closeSession request for session 0x{Session:x}", session.Id);
        LocalSessions.Remove(session.Id);
        session.IsClosing = true;
        Reply(connection, request, ErrorCode.Ok, null);
        CloseConnection(connection, "the client closed its session");
    }

    /// <summary>Local sessions expire here, on whatever kind of member; their connections close.</summary>
    private void ExpireLocalSessions()
    {
        if (LocalSessions.Count == 0) return;
        foreach (var session in LocalSessions.TakeExpired(NowMs))
        {
            _log.LogInformation("Expiring session {Session}, timeout of {TimeoutMs}ms exceeded", session, session.TimeoutMs);
            _log.LogInformation("Submitting local closeSession request for session 0x{Session:x}", session.Id);
            LocalSessions.Remove(session.Id);
            if (session.Owner is IClientConnection owner) CloseConnection(owner, "the session expired");
        }
    }

    /// <summary>
    /// Before a local session's write is prepared or forwarded: an ephemeral create needs a global session (Apache's
    /// checkUpgradeSession). Returns the error the client must get in place of the txn's own outcome, if any: on a
    /// learner with upgrading off, a create answers EPHEMERALONLOCALSESSION although the leader, which does not know
    /// the session, logs it as SESSIONEXPIRED; a multi is answered from its txn, as Apache answers it.
    /// </summary>
    private ErrorCode? CheckUpgrade(IClientConnection connection, PendingRequest request, Session session)
    {
        if (!session.IsLocal || !CreatesEphemeral(request)) return null;
        if (_settings.LocalSessionsUpgradingEnabled)
        {
            UpgradeSession(connection, session);
            return null;
        }
        _log.LogWarning("Refusing an ephemeral node to local session 0x{Session:x} (localSessionsUpgradingEnabled is off): EPHEMERALONLOCALSESSION",
            session.Id);
        return PreparesWrites || request.Type == OpCode.Multi ? null : ErrorCode.EphemeralOnLocalSession;
    }

    /// <summary>create and create2 with an ephemeral mode, or a multi holding such a create: what Apache upgrades on.</summary>
    private static bool CreatesEphemeral(PendingRequest request)
    {
        try
        {
            var reader = new JuteReader(request.Body);
            switch (request.Type)
            {
                case OpCode.Create or OpCode.Create2:
                    return IsEphemeral(CreateRequest.Read(ref reader, withTtl: false).Flags);
                case OpCode.Multi:
                    foreach (var op in MultiOperation.Read(ref reader))
                    {
                        if (op.Type is OpCode.Create or OpCode.Create2 && op.Request is CreateRequest create && IsEphemeral(create.Flags)) return true;
                    }
                    return false;
                default:
                    return false;
            }
        }
        catch (JuteException)
        {
            // A malformed request is refused by the preparer with its own error; there is nothing to upgrade for.
            return false;
        }
    }

    private static bool IsEphemeral(int flags) => (CreateMode)flags is CreateMode.Ephemeral or CreateMode.EphemeralSequential;

    /// <summary>
    /// Makes a local session global under the same id: a createSession (cxid 0) goes to the leader ahead of the write
    /// that needed it. From now on the session is kept alive and expired as a global one; the client sees nothing.
    /// </summary>
    private void UpgradeSession(IClientConnection connection, Session session)
    {
        _log.LogInformation("Upgrading session 0x{Session:x}", session.Id);
        LocalSessions.Remove(session.Id);
        session.IsLocal = false;
        Sessions.Adopt(session, NowMs);
        if (PreparesWrites)
        {
            session.OwnerServerId = _settings.ServerId;
            var header = new TxnHeader(session.Id, 0, NextZxid(), WallClockMs, (int)OpCode.CreateSession);
            Propose(header, new CreateSessionTxn(session.TimeoutMs), connection: null, 0, OpCode.CreateSession, NowMs);
            return;
        }
        var body = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(body, session.TimeoutMs);
        lock (_touched) _touched[session.Id] = session.TimeoutMs;
        if (!LeaderLink.Forward(session.Id, 0, OpCode.CreateSession, body, connection.State.AuthInfo))
        {
            CloseConnection(connection, "no leader to upgrade the session");
        }
    }

    /// <summary>
    /// On the leader, for the preparer: whether a session may own an ephemeral node. Apache's checkGlobalSession: the
    /// leader's own local session may not, and neither may one no global tracker knows (a learner's local session).
    /// </summary>
    private ErrorCode? EphemeralOwnerRefusal(long sessionId)
    {
        if (LocalSessions.Get(sessionId) is not null) return ErrorCode.EphemeralOnLocalSession;
        return Sessions.Get(sessionId) is null ? ErrorCode.SessionExpired : null;
    }

    /// <summary>
    /// On the leader: a write forwarded for a session no global tracker knows is prepared anyway when local sessions
    /// are on and the id names another server (Apache's LeaderSessionTracker.checkSession: it may be that server's local
    /// session); one naming this server, which would know it, has expired.
    /// </summary>
    private bool MayBeLocalSessionOfAnotherServer(long sessionId) =>
        _settings.LocalSessionsEnabled && (sessionId >> 56) != _settings.ServerId;

    /// <summary>Read-only members answer every write and sync NOTREADONLY (Apache's ReadOnlyRequestProcessor).</summary>
    private static bool RefusedWhenReadOnly(OpCode type) => (IsWrite(type) && type != OpCode.CloseSession) || type == OpCode.Sync;
}
