using Microsoft.Extensions.Logging;
using Warden.Data;
using Warden.Protocol;
using Warden.Server.Security;
using Warden.Server.Sessions;

namespace Warden.Server.Processing;

// Connects, requests and commits: the path a packet takes through the loop.
public sealed partial class ServerCore
{
    private void OnConnect(ConnectWork work)
    {
        var connection = work.Connection;
        var request = work.Request;
        var state = connection.State;
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
        long sessionId = Sessions.NextSessionId();
        var session = Sessions.Add(sessionId, timeoutMs, NowMs);
        session.Owner = connection;
        connection.State.Session = session;
        connection.State.AwaitingSession = true;
        var header = new TxnHeader(sessionId, 0, NextZxid(), WallClockMs, (int)OpCode.CreateSession);
        Propose(header, new CreateSessionTxn(timeoutMs), connection, 0, OpCode.CreateSession, NowMs);
    }

    private void ReopenSession(IClientConnection connection, ConnectRequest request, int timeoutMs)
    {
        long sessionId = request.SessionId;
        var session = Sessions.Get(sessionId);
        if (session?.Owner is IClientConnection previous && !ReferenceEquals(previous, connection))
        {
            // The client moved to a new connection; the old one must stop receiving its watch events.
            CloseConnection(previous, "the session reconnected on another connection");
        }
        bool valid = SessionTracker.CheckPassword(sessionId, request.Password) && Sessions.Touch(sessionId, timeoutMs, NowMs);
        if (!valid)
        {
            _log.LogInformation("Invalid session 0x{Session:x} for client {Remote}, probably expired", sessionId, connection.RemoteAddress);
            SendConnectResponse(connection, new ConnectResponse(0, 0, 0, new byte[16], false));
            CloseConnection(connection, "invalid or expired session");
            return;
        }
        session!.Owner = connection;
        connection.State.Session = session;
        connection.State.EstablishedAtMs = NowMs;
        SendConnectResponse(connection, new ConnectResponse(0, timeoutMs, sessionId, SessionTracker.PasswordFor(sessionId), false));
    }

    private void SendConnectResponse(IClientConnection connection, ConnectResponse response)
    {
        _writer.Reset();
        _writer.BeginFrame();
        response.Write(_writer);
        _writer.EndFrame();
        connection.Send(_writer.ToArray());
    }

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
            // Without a SASL configuration Apache answers OK with an empty token and adds no identity.
            Reply(connection, request, ErrorCode.Ok, new SaslResponse(null), zxidOverride: 0);
            return;
        }
        var session = state.Session;
        if (session is null)
        {
            CloseConnection(connection, "request without a session");
            return;
        }
        bool live = Sessions.Touch(session.Id, session.TimeoutMs, NowMs);
        if (request.Type == OpCode.CloseSession)
        {
            if (live) ProposeCloseSession(session, connection, request.Xid, request.ReceivedAtMs);
            else Reply(connection, request, ErrorCode.SessionExpired, null);
            return;
        }
        if (IsWrite(request.Type))
        {
            ProposeWrite(connection, request, session, live);
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

    private void ProposeWrite(IClientConnection connection, PendingRequest request, Session session, bool live)
    {
        long zxid = NextZxid();
        long wallClock = WallClockMs;
        Txn body = live
            ? _preparer.Prepare(request.Type, request.Body, zxid, wallClock, session.Id, connection.State.AuthInfo)
            : new ErrorTxn(ErrorCode.SessionExpired);
        // A failed write still takes its zxid, logged as an error txn, as Apache's server does.
        var type = body is ErrorTxn ? OpCode.Error : request.Type == OpCode.Multi ? OpCode.Multi : body.Type;
        var header = new TxnHeader(session.Id, request.Xid, zxid, wallClock, (int)type);
        Propose(header, body, connection, request.Xid, request.Type, request.ReceivedAtMs);
    }

    private void HandleAuth(IClientConnection connection, PendingRequest request)
    {
        AuthPacket packet;
        try
        {
            var reader = new JuteReader(request.Body);
            packet = AuthPacket.Read(ref reader);
        }
        catch (JuteException e)
        {
            _log.LogWarning("Malformed auth packet from {Remote}: {Reason}", connection.RemoteAddress, e.Message);
            CloseConnection(connection, "malformed auth packet");
            return;
        }
        if (packet.Scheme == "digest" && packet.Auth is null)
        {
            // Apache's digest provider fails on a null buffer (zkCli's `addauth digest` with no credentials).
            _log.LogWarning("Digest auth from {Remote} carried no credentials", connection.RemoteAddress);
            Reply(connection, request with { Xid = Xids.Auth }, ErrorCode.AuthFailed, null, zxidOverride: 0);
            CloseConnection(connection, "authentication failed for scheme digest: no credentials");
            return;
        }
        if (packet is { Scheme: "digest", Auth: { } credentials })
        {
            string digest = AuthProviders.DigestOf(System.Text.Encoding.UTF8.GetString(credentials));
            if (_settings.SuperDigest is not null && digest == _settings.SuperDigest) AuthInfoSet.Add(connection.State.AuthInfo, new Id("super", ""));
            AuthInfoSet.Add(connection.State.AuthInfo, new Id("digest", digest));
            _log.LogInformation("Session {Session}: auth success for scheme digest and address {Remote}", connection.State.Session, connection.RemoteAddress);
            Reply(connection, request with { Xid = Xids.Auth }, ErrorCode.Ok, null, zxidOverride: 0);
            return;
        }
        if (packet.Scheme == "ip")
        {
            AuthInfoSet.Add(connection.State.AuthInfo, new Id("ip", connection.RemoteAddress));
            Reply(connection, request with { Xid = Xids.Auth }, ErrorCode.Ok, null, zxidOverride: 0);
            return;
        }
        _log.LogWarning("No authentication provider for scheme {Scheme} from {Remote}; known schemes are digest and ip",
            packet.Scheme, connection.RemoteAddress);
        Reply(connection, request with { Xid = Xids.Auth }, ErrorCode.AuthFailed, null, zxidOverride: 0);
        CloseConnection(connection, $"authentication failed for scheme {packet.Scheme}");
    }

    private void OnCommit(long zxid)
    {
        if (!_inFlight.TryDequeue(out var proposal) || proposal.Txn.Header.Zxid != zxid)
        {
            throw new InvariantViolationException($"commit of 0x{zxid:x} does not match the oldest proposal in flight");
        }
        var header = proposal.Txn.Header;
        var result = Tree.Apply(header, proposal.Txn.Body);
        _preparer.Pending.OnApplied(zxid);
        var connection = proposal.Connection;
        switch (proposal.RequestType)
        {
            case OpCode.CreateSession:
                OnSessionCreated(connection, header.ClientId);
                return;
            case OpCode.CloseSession:
                OnSessionClosed(proposal, header.ClientId);
                return;
        }
        if (connection is null || connection.State.Closed) return;
        connection.State.PendingWrites--;
        var request = new PendingRequest(proposal.Xid, proposal.RequestType, [], proposal.ReceivedAtMs);
        // The txn is applied whatever happens next; a fault while answering costs only this connection.
        Guarded(connection, () =>
        {
            if (header.OpCode == OpCode.Error) Reply(connection, request, result.Error, null);
            else if (result.Error != ErrorCode.Ok && header.OpCode != OpCode.Multi) Reply(connection, request, result.Error, null);
            else Reply(connection, request, ErrorCode.Ok, WriteReplyBody(proposal.RequestType, result));
            DrainWaiting(connection);
        });
    }

    private void OnSessionCreated(IClientConnection? connection, long sessionId)
    {
        if (connection is null || connection.State.Closed) return;
        connection.State.AwaitingSession = false;
        connection.State.EstablishedAtMs = NowMs;
        SendConnectResponse(connection,
            new ConnectResponse(0, connection.State.NegotiatedTimeoutMs, sessionId, SessionTracker.PasswordFor(sessionId), false));
        DrainWaiting(connection);
    }

    private void OnSessionClosed(Proposal proposal, long sessionId)
    {
        var owner = Sessions.Get(sessionId)?.Owner as IClientConnection;
        Sessions.Remove(sessionId);
        var connection = proposal.Connection;
        if (connection is not null && !connection.State.Closed)
        {
            connection.State.PendingWrites--;
            Reply(connection, new PendingRequest(proposal.Xid, OpCode.CloseSession, [], proposal.ReceivedAtMs), ErrorCode.Ok, null);
            CloseConnection(connection, "the client closed its session");
        }
        if (owner is not null && !ReferenceEquals(owner, connection)) CloseConnection(owner, "the session expired");
    }

    private static IJuteRecord? WriteReplyBody(OpCode requestType, ApplyResult result) => requestType switch
    {
        OpCode.Create => new CreateResponse(result.Path!),
        OpCode.Create2 or OpCode.CreateTtl or OpCode.CreateContainer => new Create2Response(result.Path!, result.Stat!.Value),
        OpCode.SetData or OpCode.SetAcl => new StatResponse(result.Stat!.Value),
        OpCode.Multi => MultiReplyBody(result),
        _ => null,
    };

    private static MultiResponse MultiReplyBody(ApplyResult result)
    {
        var results = new List<(OpCode, IJuteRecord?)>();
        foreach (var sub in result.MultiResults ?? [])
        {
            results.Add(sub.Type switch
            {
                OpCode.Create => (OpCode.Create, new CreateResponse(sub.Path!)),
                OpCode.Create2 or OpCode.CreateTtl or OpCode.CreateContainer => (sub.Type, new Create2Response(sub.Path!, sub.Stat!.Value)),
                OpCode.SetData => (OpCode.SetData, new StatResponse(sub.Stat!.Value)),
                OpCode.Delete or OpCode.Check => (sub.Type, null),
                _ => (OpCode.Error, new ErrorResponse((int)sub.Error)),
            });
        }
        return new MultiResponse(results);
    }

    private void Reply(IClientConnection connection, PendingRequest request, ErrorCode error, IJuteRecord? body, long? zxidOverride = null)
    {
        var state = connection.State;
        long zxid = zxidOverride ?? Tree.LastProcessedZxid;
        SendFrame(connection, new ReplyHeader(request.Xid, zxid, (int)error), error == ErrorCode.Ok ? body : null);
        long latency = Math.Max(0, NowMs - request.ReceivedAtMs);
        state.RecordLatency(latency);
        Stats.RecordLatency(latency);
        state.LastCxid = request.Xid;
        state.LastZxid = zxid;
        state.LastOperation = OperationName(request.Type);
        state.LastResponseAtMs = NowMs;
        connection.RequestCompleted();
    }

    private void SendFrame(IClientConnection connection, ReplyHeader header, IJuteRecord? body)
    {
        _writer.Reset();
        _writer.BeginFrame();
        header.Write(_writer);
        body?.Write(_writer);
        _writer.EndFrame();
        connection.Send(_writer.ToFrame());
        connection.State.PacketsSent++;
        Stats.PacketsSent++;
    }

    /// <summary>The four-letter operation names Apache shows in cons output.</summary>
    private static string OperationName(OpCode type) => type switch
    {
        OpCode.Ping => "PING", OpCode.Create or OpCode.Create2 or OpCode.CreateTtl or OpCode.CreateContainer => "CREA",
        OpCode.Delete => "DELE", OpCode.SetData => "SETD", OpCode.SetAcl => "SETA", OpCode.GetAcl => "GETA",
        OpCode.Exists => "EXIS", OpCode.GetData => "GETD", OpCode.GetChildren or OpCode.GetChildren2 => "GETC",
        OpCode.Sync => "SYNC", OpCode.Multi => "MULT", OpCode.MultiRead => "MLTR", OpCode.CloseSession => "CLOS",
        OpCode.SetWatches => "SETW", OpCode.SetWatches2 => "STW2", OpCode.Check => "CHEC", OpCode.AddWatch => "ADDW",
        OpCode.CheckWatches => "CHKW", OpCode.RemoveWatches => "REMW", OpCode.WhoAmI => "HOMI",
        OpCode.GetEphemerals => "GETE", OpCode.GetAllChildrenNumber => "GETACN", OpCode.Auth => "AUTH",
        _ => "NA",
    };
}
