using Xunit.Abstractions;
using System.Diagnostics;
using System.Net.Sockets;

namespace Warden.Server.Tests.Network.Hardening;

/// <summary>Many connections that never become sessions: they must be dropped on time and cost the log little.</summary>
[Collection(HardeningCollection.Name)]
public sealed class ConnectionFloodTests(ITestOutputHelper output)
{
    [Fact]
    public async Task IdleAndTricklingConnectionsAreDroppedAtTheHandshakeDeadline()
    {
        const int Idle = 1000, Trickling = 1000, DeadlineMs = 1000;
        await using var server = await HardeningServer.StartAsync(s => s with
        {
            SessionlessConnectionTimeoutMs = DeadlineMs,
            MaxClientConnectionsPerHost = 0,
        });
        await using var bystander = await Bystander.StartAsync(server.EndPoint, sessionTimeoutMs: 6000);

        var clients = new List<(WireClient Client, Stopwatch Age)>();
        for (int batch = 0; batch < (Idle + Trickling) / 100; batch++)
        {
            // Each connection has its own clock, started as its connect begins: the server cannot start that
            // connection's deadline earlier, so a close before the deadline on this clock is a close before the
            // server's. (Started after the connect returned, a continuation run late on a loaded machine made a
            // connection look younger than it was.)
            clients.AddRange(await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
            {
                var age = Stopwatch.StartNew();
                var client = await WireClient.OpenAsync(server.EndPoint);
                return (client, age);
            })));
        }
        try
        {
            // Half of them send a connect request one byte at a time, slower than the deadline allows; bytes
            // arriving must not push the deadline back.
            var connect = WireClient.ConnectFrame(30_000);
            using var stopTrickling = new CancellationTokenSource();
            var trickling = Task.Run(async () =>
            {
                for (int offset = 0; offset < connect.Length - 1 && !stopTrickling.IsCancellationRequested; offset++)
                {
                    foreach (var (client, _) in clients.Skip(Idle))
                    {
                        try { await client.SendAsync(connect[offset..(offset + 1)]); } catch (Exception e) when (e is IOException or SocketException) { }
                    }
                    // Pacing of the trickle itself, not a wait for the server.
                    await Task.Delay(100);
                }
            });

            var closedAt = await Task.WhenAll(clients.Select(async c =>
            {
                bool closed = await c.Client.WaitForCloseAsync(TimeSpan.FromMilliseconds(DeadlineMs + 10_000));
                return closed ? c.Age.ElapsedMilliseconds : -1;
            }));
            stopTrickling.Cancel();
            await trickling;

            output.WriteLine($"closed after {closedAt.Min()}..{closedAt.Max()} ms; bystander's slowest answer {bystander.MaxLatencyMs} ms");
            Assert.DoesNotContain(-1L, closedAt);
            Assert.True(closedAt.Min() >= DeadlineMs - 100, $"a connection was dropped after {closedAt.Min()} ms, before its deadline");
            await bystander.AssertHealthyAsync(maxLatencyMs: 5000);
        }
        finally
        {
            foreach (var (client, _) in clients) client.Dispose();
        }
    }

    [Fact]
    public async Task RefusalsBeyondTheConnectionLimitAreFoldedInTheLog()
    {
        const int Attempts = 2000;
        await using var server = await HardeningServer.StartAsync(s => s with { MaxClientConnectionsPerHost = 3 });
        await using var bystander = await Bystander.StartAsync(server.EndPoint);
        using var first = await WireClient.OpenAsync(server.EndPoint);
        using var second = await WireClient.OpenAsync(server.EndPoint);

        var clock = Stopwatch.StartNew();
        for (int batch = 0; batch < Attempts / 50; batch++)
        {
            var opened = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
            {
                try { return await WireClient.OpenAsync(server.EndPoint); }
                catch (SocketException) { return null; }
            }));
            // Each refused connection is closed by the server at once; wait for that before the next batch.
            await Task.WhenAll(opened.OfType<WireClient>().Select(c => c.WaitForCloseAsync(TimeSpan.FromSeconds(10))));
            foreach (var client in opened) client?.Dispose();
        }
        long seconds = clock.ElapsedMilliseconds / 1000 + 1;

        int lines = server.Log.Count("Too many connections from");
        output.WriteLine($"{Attempts} refusals in {clock.ElapsedMilliseconds} ms wrote {lines} log lines");
        Assert.True(lines >= 1, "a refusal was not logged at all");
        // The first refusal and then at most a folded line and a new first line per second.
        Assert.True(lines <= 2 * seconds + 1, $"{Attempts} refusals in {seconds} s wrote {lines} log lines");
        await bystander.AssertHealthyAsync(maxLatencyMs: 5000);
    }
}
