using Warden.Protocol;
using Warden.Testing;
using Xunit.Abstractions;
using static Warden.Client.Tests.Bounds;

namespace Warden.Client.Tests;

/// <summary>
/// Faults between the client and the server: cut connections, a silent network, a dead host in the list,
/// a restarted server and an expired session. Each test runs its own server (short tickTime, so sessions can
/// be short) behind a <see cref="TcpProxy"/>.
/// </summary>
public sealed class ReconnectTests(ITestOutputHelper output)
{
    /// <summary>tickTime 500 ms allows sessions from 1 s to 10 s.</summary>
    private static readonly Dictionary<string, string> ShortTicks = new() { ["tickTime"] = "500" };

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task A_connection_cut_mid_request_keeps_the_session_and_delivers_missed_events(ServerKind kind)
    {
        await using var server = await ServerProcess.StartAsync(kind, ShortTicks);
        await using var proxy = new TcpProxy(server.EndPoint);
        await using var client = await Clients.ConnectAsync(proxy.ConnectString, TimeSpan.FromSeconds(6));
        await using var direct = await Clients.ConnectAsync(server.ConnectString);
        var states = new StateRecorder(client);
        var root = await Clients.FreshRootAsync(client, "cut");
        var writes = await Clients.FreshRootAsync(client, "cut-writes");
        var session = client.SessionId;

        var dataWatch = await client.GetDataAndWatchAsync(root).Bounded();
        await using var recursive = await client.AddWatchAsync(root, AddWatchMode.PersistentRecursive).Bounded();

        var inFlight = Enumerable.Range(0, 300).Select(_ => client.CreateAsync(writes + "/s-", null, CreateMode.PersistentSequential)).ToArray();
        proxy.Refuse(true);
        proxy.SeverAll();
        await states.WaitForAsync(ConnectionState.Disconnected);

        int succeeded = 0;
        foreach (var request in inFlight)
        {
            try
            {
                await request.Bounded();
                succeeded++;
            }
            catch (ZooKeeperException error)
            {
                Assert.Equal(ErrorCode.ConnectionLoss, error.Code);
            }
        }
        output.WriteLine($"{succeeded} of {inFlight.Length} pipelined creates were answered before the cut");

        // A change the client cannot see while it is away; setWatches on reconnect must report it.
        await direct.SetDataAsync(root, Bytes("while away")).Bounded();
        Assert.False(dataWatch.Changed.IsCompleted);
        proxy.Refuse(false);
        await states.WaitForAsync(ConnectionState.Connected);

        Assert.Equal(session, client.SessionId);
        Assert.Equal(new WatchedEvent(EventType.NodeDataChanged, KeeperState.SyncConnected, root), await dataWatch.Changed.Bounded());

        // The recursive watch was restored too: a change after the reconnect reaches it.
        await direct.CreateAsync(root + "/after", null).Bounded();
        WatchedEvent next;
        do next = await recursive.ReadAsync().AsTask().Bounded();
        while (next.Path != root + "/after");
        Assert.Equal(EventType.NodeCreated, next.Type);

        var children = (await client.GetChildrenAsync(writes).Bounded()).Children.Count;
        Assert.InRange(children, succeeded, inFlight.Length);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task A_silent_connection_is_dropped_at_the_read_timeout_and_the_session_resumed(ServerKind kind)
    {
        await using var server = await ServerProcess.StartAsync(kind, ShortTicks);
        await using var proxy = new TcpProxy(server.EndPoint);
        await using var client = await Clients.ConnectAsync(proxy.ConnectString, TimeSpan.FromSeconds(3));
        var states = new StateRecorder(client);
        var session = client.SessionId;
        var root = await Clients.FreshRootAsync(client, "silent");

        // No reset, no FIN: only the read timeout (two thirds of the session timeout) can notice.
        proxy.FreezeCurrent();
        var pending = client.ExistsAsync(root);
        await states.WaitForAsync(ConnectionState.Disconnected);
        var lost = await Assert.ThrowsAsync<ZooKeeperException>(() => pending).Bounded();
        Assert.Equal(ErrorCode.ConnectionLoss, lost.Code);
        await states.WaitForAsync(ConnectionState.Connected);
        Assert.Equal(session, client.SessionId);
        Assert.NotNull(await client.ExistsAsync(root).Bounded());
        Assert.Equal(2, proxy.Accepted);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task Pings_keep_an_idle_session_alive_past_its_timeout(ServerKind kind)
    {
        await using var server = await ServerProcess.StartAsync(kind, ShortTicks);
        await using var proxy = new TcpProxy(server.EndPoint);
        await using var client = await Clients.ConnectAsync(proxy.ConnectString, TimeSpan.FromSeconds(3));
        var states = new StateRecorder(client);
        Assert.Equal(TimeSpan.FromSeconds(3), client.SessionTimeout);
        var session = client.SessionId;

        // A ping is 12 bytes and goes out after a third of the session timeout of silence: four of them
        // span more than a session timeout, long enough for the server to expire a session without them.
        const int PingBytes = 12;
        var started = System.Diagnostics.Stopwatch.StartNew();
        await proxy.WaitForClientBytesAsync(proxy.ClientBytes + 4 * PingBytes).Bounded();
        output.WriteLine($"four pings in {started.Elapsed}; states seen: {string.Join(", ", states.Seen)}");
        Assert.True(started.Elapsed > client.SessionTimeout, $"four pings came in {started.Elapsed}: faster than one per third of the timeout");

        Assert.Equal(session, client.SessionId);
        Assert.Equal(1, proxy.Accepted);
        Assert.DoesNotContain(ConnectionState.Disconnected, states.Seen);
        Assert.NotNull(await client.ExistsAsync("/").Bounded());
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task A_dead_host_in_the_list_is_skipped_and_failover_keeps_the_session(ServerKind kind)
    {
        await using var server = await ServerProcess.StartAsync(kind, ShortTicks);
        int deadPort = FreePort();
        await using var first = new TcpProxy(server.EndPoint);
        await using var second = new TcpProxy(server.EndPoint);
        string hosts = $"127.0.0.1:{deadPort},{first.ConnectString},{second.ConnectString}";

        // Several seeds, so the dead host is tried first for some of them.
        for (int seed = 0; seed < 4; seed++)
        {
            await using var client = await Clients.ConnectAsync(hosts, TimeSpan.FromSeconds(6), seed);
            Assert.NotEqual(deadPort, client.CurrentServer!.Value.Port);
            var states = new StateRecorder(client);
            var session = client.SessionId;
            var root = await Clients.FreshRootAsync(client, "failover");
            var watch = await client.ExistsAndWatchAsync(root + "/n").Bounded();

            var current = client.CurrentServer!.Value.Port == first.Port ? first : second;
            var other = current == first ? second : first;
            current.Refuse(true);
            current.SeverAll();
            await states.WaitForAsync(ConnectionState.Disconnected);
            await states.WaitForAsync(ConnectionState.Connected);
            Assert.Equal(other.Port, client.CurrentServer!.Value.Port);
            Assert.Equal(session, client.SessionId);
            current.Refuse(false);

            await client.CreateAsync(root + "/n", null).Bounded();
            Assert.Equal(EventType.NodeCreated, (await watch.Changed.Bounded()).Type);
        }
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task An_expired_session_is_reported_never_hidden(ServerKind kind)
    {
        await using var server = await ServerProcess.StartAsync(kind, ShortTicks);
        await using var proxy = new TcpProxy(server.EndPoint);
        await using var client = await Clients.ConnectAsync(proxy.ConnectString, TimeSpan.FromSeconds(2));
        await using var observer = await Clients.ConnectAsync(server.ConnectString);
        var states = new StateRecorder(client);
        var root = await Clients.FreshRootAsync(client, "expire");
        await client.CreateAsync(root + "/eph", null, CreateMode.Ephemeral).Bounded();
        var watch = await client.GetDataAndWatchAsync(root).Bounded();
        await using var persistent = await client.AddWatchAsync(root).Bounded();
        var ephemeralGone = await observer.ExistsAndWatchAsync(root + "/eph").Bounded();

        proxy.Refuse(true);
        proxy.SeverAll();
        await states.WaitForAsync(ConnectionState.Disconnected);
        // The server expires the session and deletes its ephemeral node; only then let the client back.
        Assert.Equal(EventType.NodeDeleted, (await ephemeralGone.Changed.Bounded()).Type);
        proxy.Refuse(false);
        await states.WaitForAsync(ConnectionState.Expired);

        Assert.Equal(ConnectionState.Expired, client.State);
        var watchError = await Assert.ThrowsAsync<ZooKeeperException>(() => watch.Changed).Bounded();
        Assert.Equal(ErrorCode.SessionExpired, watchError.Code);
        var streamError = await Assert.ThrowsAsync<ZooKeeperException>(async () => { await foreach (var _ in persistent) { } }).Bounded();
        Assert.Equal(ErrorCode.SessionExpired, streamError.Code);
        var opError = await Assert.ThrowsAsync<ZooKeeperException>(() => client.GetDataAsync(root)).Bounded();
        Assert.Equal(ErrorCode.SessionExpired, opError.Code);
        await Assert.ThrowsAsync<ZooKeeperException>(() => client.WaitForConnectedAsync()).Bounded();
    }

    private static int FreePort() => Warden.Testing.TestPorts.Next();
}
