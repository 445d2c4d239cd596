using Warden.Client;
using Warden.Testing;

namespace Warden.Tls.Tests;

/// <summary>
/// Starts Apache ZooKeeper 3.8 or Warden with the same zoo.cfg: a plaintext clientPort and a secureClientPort on
/// 127.0.0.1 with the test certificates, and Netty as Apache's connection factory (its NIO one has no TLS).
/// </summary>
internal static class TlsServers
{
    public const string SecurePortKey = "secureClientPort";

    static TlsServers()
    {
        // Apache's Netty factory needs two jars that the Debian jar's manifest does not list.
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WARDEN_ZK_CLASSPATH")))
        {
            var jars = new[] { InstalledTools.ApacheClassPath, "/usr/share/java/netty-codec.jar", "/usr/share/java/netty-resolver.jar" };
            Environment.SetEnvironmentVariable("WARDEN_ZK_CLASSPATH", string.Join(Path.PathSeparator, jars));
        }
    }

    /// <summary>Puts Apache's Netty jars on its class path (the static constructor does it); quorum TLS needs them too.</summary>
    public static void UseApacheNettyJars()
    {
    }

    public static Dictionary<string, string> Config(TestCertificates certificates, IReadOnlyDictionary<string, string>? extra = null)
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SecurePortKey] = ServerProcess.AnyFreePort,
            ["secureClientPortAddress"] = "127.0.0.1",
            ["serverCnxnFactory"] = "org.apache.zookeeper.server.NettyServerCnxnFactory",
            ["ssl.keyStore.location"] = certificates.ServerP12,
            ["ssl.keyStore.password"] = TestCertificates.Password,
            ["ssl.trustStore.location"] = certificates.CaPem,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) config[key] = value;
        return config;
    }

    /// <summary>
    /// Starts the server and waits (bounded) until a session can be made on its TLS port: the harness knows a server
    /// is up by its plaintext port, and Apache's standalone server opens its secure port only after that one, and
    /// reports it in conf only once it serves there.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(ServerKind kind, TestCertificates certificates, IReadOnlyDictionary<string, string>? extra = null)
    {
        var server = await ServerProcess.StartAsync(kind, Config(certificates, extra), startTimeout: TimeSpan.FromSeconds(60));
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await using var probe = await ZooKeeperClient.ConnectAsync(ClientOptions(server, certificates, certificates.ClientPem), cancellationToken: bound.Token);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public static int SecurePort(this ServerProcess server) => server.PortOf(SecurePortKey);

    /// <summary>Warden.Client options for the server's TLS port, with a client certificate from a PEM file or none.</summary>
    public static ZooKeeperClientOptions ClientOptions(ServerProcess server, TestCertificates certificates, string? clientPem)
    {
        var tls = ZooKeeperTlsOptions.FromStores(clientPem, null, null, certificates.CaPem, null, null);
        return new ZooKeeperClientOptions
        {
            ConnectString = $"127.0.0.1:{server.SecurePort()}",
            SessionTimeout = TimeSpan.FromSeconds(10),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            Tls = tls,
        };
    }

    /// <summary>
    /// A TLS connection to the secure port made by openssl s_client (which offers exactly the certificate it is given
    /// and resumes no earlier session), over TLS 1.2 unless told otherwise, that asks ruok. Returns the subject of the
    /// server's certificate when the server answered imok, or null when it did not (a refused certificate: Apache
    /// refuses it inside the handshake, Warden closes the connection right after it), with the transcript.
    /// </summary>
    public static async Task<(string? ServerSubject, string Transcript)> HandshakeAsync(ServerProcess server, TestCertificates certificates,
        string? clientName, string protocol = "-tls1_2")
    {
        var arguments = new List<string>
        {
            "s_client", "-connect", $"127.0.0.1:{server.SecurePort()}", "-servername", "localhost", "-CAfile", certificates.CaPem, protocol, "-ign_eof",
        };
        if (clientName is not null)
        {
            arguments.AddRange(["-cert", certificates.Path(clientName + ".crt"), "-key", certificates.Path(clientName + ".key")]);
        }
        var result = await ProcessRunner.RunAsync(InstalledTools.Require("/usr/bin/openssl", "openssl"), arguments, TimeSpan.FromSeconds(30),
            standardInput: "ruok");
        // s_client prints what the server sent among its own lines (TLS 1.3 session tickets arrive beside it), so the
        // answer is looked for anywhere in the output.
        bool completed = result.StandardOutput.Contains("SSL handshake has read", StringComparison.Ordinal)
            && result.StandardOutput.Contains("imok", StringComparison.Ordinal);
        string? subject = completed
            ? result.StandardOutput.Split('\n').FirstOrDefault(line => line.StartsWith("subject=", StringComparison.Ordinal))?["subject=".Length..].Trim()
            : null;
        return (subject, result.Describe());
    }
}
