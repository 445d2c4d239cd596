using System.Net.Sockets;
using Warden.Client;
using Warden.Protocol;
using Warden.Testing;

namespace Warden.Tls.Tests;

/// <summary>
/// The three clients over TLS against Apache ZooKeeper 3.8 and Warden with the same zoo.cfg: kazoo (use_ssl),
/// Apache's Java client (Netty socket, zookeeper.client.secure=true) and Warden.Client; a client certificate from
/// the trusted CA is accepted and its subject is the session's x509 id, a missing or foreign one is refused
/// (ssl.clientAuth=need, the default); and a plaintext client on the TLS port gets nothing.
/// </summary>
public sealed class ClientTlsTests
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task KazooConnectsWithATrustedCertificateAndIsRefusedWithoutOne(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(kind, certificates);

        Assert.Equal("CHILDREN zookeeper", await KazooAsync(server, certificates, certificates.ClientCrt, certificates.ClientKey, "ls", "/"));
        Assert.StartsWith("NOT CONNECTED", await KazooAsync(server, certificates, null, null, "ls", "/"));
        Assert.StartsWith("NOT CONNECTED", await KazooAsync(server, certificates, certificates.RogueCrt, certificates.RogueKey, "ls", "/"));
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task ApacheJavaClientWritesAndReadsOverTls(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(kind, certificates);

        var create = await JavaClientAsync(server, certificates, "create", "/java-tls", "over-tls");
        Assert.True(create.StandardOutput.Contains("Created /java-tls", StringComparison.Ordinal), create.Describe());
        var get = await JavaClientAsync(server, certificates, "get", "/java-tls");
        Assert.True(get.StandardOutput.Contains("over-tls", StringComparison.Ordinal), get.Describe());

        // The node is the same one a plaintext client sees on the clientPort.
        await using var plain = await ZooKeeperClient.ConnectAsync(server.ConnectString, TimeSpan.FromSeconds(10));
        Assert.Equal("over-tls"u8.ToArray(), (await plain.GetDataAsync("/java-tls")).Data);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task WardenClientGetsItsCertificateSubjectAsX509IdAndIsRefusedWithAForeignOne(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(kind, certificates);

        await using (var client = await ZooKeeperClient.ConnectAsync(TlsServers.ClientOptions(server, certificates, certificates.ClientPem)))
        {
            Assert.Contains(new ClientInfo("x509", TestCertificates.ClientSubject), await client.WhoAmIAsync());
            await client.CreateAsync("/tls", "secret"u8.ToArray(), CreateMode.Persistent);
            Assert.Equal("secret"u8.ToArray(), (await client.GetDataAsync("/tls")).Data);
        }

        var rogue = TlsServers.ClientOptions(server, certificates, null);
        rogue.Tls = ZooKeeperTlsOptions.FromStores(certificates.RogueP12, TestCertificates.Password, null, certificates.CaPem, null, null);
        await AssertRefusedAsync(rogue);
        await AssertRefusedAsync(TlsServers.ClientOptions(server, certificates, null));
    }

    /// <summary>The client keeps trying, as ZooKeeper clients do; each attempt must fail in TLS, none may connect.</summary>
    private static async Task AssertRefusedAsync(ZooKeeperClientOptions options)
    {
        options.ConnectTimeout = TimeSpan.FromSeconds(5);
        var failed = new TaskCompletionSource<ConnectionAttemptFailure>(TaskCreationOptions.RunContinuationsAsynchronously);
        var connected = false;
        await using var client = new ZooKeeperClient(Microsoft.Extensions.Options.Options.Create(options));
        client.ConnectionAttemptFailed += (_, failure) => failed.TrySetResult(failure);
        client.StateChanged += (_, change) => connected |= change.Current == ConnectionState.Connected;
        var first = await failed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(first.Error is System.Security.Authentication.AuthenticationException or IOException, first.Error.ToString());
        Assert.False(connected);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task X509AclAdmitsOnlyTheNamedCertificate(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(kind, certificates);

        await using (var owner = await ZooKeeperClient.ConnectAsync(TlsServers.ClientOptions(server, certificates, certificates.ClientPem)))
        {
            await owner.CreateAsync("/x509-only", "mine"u8.ToArray(), CreateMode.Persistent,
                [new Acl(Perms.All, new Id("x509", TestCertificates.ClientSubject))]);
            // "auth" expands to the caller's authenticated ids, which include its certificate subject.
            await owner.CreateAsync("/x509-auth", "also mine"u8.ToArray(), CreateMode.Persistent, [new Acl(Perms.All, new Id("auth", ""))]);
            Assert.Equal([new Acl(Perms.All, new Id("x509", TestCertificates.ClientSubject))], (await owner.GetAclAsync("/x509-auth")).Acl);
        }
        await using (var other = await ZooKeeperClient.ConnectAsync(TlsServers.ClientOptions(server, certificates, certificates.OtherClientPem)))
        {
            Assert.Contains(new ClientInfo("x509", TestCertificates.OtherClientSubject), await other.WhoAmIAsync());
            var refused = await Assert.ThrowsAsync<ZooKeeperException>(() => other.GetDataAsync("/x509-only"));
            Assert.Equal(ErrorCode.NoAuth, refused.Code);
        }
        await using (var plain = await ZooKeeperClient.ConnectAsync(server.ConnectString, TimeSpan.FromSeconds(10)))
        {
            var refused = await Assert.ThrowsAsync<ZooKeeperException>(() => plain.GetDataAsync("/x509-only"));
            Assert.Equal(ErrorCode.NoAuth, refused.Code);
        }
        // Another client program with the same certificate is let in: the ACL names the subject, not a session.
        Assert.Equal("DATA mine", await KazooAsync(server, certificates, certificates.ClientCrt, certificates.ClientKey, "get", "/x509-only"));
        Assert.Equal("NOAUTH", await KazooAsync(server, certificates, certificates.OtherClientCrt, certificates.OtherClientKey, "get", "/x509-only"));
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task PlaintextClientOnTheTlsPortGetsNothingAndOthersCarryOn(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(kind, certificates);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", server.SecurePort(), timeout.Token);
        await socket.SendAsync(ConnectRequestFrame(), timeout.Token);
        var received = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, timeout.Token);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                break;
            }
            if (read == 0) break;
            received.AddRange(buffer.AsSpan(0, read).ToArray());
        }
        Assert.Empty(received);

        if (kind == ServerKind.Warden)
        {
            await server.WaitForOutputAsync("it sent plaintext (first byte 0x00)", TimeSpan.FromSeconds(10));
            Assert.Single(server.CapturedOutput.Split('\n'), line => line.Contains("TLS port", StringComparison.Ordinal));
        }
        await using var client = await ZooKeeperClient.ConnectAsync(TlsServers.ClientOptions(server, certificates, certificates.ClientPem));
        Assert.Contains("zookeeper", (await client.GetChildrenAsync("/")).Children);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task WardenCliTakesTheJavaClientTlsProperties(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(kind, certificates);

        var create = await WardenCliAsync(server, certificates, certificates.ClientP12, "create", "/cli-tls", "via-cli");
        Assert.True(create.ExitCode == 0 && create.StandardOutput.Contains("Created /cli-tls", StringComparison.Ordinal), create.Describe());
        var get = await WardenCliAsync(server, certificates, certificates.ClientP12, "get", "/cli-tls");
        Assert.True(get.ExitCode == 0 && get.StandardOutput.Split('\n').Any(line => line.Trim() == "via-cli"), get.Describe());

        string jks = await certificates.MakeJksAsync();
        var refused = await WardenCliAsync(server, certificates, jks, "get", "/cli-tls");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains($"keytool -importkeystore -srckeystore {jks}", refused.StandardOutput, StringComparison.Ordinal);
    }

    private static Task<ProcessResult> WardenCliAsync(ServerProcess server, TestCertificates certificates, string keyStore, params string[] command)
    {
        string[] arguments =
        [
            InstalledTools.Require(InstalledTools.WardenDll, "(build Warden.Cli)"), "cli",
            "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
            "-Dzookeeper.client.secure=true",
            $"-Dzookeeper.ssl.keyStore.location={keyStore}",
            $"-Dzookeeper.ssl.keyStore.password={TestCertificates.Password}",
            $"-Dzookeeper.ssl.trustStore.location={certificates.TrustP12}",
            $"-Dzookeeper.ssl.trustStore.password={TestCertificates.Password}",
            "-server", $"127.0.0.1:{server.SecurePort()}",
            .. command,
        ];
        return ProcessRunner.RunAsync("dotnet", arguments, ToolTimeout, mergeStandardError: true);
    }

    private static byte[] ConnectRequestFrame()
    {
        using var writer = new JuteWriter();
        writer.BeginFrame();
        new ConnectRequest(0, 0, 30000, 0, new byte[16], false).Write(writer);
        writer.EndFrame();
        return writer.ToArray();
    }

    internal static async Task<string> KazooAsync(ServerProcess server, TestCertificates certificates, string? cert, string? key, string action, string path)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "kazoo_tls.py");
        var result = await ProcessRunner.RunAsync(InstalledTools.Require(InstalledTools.Python, "python3-kazoo"),
            [script, server.SecurePort().ToString(System.Globalization.CultureInfo.InvariantCulture), certificates.CaPem, cert ?? "-", key ?? "-", action, path],
            ToolTimeout);
        Assert.True(result.ExitCode == 0, result.Describe());
        return result.StandardOutput.Trim();
    }

    /// <summary>Apache's ZooKeeperMain (what zkCli.sh runs) with one command, over TLS with the client's PKCS12 key store.</summary>
    private static Task<ProcessResult> JavaClientAsync(ServerProcess server, TestCertificates certificates, params string[] command)
    {
        string[] arguments =
        [
            "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
            "-Dzookeeper.client.secure=true",
            $"-Dzookeeper.ssl.keyStore.location={certificates.ClientP12}",
            $"-Dzookeeper.ssl.keyStore.password={TestCertificates.Password}",
            $"-Dzookeeper.ssl.trustStore.location={certificates.TrustP12}",
            $"-Dzookeeper.ssl.trustStore.password={TestCertificates.Password}",
            "-cp", Environment.GetEnvironmentVariable("WARDEN_ZK_CLASSPATH") ?? InstalledTools.ApacheClassPath,
            "org.apache.zookeeper.ZooKeeperMain", "-server", $"127.0.0.1:{server.SecurePort()}",
            .. command,
        ];
        return ProcessRunner.RunAsync(InstalledTools.Require(InstalledTools.Java, "zookeeper"), arguments, ToolTimeout, mergeStandardError: true);
    }
}
