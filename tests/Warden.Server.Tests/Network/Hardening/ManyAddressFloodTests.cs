using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Warden.Protocol;
using Xunit.Abstractions;

namespace Warden.Server.Tests.Network.Hardening;

/// <summary>
/// A connection flood spread over many source addresses, which the per-address limit (maxClientCnxns) alone
/// cannot stop: the total limit (maxCnxns) must hold the line, refusals stay folded in the log, and a healthy
/// client keeps its session. On Linux all of 127.0.0.0/8 is the loopback interface, so a socket bound to
/// 127.0.0.N reaches the server from its own address with no set-up.
/// </summary>
[Collection(HardeningCollection.Name)]
public sealed class ManyAddressFloodTests(ITestOutputHelper output)
{
    private const int Addresses = 100;
    private const int PerAddress = 8;
    private const int PerAddressLimit = 5;
    private const int TotalLimit = 200;

    [Fact]
    public async Task AFloodFromManyAddressesIsHeldByTheTotalLimitAndABystanderCarriesOn()
    {
        if (!OperatingSystem.IsLinux()) return; // only Linux routes every 127.x address to loopback unconfigured
        // A handshake deadline far beyond the test, so only the two limits can close a flood connection.
        await using var server = await HardeningServer.StartAsync(s => s with
        {
            MaxClientConnectionsPerHost = PerAddressLimit,
            MaxConnections = TotalLimit,
            SessionlessConnectionTimeoutMs = 120_000,
        });
        await using var bystander = await Bystander.StartAsync(server.EndPoint);

        var clock = Stopwatch.StartNew();
        var flood = new List<(int Address, Socket Socket, Task<bool> Closed)>();
        try
        {
            for (int a = 0; a < Addresses; a++)
            {
                var source = IPAddress.Parse($"127.0.0.{2 + a}");
                var opened = await Task.WhenAll(Enumerable.Range(0, PerAddress).Select(_ => OpenFromAsync(source, server.EndPoint)));
                flood.AddRange(opened.OfType<Socket>().Select(s => (a, s, ClosedByServerAsync(s))));
            }
            output.WriteLine($"{flood.Count} of {Addresses * PerAddress} flood connections were accepted by TCP in {clock.ElapsedMilliseconds} ms");

            // Every address may keep at most its own limit, and all of them together (with the bystander) at most the total.
            // The server closes every other one on accept; wait (bounded) until as many have closed as must.
            int mayStayOpen = Math.Min(TotalLimit - 1, Addresses * PerAddressLimit);
            int mustClose = flood.Count - mayStayOpen;
            var closing = Stopwatch.StartNew();
            while (flood.Count(f => f.Closed.IsCompleted) < mustClose)
            {
                var left = TimeSpan.FromSeconds(60) - closing.Elapsed;
                Assert.True(left > TimeSpan.Zero,
                    $"only {flood.Count(f => f.Closed.IsCompleted)} of the {mustClose} connections beyond the limits were closed");
                try
                {
                    await Task.WhenAny(flood.Where(f => !f.Closed.IsCompleted).Select(f => f.Closed)).WaitAsync(left);
                }
                catch (TimeoutException)
                {
                    // Judged by the assertion above on the next pass.
                }
            }
            var open = flood.Where(f => !f.Closed.IsCompleted).ToList();
            output.WriteLine($"{flood.Count - open.Count} closed by the server, {open.Count} kept, in {clock.ElapsedMilliseconds} ms");
            Assert.True(open.Count <= mayStayOpen, $"{open.Count} flood connections stayed open (limit {mayStayOpen})");
            Assert.All(open.GroupBy(f => f.Address), g => Assert.True(g.Count() <= PerAddressLimit, $"127.0.0.{2 + g.Key} kept {g.Count()} connections"));
            // Spread over many addresses, most are refused by the total, not the per-address, limit.
            Assert.True(server.Log.Count("(maxCnxns)") >= 1, "no refusal by maxCnxns was logged");

            long seconds = clock.ElapsedMilliseconds / 1000 + 1;
            int lines = server.Log.Count("Too many connections");
            output.WriteLine($"{mustClose} refusals in {seconds} s wrote {lines} log lines");
            // Each kind of refusal: a first line, then at most a folded line and a new first line per second.
            Assert.True(lines <= 2 * (2 * seconds + 1), $"{mustClose} refusals in {seconds} s wrote {lines} log lines");
            await bystander.AssertHealthyAsync(maxLatencyMs: 5000);
        }
        finally
        {
            foreach (var (_, socket, _) in flood) socket.Dispose();
        }

        // Once the flood is gone (the server sees each closed socket as its read ends), a client from yet another
        // address gets a session.
        var gone = Stopwatch.StartNew();
        while (server.Server.ClientConnectionCount > 1)
        {
            Assert.True(gone.Elapsed < TimeSpan.FromSeconds(30), $"{server.Server.ClientConnectionCount} connections still open after the flood closed");
            await Task.Delay(50);
        }
        using var fresh = await WireClient.OpenSessionAsync(server.EndPoint, 4000, source: IPAddress.Parse("127.0.0.250"));
        var (error, _) = await fresh.CallAsync(OpCode.Exists, new PathWatchRequest("/", false));
        Assert.Equal(ErrorCode.Ok, error);
    }

    private static async Task<Socket?> OpenFromAsync(IPAddress source, IPEndPoint server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await socket.ConnectAsync(server, timeout.Token);
            return socket;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            return null;
        }
    }

    /// <summary>True once the server has closed the connection (the read ends or is reset).</summary>
    private static async Task<bool> ClosedByServerAsync(Socket socket)
    {
        var buffer = new byte[16];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None) > 0)
            {
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        return true;
    }
}
