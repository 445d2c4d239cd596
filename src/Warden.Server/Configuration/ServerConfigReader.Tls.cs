using Warden.Server.Security;

namespace Warden.Server.Configuration;

/// <summary>
/// secureClientPort, secureClientPortAddress and the ssl.* keys (read as the system properties zookeeper.ssl.*,
/// which is what Apache's zoo.cfg turns them into). With a secure port the x509 scheme is registered, as Apache's
/// QuorumPeerConfig.configureSSLAuth does, and ssl.authProvider may only name it.
/// </summary>
internal sealed partial class ServerConfigReader
{
    private const string NettyFactory = "org.apache.zookeeper.server.NettyServerCnxnFactory";

    private void ReadTls(bool checkFileSystem)
    {
        ReadQuorumTls(checkFileSystem);
        ReadClientPortUnification(checkFileSystem);
        if (_secureClientPort is < 0 or > 65535)
        {
            _errors.Add($"{_source.Name}: secureClientPort {_secureClientPort} is outside 0-65535; write e.g. secureClientPort=2281");
            return;
        }
        if (_secureClientPort == 0)
        {
            if (_secureClientPortAddress is not null)
            {
                _errors.Add($"{_source.Name}: secureClientPortAddress is set but secureClientPort is not; add secureClientPort=2281 or remove secureClientPortAddress (Apache ZooKeeper refuses this too)");
            }
            return;
        }
        var properties = _system.Snapshot();
        string? sslAuthProvider = properties.GetValueOrDefault("zookeeper.ssl.authProvider");
        if (sslAuthProvider is not null && sslAuthProvider != "x509")
        {
            _errors.Add($"ssl.authProvider={sslAuthProvider}: Warden authenticates TLS clients with the x509 scheme only; remove ssl.authProvider or write ssl.authProvider=x509");
        }
        string? factory = properties.GetValueOrDefault("zookeeper.serverCnxnFactory");
        if (factory is not null && factory != NettyFactory)
        {
            _warnings.Add($"serverCnxnFactory={factory}: Apache ZooKeeper serves a secureClientPort only with serverCnxnFactory={NettyFactory} and refuses this file; Warden serves TLS either way");
        }
        // client.portUnification has read the same ssl.* keys already; read them once so each problem is said once.
        var tls = _config.ClientPortUnification ? _config.Tls : TlsSettings.Read(properties, _errors, loadStores: checkFileSystem);
        if (tls?.CipherSuites is not null && OperatingSystem.IsWindows())
        {
            _warnings.Add("ssl.ciphersuites has no effect on Windows, where the system's TLS policy chooses the cipher suites; set them there");
        }
        _config = _config with
        {
            SecureClientPort = _secureClientPort,
            SecureClientPortAddress = _secureClientPortAddress,
            Tls = tls,
            Authentication = _config.Authentication with { X509SchemeRegistered = true },
        };
    }

    /// <summary>
    /// sslQuorum and portUnification (zoo.cfg keys of Apache's QuorumPeerConfig) with the ssl.quorum.* keys, read as
    /// Apache's QuorumX509Util reads them (zookeeper.ssl.quorum.*). Port unification needs the key store too: a member
    /// that still dials in plaintext accepts TLS from members already switched.
    /// </summary>
    private void ReadQuorumTls(bool checkFileSystem)
    {
        if (!_config.SslQuorum && !_config.QuorumPortUnification) return;
        if (_serverEntries.Count == 0)
        {
            _warnings.Add($"{_source.Name}: sslQuorum and portUnification apply to the election and quorum ports of an ensemble; this standalone server has none, so they do nothing");
            return;
        }
        string purpose = _config.SslQuorum ? "sslQuorum=true" : "portUnification=true";
        var quorumTls = TlsSettings.Read(_system.Snapshot(), _errors, loadStores: checkFileSystem, TlsSettings.QuorumPrefix, purpose);
        _config = _config with { QuorumTls = quorumTls };
    }

    /// <summary>
    /// client.portUnification (zookeeper.client.portUnification): the plaintext client port also takes TLS
    /// connections, with the ssl.* settings of the secure port, as Apache's Netty factory does.
    /// </summary>
    private void ReadClientPortUnification(bool checkFileSystem)
    {
        var properties = _system.Snapshot();
        if (!string.Equals(properties.GetValueOrDefault("zookeeper.client.portUnification")?.Trim(), "true", StringComparison.OrdinalIgnoreCase)) return;
        var tls = TlsSettings.Read(properties, _errors, loadStores: checkFileSystem, TlsSettings.Prefix, "client.portUnification=true");
        _config = _config with
        {
            ClientPortUnification = tls is not null,
            Tls = tls,
            Authentication = _config.Authentication with { X509SchemeRegistered = true },
        };
    }
}
