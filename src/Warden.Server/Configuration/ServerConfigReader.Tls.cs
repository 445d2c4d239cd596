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
        var tls = TlsSettings.Read(properties, _errors, loadStores: checkFileSystem);
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
}
