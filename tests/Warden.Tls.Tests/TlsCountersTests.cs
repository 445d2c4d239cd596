using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Warden.Testing;

namespace Warden.Tls.Tests;

/// <summary>
/// The TLS figures of mntr, against Apache ZooKeeper 3.8 with the same zoo.cfg: auth_failed_count counts every TLS
/// handshake on the secure port that did not succeed, non_mtls_local_conn_count and non_mtls_remote_conn_count count
/// plaintext connections accepted (with Netty as the connection factory, the only one of Apache's that counts them),
/// and outstanding_tls_handshake counts handshakes under way.
/// </summary>
public sealed class TlsCountersTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task EveryUnsuccessfulHandshakeCountsAsAnAuthenticationFailure(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(kind, certificates);
        long failures = await FigureAsync(server, "zk_auth_failed_count");

        // A connection closed before it sent anything.
        using (var silent = await ConnectAsync(server.SecurePort())) { }
        failures = await WaitForFigureAsync(server, "zk_auth_failed_count", failures + 1);

        // Plaintext on the TLS port (a connect request's length prefix).
        using (var plain = await ConnectAsync(server.SecurePort()))
        {
            await plain.SendAsync(new byte[] { 0, 0, 0, 44, 0, 0, 0, 0 }, SocketFlags.None);
            await WaitForCloseAsync(plain);
        }
        failures = await WaitForFigureAsync(server, "zk_auth_failed_count", failures + 1);

        // A certificate from a CA the server does not trust, and no certificate where ssl.clientAuth=need wants one.
        var (rogue, transcript) = await TlsServers.HandshakeAsync(server, certificates, "rogue");
        Assert.True(rogue is null, transcript);
        failures = await WaitForFigureAsync(server, "zk_auth_failed_count", failures + 1);
        var (anonymous, anonymousTranscript) = await TlsServers.HandshakeAsync(server, certificates, null);
        Assert.True(anonymous is null, anonymousTranscript);
        failures = await WaitForFigureAsync(server, "zk_auth_failed_count", failures + 1);

        // A good certificate adds nothing.
        var (served, goodTranscript) = await TlsServers.HandshakeAsync(server, certificates, "client");
        Assert.True(served is not null, goodTranscript);
        Assert.Equal(failures, await FigureAsync(server, "zk_auth_failed_count"));
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task NettyCountsEachPlaintextConnectionFromLoopbackAsLocal(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(kind, certificates);
        // Each mntr is itself a plaintext connection from 127.0.0.1, counted when accepted (so before it is answered).
        long first = await FigureAsync(server, "zk_non_mtls_local_conn_count");
        using (var idle = await ConnectAsync(server.ClientPort)) { }
        long third = await FigureAsync(server, "zk_non_mtls_local_conn_count");
        Assert.Equal(first + 2, third);
        Assert.Equal(0, await FigureAsync(server, "zk_non_mtls_remote_conn_count"));
        // Connections on the TLS port are not plaintext ones: only the two mntr connections add to the count.
        var (served, transcript) = await TlsServers.HandshakeAsync(server, certificates, "client");
        Assert.True(served is not null, transcript);
        Assert.Equal(third + 2, await FigureAsync(server, "zk_non_mtls_local_conn_count"));
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task WithoutNettyNoPlaintextConnectionIsCounted(ServerKind kind)
    {
        await using var server = await ServerProcess.StartAsync(kind, startTimeout: TimeSpan.FromSeconds(60));
        await FigureAsync(server, "zk_non_mtls_local_conn_count");
        Assert.Equal(0, await FigureAsync(server, "zk_non_mtls_local_conn_count"));
    }

    /// <summary>
    /// Silent connections on a port that takes TLS are handshakes under way. Apache measures them only on a unified
    /// client port (client.portUnification) with netty.server.outstandingHandshake.limit set, where both agree.
    /// </summary>
    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task SilentConnectionsOnAUnifiedPortAreOutstandingHandshakes(ServerKind kind)
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(kind, certificates, new Dictionary<string, string>
        {
            ["client.portUnification"] = "true",
            ["netty.server.outstandingHandshake.limit"] = "100",
        });
        Assert.Equal(0, await FigureAsync(server, "zk_outstanding_tls_handshake"));
        var held = new List<Socket>();
        try
        {
            for (int i = 0; i < 3; i++) held.Add(await ConnectAsync(server.ClientPort));
            await WaitForFigureAsync(server, "zk_outstanding_tls_handshake", 3);
            // One of them speaks plaintext: its first byte settles it, and it is no longer a handshake.
            await held[0].SendAsync("ruok"u8.ToArray(), SocketFlags.None);
            await WaitForFigureAsync(server, "zk_outstanding_tls_handshake", 2);
        }
        finally
        {
            foreach (var socket in held) socket.Dispose();
        }
        await WaitForFigureAsync(server, "zk_outstanding_tls_handshake", 0);
    }

    [Fact]
    public async Task WardenCountsHandshakesUnderWayOnTheSecurePortToo()
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var server = await TlsServers.StartAsync(ServerKind.Warden, certificates);
        var held = new List<Socket>();
        try
        {
            for (int i = 0; i < 3; i++) held.Add(await ConnectAsync(server.SecurePort()));
            await WaitForFigureAsync(server, "zk_outstanding_tls_handshake", 3);
        }
        finally
        {
            foreach (var socket in held) socket.Dispose();
        }
        await WaitForFigureAsync(server, "zk_outstanding_tls_handshake", 0);
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var bound = new CancellationTokenSource(Bound);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), bound.Token);
        return socket;
    }

    private static async Task WaitForCloseAsync(Socket socket)
    {
        using var bound = new CancellationTokenSource(Bound);
        var buffer = new byte[256];
        while (await socket.ReceiveAsync(buffer, SocketFlags.None, bound.Token) > 0)
        {
        }
    }

    private static async Task<long> FigureAsync(ServerProcess server, string name)
    {
        string mntr = await server.FourLetterWordAsync("mntr", Bound);
        foreach (var line in mntr.Split('\n'))
        {
            var parts = line.Split('\t');
            if (parts.Length == 2 && parts[0] == name) return long.Parse(parts[1].Trim(), CultureInfo.InvariantCulture);
        }
        throw new Xunit.Sdk.XunitException($"mntr has no {name}:\n{mntr}");
    }

    /// <summary>Asks mntr (every 100 ms, bounded) until the figure is <paramref name="expected"/>; returns it.</summary>
    private static async Task<long> WaitForFigureAsync(ServerProcess server, string name, long expected)
    {
        var deadline = DateTime.UtcNow + Bound;
        long seen;
        while ((seen = await FigureAsync(server, name)) != expected)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"{name} stayed {seen}, expected {expected}");
            await Task.Delay(100);
        }
        return seen;
    }
}
