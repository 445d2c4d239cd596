using System.Net.Sockets;
using Warden.Client;
using Warden.Testing;

namespace Warden.Tls.Tests;

/// <summary>
/// The secure port's settings, each against Apache ZooKeeper 3.8 where Apache has the same behaviour: conf reports
/// the port, ssl.clientAuth want and none, ssl.protocol; and Warden's own additions: PEM key stores, the JKS refusal
/// that names the keytool command, certificates reloaded when their file changes, and a stalled handshake that
/// costs only its own connection.
/// </summary>
public sealed class ServerTlsTests
{
    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task ConfReportsTheSecureClientPort(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(kind, certificates);
        string conf = await server.FourLetterWordAsync("conf", TimeSpan.FromSeconds(10));
        var lines = conf.Split('\n');
        Assert.Equal($"clientPort={server.ClientPort}", lines[0]);
        Assert.Equal($"secureClientPort={server.SecurePort()}", lines[1]);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task ClientAuthWantLetsClientsInWithOrWithoutACertificate(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(kind, certificates, new Dictionary<string, string> { ["ssl.clientAuth"] = "want" });

        await using (var anonymous = await ZooKeeperClient.ConnectAsync(TlsServers.ClientOptions(server, certificates, null)))
        {
            Assert.DoesNotContain(await anonymous.WhoAmIAsync(), info => info.AuthScheme == "x509");
        }
        await using var named = await ZooKeeperClient.ConnectAsync(TlsServers.ClientOptions(server, certificates, certificates.ClientPem));
        Assert.Contains(new Warden.Protocol.ClientInfo("x509", TestCertificates.ClientSubject), await named.WhoAmIAsync());
        // A certificate that is given must still be trusted.
        var (rogue, transcript) = await TlsServers.HandshakeAsync(server, certificates, "rogue");
        Assert.True(rogue is null, transcript);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task ClientAuthNoneIgnoresClientCertificates(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(kind, certificates, new Dictionary<string, string> { ["ssl.clientAuth"] = "none" });

        await using var client = await ZooKeeperClient.ConnectAsync(TlsServers.ClientOptions(server, certificates, certificates.ClientPem));
        Assert.DoesNotContain(await client.WhoAmIAsync(), info => info.AuthScheme == "x509");
        var (served, transcript) = await TlsServers.HandshakeAsync(server, certificates, null);
        Assert.True(served == "CN = localhost", transcript);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task ProtocolSettingLimitsTheTlsVersion(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        // Apache 3.8.0 offers only TLS 1.2 cipher suites unless told otherwise, so TLS 1.3 needs its suites named.
        await using var server = await TlsServers.StartAsync(kind, certificates, new Dictionary<string, string>
        {
            ["ssl.protocol"] = "TLSv1.3",
            ["ssl.ciphersuites"] = "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384",
        });

        var (accepted, transcript) = await TlsServers.HandshakeAsync(server, certificates, "client", "-tls1_3");
        Assert.True(accepted == "CN = localhost", transcript);
        Assert.Contains("TLSv1.3", transcript, StringComparison.Ordinal);
        var (refused, refusedTranscript) = await TlsServers.HandshakeAsync(server, certificates, "client", "-tls1_2");
        Assert.True(refused is null, refusedTranscript);
    }

    [Fact]
    public async Task PemKeyStoreAndPkcs12TrustStoreWork()
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(ServerKind.Warden, certificates, new Dictionary<string, string>
        {
            ["ssl.keyStore.location"] = certificates.ServerPem,
            ["ssl.keyStore.password"] = "",
            ["ssl.trustStore.location"] = certificates.TrustP12,
            ["ssl.trustStore.password"] = TestCertificates.Password,
        });
        var (served, transcript) = await TlsServers.HandshakeAsync(server, certificates, "client");
        Assert.True(served == "CN = localhost", transcript);
        var (refused, refusedTranscript) = await TlsServers.HandshakeAsync(server, certificates, "rogue");
        Assert.True(refused is null, refusedTranscript);
    }

    [Fact]
    public async Task JksKeyStoreIsRefusedWithTheKeytoolCommand()
    {
        using var certificates = await TestCertificates.CreateAsync();
        string jks = await certificates.MakeJksAsync();
        var failure = await Assert.ThrowsAsync<ServerStartException>(() => TlsServers.StartAsync(ServerKind.Warden, certificates,
            new Dictionary<string, string> { ["ssl.keyStore.location"] = jks }));
        Assert.Contains($"ssl.keyStore.location={jks} is a JKS store", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"keytool -importkeystore -srckeystore {jks} -srcstoretype JKS -destkeystore {Path.ChangeExtension(jks, ".p12")} -deststoretype PKCS12",
            failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongKeyStorePasswordStopsTheServerWithAClearMessage()
    {
        using var certificates = await TestCertificates.CreateAsync();
        var failure = await Assert.ThrowsAsync<ServerStartException>(() => TlsServers.StartAsync(ServerKind.Warden, certificates,
            new Dictionary<string, string> { ["ssl.keyStore.password"] = "wrong" }));
        Assert.Contains($"ssl.keyStore.location={certificates.ServerP12} cannot be read as PKCS12", failure.Message, StringComparison.Ordinal);
        Assert.Contains("check ssl.keyStore.password", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChangedKeyStoreIsServedToTheNextConnectionWithoutARestart()
    {
        using var certificates = await TestCertificates.CreateAsync();
        string live = certificates.Path("live.pem");
        File.Copy(certificates.ServerPem, live);
        await using var server = await TlsServers.StartAsync(ServerKind.Warden, certificates,
            new Dictionary<string, string> { ["ssl.keyStore.location"] = live, ["ssl.keyStore.password"] = "" });
        var (before, transcript) = await TlsServers.HandshakeAsync(server, certificates, "client");
        Assert.True(before == "CN = localhost", transcript);

        // Renewal as tools do it: the new file is written beside the old one and moved over it.
        string renewed = await certificates.MakeServerPemAsync("renewed", "/CN=renewed.localhost");
        File.Copy(renewed, live + ".tmp");
        File.Move(live + ".tmp", live, overwrite: true);

        var (after, afterTranscript) = await TlsServers.HandshakeAsync(server, certificates, "client");
        Assert.True(after == "CN = renewed.localhost", afterTranscript);
        await server.WaitForOutputAsync("Reloaded the TLS key store", TimeSpan.FromSeconds(10));

        // A broken file keeps the certificate in use; the server says so once.
        File.WriteAllText(live + ".tmp", "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");
        File.Move(live + ".tmp", live, overwrite: true);
        var (kept, keptTranscript) = await TlsServers.HandshakeAsync(server, certificates, "client");
        Assert.True(kept == "CN = renewed.localhost", keptTranscript);
        await server.WaitForOutputAsync("the certificates loaded before stay in use", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task StalledHandshakeIsCutOffAndCostsNoOtherClient()
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden, TlsServers.Config(certificates),
            startTimeout: TimeSpan.FromSeconds(60),
            systemProperties: new Dictionary<string, string> { ["zookeeper.nio.sessionlessCnxnTimeout"] = "2000" });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var stalled = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await stalled.ConnectAsync("127.0.0.1", server.SecurePort(), timeout.Token);
        // The first bytes of a TLS record header, then nothing.
        await stalled.SendAsync(new byte[] { 0x16, 0x03, 0x01 }, timeout.Token);

        // Meanwhile another TLS client is served.
        await using (var client = await ZooKeeperClient.ConnectAsync(TlsServers.ClientOptions(server, certificates, certificates.ClientPem)))
        {
            Assert.Contains("zookeeper", (await client.GetChildrenAsync("/")).Children);
        }

        int read;
        try
        {
            read = await stalled.ReceiveAsync(new byte[16], timeout.Token);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            read = 0;
        }
        Assert.Equal(0, read);
        await server.WaitForOutputAsync("no TLS handshake within 2000 ms", TimeSpan.FromSeconds(10));
    }
}
