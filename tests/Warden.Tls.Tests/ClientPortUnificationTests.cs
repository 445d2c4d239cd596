using System.Text;
using Warden.Client;
using Warden.Testing;

namespace Warden.Tls.Tests;

/// <summary>
/// client.portUnification=true: the plaintext clientPort also takes TLS clients, with the ssl.* settings, as Apache's
/// Netty connection factory does; run against Apache ZooKeeper 3.8 and Warden with the same zoo.cfg.
/// </summary>
public sealed class ClientPortUnificationTests
{
    private static readonly Dictionary<string, string> Unified = new() { ["client.portUnification"] = "true" };

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task OneClientPortServesTlsAndPlaintextClients(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(kind, certificates, Unified);
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var tlsOnClientPort = TlsOnClientPort(server, certificates, TimeSpan.FromSeconds(10));
        await using var secure = await ZooKeeperClient.ConnectAsync(tlsOnClientPort, cancellationToken: bound.Token);
        await secure.CreateAsync("/over-tls", Encoding.UTF8.GetBytes("secret"), cancellationToken: bound.Token);
        // The TLS client on the plaintext port is authenticated by its certificate, as on the secure port.
        Assert.Contains(new Warden.Protocol.ClientInfo("x509", TestCertificates.ClientSubject), await secure.WhoAmIAsync(bound.Token));

        await using var plain = await ZooKeeperClient.ConnectAsync(server.ConnectString, TimeSpan.FromSeconds(10), bound.Token);
        var data = await plain.GetDataAsync("/over-tls", bound.Token);
        Assert.Equal("secret", Encoding.UTF8.GetString(data.Data ?? []));
        Assert.DoesNotContain(await plain.WhoAmIAsync(bound.Token), info => info.AuthScheme == "x509");
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task WithoutItTheClientPortTakesNoTls(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(kind, certificates);
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var tlsOnClientPort = TlsOnClientPort(server, certificates, TimeSpan.FromSeconds(3));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var client = await ZooKeeperClient.ConnectAsync(tlsOnClientPort, cancellationToken: bound.Token);
        });
    }

    /// <summary>Warden.Client over TLS, with the client certificate, to the plaintext client port.</summary>
    private static ZooKeeperClientOptions TlsOnClientPort(ServerProcess server, TestCertificates certificates, TimeSpan connectTimeout) => new()
    {
        ConnectString = server.ConnectString,
        SessionTimeout = TimeSpan.FromSeconds(10),
        ConnectTimeout = connectTimeout,
        Tls = ZooKeeperTlsOptions.FromStores(certificates.ClientPem, null, null, certificates.CaPem, null, null),
    };
}
