using Microsoft.Extensions.Logging;
using Warden.Protocol;
using Warden.Server.Security;

namespace Warden.Server.Processing;

// Authentication: addauth packets (digest, ip) and what identities a connection gains from them.
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
}
