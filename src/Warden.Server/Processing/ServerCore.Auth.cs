using Microsoft.Extensions.Logging;
using Warden.Protocol;
using Warden.Protocol.Sasl;
using Warden.Server.Security;

namespace Warden.Server.Processing;

// Authentication: addauth packets (digest, ip), SASL (DIGEST-MD5) exchanges, what identities a connection gains
// from them, and the enforcement that makes a connection authenticate before anything else.
public sealed partial class ServerCore
{
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

    /// <summary>
    /// One SASL request (opcode 102, GetSASLRequest{token}) answered with SetSASLResponse{token}, zxid 0, as
    /// Apache's ZooKeeperServer.processSasl does. Without a JAAS Server section there is nothing to check the
    /// token against and Apache answers OK with no token; with one, the connection runs a DIGEST-MD5 exchange.
    /// A failed exchange is answered AUTHFAILED (SESSIONCLOSEDREQUIRESASLAUTH when SASL is enforced) and the
    /// connection is closed; the session is left to expire, as Apache leaves it. allowSaslFailedClients keeps
    /// the connection open instead, unauthenticated, unless SASL is enforced.
    /// </summary>
    private void HandleSasl(IClientConnection connection, PendingRequest request)
    {
        var auth = _settings.Authentication;
        byte[] clientToken;
        try
        {
            var reader = new JuteReader(request.Body);
            clientToken = SaslRequest.Read(ref reader).Token ?? [];
        }
        catch (JuteException e)
        {
            _log.LogWarning("Malformed SASL request from {Remote}: {Reason}", connection.RemoteAddress, e.Message);
            CloseConnection(connection, "malformed SASL request");
            return;
        }
        if (auth.SaslUsers is null)
        {
            Reply(connection, request, ErrorCode.Ok, new SaslResponse(null), zxidOverride: 0);
            return;
        }
        var exchange = connection.State.SaslExchange ??= new DigestMd5Server(auth.PasswordOf);
        byte[] serverToken;
        try
        {
            serverToken = exchange.Evaluate(clientToken);
        }
        catch (SaslException e)
        {
            _log.LogWarning("Client {Remote} failed to SASL authenticate: {Reason}", connection.RemoteAddress, e.Message);
            connection.State.SaslExchange = null;
            if (auth.AllowSaslFailedClients && !auth.SaslRequired)
            {
                _log.LogWarning("Maintaining client connection despite SASL authentication failure (allowSaslFailedClients=true)");
                Reply(connection, request, ErrorCode.Ok, new SaslResponse(null), zxidOverride: 0);
                return;
            }
            var error = auth.SaslRequired ? ErrorCode.SessionClosedRequireSaslAuth : ErrorCode.AuthFailed;
            _log.LogWarning("Closing client connection due to SASL authentication failure{Required}",
                auth.SaslRequired ? " (the server requires SASL authentication)" : "");
            // Apache sends the (empty) response record even with the error code; clients read only the header.
            SendFrame(connection, new ReplyHeader(request.Xid, 0, (int)error), new SaslResponse(null));
            if (error == ErrorCode.AuthFailed) Stats.AuthFailures++;
            Answered(connection);
            CloseConnection(connection, "SASL authentication failed");
            return;
        }
        if (exchange.IsComplete)
        {
            string user = exchange.AuthenticationId!;
            var session = connection.State.Session?.Id ?? 0;
            _log.LogInformation("Session 0x{Session:x}: adding SASL authorization for authorizationID: {User}", session, user);
            AuthInfoSet.Add(connection.State.AuthInfo, new Id("sasl", user));
            if (auth.SaslSuperUsers.Contains(user))
            {
                AuthInfoSet.Add(connection.State.AuthInfo, new Id("super", ""));
                _log.LogInformation("Session 0x{Session:x}: Authenticated Id '{User}' as super user", session, user);
            }
        }
        Reply(connection, request, ErrorCode.Ok, new SaslResponse(serverToken), zxidOverride: 0);
    }

    /// <summary>
    /// enforce.auth.enabled / sessionRequireClientSASLAuth (Apache's AuthenticationHelper): every request but
    /// auth and SASL ones needs an id of an enforced scheme first; otherwise it is answered
    /// SESSIONCLOSEDREQUIRESASLAUTH and the connection is closed.
    /// </summary>
    private bool PassesEnforcedAuthentication(IClientConnection connection, PendingRequest request)
    {
        var enforced = _settings.Authentication.EnforcedSchemes;
        if (enforced.Count == 0) return true;
        var ids = connection.State.AuthInfo;
        if (ids.Any(id => enforced.Contains(id.Scheme))) return true;
        _log.LogError("Client authentication scheme(s) [{Have}] does not match with any of the expected authentication scheme [{Expected}], closing session.",
            string.Join(", ", ids.Select(id => id.Scheme)), string.Join(", ", enforced));
        Reply(connection, request, ErrorCode.SessionClosedRequireSaslAuth, null, zxidOverride: 0);
        CloseConnection(connection, "the client has not authenticated with a scheme the server requires");
        return false;
    }
}
