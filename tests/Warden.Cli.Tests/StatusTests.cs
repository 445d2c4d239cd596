using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Warden.Client;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Cli.Tests;

/// <summary>
/// `warden status` run as a process against real servers: Apache ZooKeeper 3.8 and Warden, a port nobody
/// listens on, and small stand-ins on 127.0.0.1 for servers that refuse srvr or never answer.
/// </summary>
public sealed class StatusTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunBound = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(ServerKind.Warden)]
    [InlineData(ServerKind.Apache)]
    public async Task AServerIsShownStandaloneWithTheZxidItsClientSaw(ServerKind kind)
    {
        await using var server = await ServerProcess.StartAsync(kind);
        await using var client = await ZooKeeperClient.ConnectAsync(server.ConnectString, SessionTimeout);
        foreach (string path in new[] { "/status-a", "/status-b", "/status-c" }) await client.CreateAsync(path, [1, 2, 3]);
        string zxid = $"0x{client.LastZxidSeen.Value:x}";
        string srvr = await server.FourLetterWordAsync("srvr", TimeSpan.FromSeconds(5));

        var single = await WardenStatusAsync(server.ConnectString);

        Assert.True(single.ExitCode == 0, single.Describe());
        Assert.Equal("", single.StandardError);
        Assert.Contains("Mode: standalone\n", single.StandardOutput);
        Assert.Contains($"Zxid: {zxid}\n", single.StandardOutput);
        // The same figures srvr itself gives: the zxid of the last create and the three new nodes.
        Assert.Contains($"Zxid: {zxid}\n", srvr);
        Assert.Contains(SrvrLine(srvr, "Node count"), single.StandardOutput);
        Assert.Contains(SrvrLine(srvr, "Zookeeper version"), single.StandardOutput);

        var table = await WardenStatusAsync("--table", server.ConnectString);

        Assert.True(table.ExitCode == 0, table.Describe());
        string[] lines = Lines(table.StandardOutput);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("SERVER", lines[0]);
        Assert.Equal([server.ConnectString, "standalone", zxid, "0"], Columns(lines[1])[..4]);
    }

    [Fact]
    public async Task AListWithADeadPortReportsEveryServerInOrderAndExitsOne()
    {
        await using var warden = await ServerProcess.StartAsync(ServerKind.Warden);
        await using var apache = await ServerProcess.StartAsync(ServerKind.Apache);
        // Three writes on Warden and one on Apache: the same epoch, so Apache is two transactions behind.
        await using (var client = await ZooKeeperClient.ConnectAsync(warden.ConnectString, SessionTimeout))
        {
            foreach (string path in new[] { "/x", "/y", "/z" }) await client.CreateAsync(path, null);
        }
        await using (var client = await ZooKeeperClient.ConnectAsync(apache.ConnectString, SessionTimeout))
        {
            await client.CreateAsync("/x", null);
        }
        string wardenZxid = ZxidOf(await warden.FourLetterWordAsync("srvr", TimeSpan.FromSeconds(5)));
        string apacheZxid = ZxidOf(await apache.FourLetterWordAsync("srvr", TimeSpan.FromSeconds(5)));
        long expectedLag = Convert.ToInt64(wardenZxid, 16) - Convert.ToInt64(apacheZxid, 16);
        using var deadPort = new DeadPort();
        string dead = $"127.0.0.1:{deadPort.Port}";

        var result = await WardenStatusAsync($"{warden.ConnectString},{dead}", apache.ConnectString);

        Assert.True(result.ExitCode == 1, result.Describe());
        string[] lines = Lines(result.StandardOutput);
        Assert.Equal(4, lines.Length);
        Assert.Equal([warden.ConnectString, "standalone", wardenZxid, "0"], Columns(lines[1])[..4]);
        Assert.EndsWith($"3.8.0-warden-{Warden.Server.WardenVersion.Number}", lines[1]);
        Assert.Equal($"{dead}  error       connection refused; is a server running there? start one with \"warden server\"",
            Collapse(lines[2], dead));
        Assert.Equal([apache.ConnectString, "standalone", apacheZxid, expectedLag.ToString()], Columns(lines[3])[..4]);
        Assert.DoesNotContain('\u001b', result.StandardOutput);

        // Alone, a dead server is one line on stderr with the reason, and nothing on stdout.
        var alone = await WardenStatusAsync(dead);
        Assert.Equal(1, alone.ExitCode);
        Assert.Equal("", alone.StandardOutput);
        Assert.Equal($"warden: {dead}: connection refused; is a server running there? start one with \"warden server\"\n", alone.StandardError);
    }

    [Theory]
    [InlineData(ServerKind.Warden)]
    [InlineData(ServerKind.Apache)]
    public async Task AWhitelistWithoutSrvrStillLetsStatusAnswerAsApacheAlwaysAllowsIt(ServerKind kind)
    {
        await using var server = await ServerProcess.StartAsync(kind,
            new Dictionary<string, string> { ["4lw.commands.whitelist"] = "ruok" });
        // The whitelist took effect: stat, not listed, is refused...
        Assert.Equal("stat is not executed because it is not in the whitelist.\n",
            await server.FourLetterWordAsync("stat", TimeSpan.FromSeconds(5)));

        // ...but srvr is answered anyway, because zkServer.sh status depends on it.
        var result = await WardenStatusAsync(server.ConnectString);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Contains("Mode: standalone\n", result.StandardOutput);
    }

    [Fact]
    public async Task AServerThatRefusesSrvrIsReportedAsNotWhitelisted()
    {
        // Apache and Warden always answer srvr, so the refusal comes from a stand-in that speaks Apache's
        // refusal line for whatever word it is sent, as a server without that exception would.
        await using var refusing = StandIn.Start(async (socket, cancellation) =>
        {
            var word = new byte[4];
            await socket.ReceiveAsync(word, SocketFlags.None, cancellation);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"{Encoding.ASCII.GetString(word)} is not executed because it is not in the whitelist.\n"),
                SocketFlags.None, cancellation);
        });
        await using var warden = await ServerProcess.StartAsync(ServerKind.Warden);

        var result = await WardenStatusAsync(refusing.ConnectString, warden.ConnectString);

        Assert.True(result.ExitCode == 1, result.Describe());
        string[] lines = Lines(result.StandardOutput);
        Assert.Equal(3, lines.Length);
        Assert.Equal($"{refusing.ConnectString}  error       srvr is not in 4lw.commands.whitelist; add srvr to that line of the server's zoo.cfg",
            Collapse(lines[1], refusing.ConnectString));
        Assert.Equal([warden.ConnectString, "standalone"], Columns(lines[2])[..2]);
    }

    [Fact]
    public async Task AServerThatNeverAnswersTimesOutWithinTheTimeout()
    {
        // Accepts the connection, then says nothing until the test ends.
        await using var silent = StandIn.Start((_, cancellation) => Task.Delay(Timeout.Infinite, cancellation));

        var stopwatch = Stopwatch.StartNew();
        var status = await StatusProbe.QueryAsync(new HostAddress("127.0.0.1", silent.Port), TimeSpan.FromMilliseconds(500), CancellationToken.None);
        stopwatch.Stop();

        Assert.Equal(FailureKind.TimedOut, status.Outcome.Failure);
        // Bounded by the timeout, not by the server: well under the 5 s default, with room for a busy machine.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3), $"took {stopwatch.Elapsed}");

        var result = await WardenStatusAsync("--timeout", "500", silent.ConnectString);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"warden: {silent.ConnectString}: timed out: no answer within 500 ms;", result.StandardError);
    }

    [Fact]
    public async Task AHostNameThatDoesNotResolveIsSaidToBeUnresolved()
    {
        // .invalid never resolves (RFC 6761), so no DNS server can make this pass or fail by accident.
        var status = await StatusProbe.QueryAsync(new HostAddress("no-such-host.invalid", 2181), TimeSpan.FromSeconds(20), CancellationToken.None);

        Assert.Equal(FailureKind.NameNotResolved, status.Outcome.Failure);
        Assert.Equal("name not resolved: no address for \"no-such-host.invalid\"; check the spelling", status.Outcome.Reason);
    }

    private async Task<ProcessResult> WardenStatusAsync(params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync("dotnet", [InstalledTools.WardenDll, "status", .. arguments], RunBound);
        output.WriteLine($"$ warden status {string.Join(' ', arguments)}\n{result.StandardOutput}{result.StandardError}(exit {result.ExitCode})");
        return result;
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static string[] Columns(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A failed row with the address column's padding narrowed to two spaces, to compare it whole.</summary>
    private static string Collapse(string line, string address) =>
        address + "  " + line[address.Length..].TrimStart();

    private static string SrvrLine(string srvr, string name) =>
        srvr.Split('\n').Single(line => line.StartsWith(name + ": ", StringComparison.Ordinal)) + "\n";

    private static string ZxidOf(string srvr) => SrvrLine(srvr, "Zxid")["Zxid: ".Length..].Trim();

    /// <summary>A listener on 127.0.0.1 that runs a handler for each connection, standing in for a server.</summary>
    private sealed class StandIn : IAsyncDisposable
    {
        private readonly TcpListener listener;
        private readonly CancellationTokenSource stopping = new();
        private readonly Task accepting;

        private StandIn(Func<Socket, CancellationToken, Task> handle)
        {
            listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            accepting = AcceptAsync(handle);
        }

        public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

        public string ConnectString => $"127.0.0.1:{Port}";

        public static StandIn Start(Func<Socket, CancellationToken, Task> handle) => new(handle);

        public async ValueTask DisposeAsync()
        {
            stopping.Cancel();
            listener.Stop();
            try
            {
                await accepting;
            }
            catch (OperationCanceledException)
            {
            }
            stopping.Dispose();
        }

        private async Task AcceptAsync(Func<Socket, CancellationToken, Task> handle)
        {
            var connections = new List<Task>();
            try
            {
                while (true)
                {
                    var socket = await listener.AcceptSocketAsync(stopping.Token);
                    connections.Add(ServeAsync(socket, handle));
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
            await Task.WhenAll(connections);
        }

        private async Task ServeAsync(Socket socket, Func<Socket, CancellationToken, Task> handle)
        {
            using (socket)
            {
                try
                {
                    await handle(socket, stopping.Token);
                    socket.Shutdown(SocketShutdown.Both);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException)
                {
                    // The test is over, or the client went away first.
                }
            }
        }
    }
}
