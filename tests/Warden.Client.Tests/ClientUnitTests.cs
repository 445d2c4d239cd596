using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Warden.Protocol;

namespace Warden.Client.Tests;

/// <summary>Parts that need no server: connect strings, options, DI registration, watch fan-out.</summary>
public sealed class ClientUnitTests
{
    [Fact]
    public void Connect_strings_give_hosts_ports_and_chroot()
    {
        var parsed = ConnectionString.Parse("zk1:2181, zk2 ,[::1]:2182/app/x");
        Assert.Equal([new HostAddress("zk1", 2181), new HostAddress("zk2", 2181), new HostAddress("::1", 2182)], parsed.Hosts);
        Assert.Equal("/app/x", parsed.Chroot);
        Assert.Equal("/app/x/n", parsed.ToServerPath("/n"));
        Assert.Equal("/app/x", parsed.ToServerPath("/"));
        Assert.Equal("/n", parsed.ToClientPath("/app/x/n"));
        Assert.Equal("/", parsed.ToClientPath("/app/x"));
        Assert.Equal("/app/xy", parsed.ToClientPath("/app/xy"));
        Assert.Null(ConnectionString.Parse("h:1/").Chroot);
        Assert.Throws<ArgumentException>(() => ConnectionString.Parse("h:99999"));
        Assert.Throws<ArgumentException>(() => ConnectionString.Parse("h:1/app/"));
        Assert.Throws<ArgumentException>(() => ConnectionString.Parse("/app"));
    }

    [Fact]
    public async Task The_DI_extension_registers_one_client_configured_by_options()
    {
        var services = new ServiceCollection();
        services.AddZooKeeperClient(options =>
        {
            // Nothing listens on port 1: the client keeps trying without a server, which is all this needs.
            options.ConnectString = "127.0.0.1:1/app";
            options.SessionTimeout = TimeSpan.FromSeconds(5);
        });
        await using var provider = services.BuildServiceProvider();
        Assert.Equal("127.0.0.1:1/app", provider.GetRequiredService<IOptions<ZooKeeperClientOptions>>().Value.ConnectString);
        var client = provider.GetRequiredService<ZooKeeperClient>();
        Assert.Same(client, provider.GetRequiredService<ZooKeeperClient>());
        Assert.Equal("/app", client.Chroot);
        Assert.False(client.State.IsConnected());
        using var brief = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.WaitForConnectedAsync(brief.Token));
    }

    [Fact]
    public async Task Requests_while_no_server_answers_fail_with_connection_loss_not_a_hang()
    {
        await using var client = new ZooKeeperClient(Options.Create(new ZooKeeperClientOptions { ConnectString = "127.0.0.1:1" }));
        var error = await Assert.ThrowsAsync<ZooKeeperException>(() => client.ExistsAsync("/x")).WaitAsync(Bounds.Wait);
        Assert.Equal(ErrorCode.ConnectionLoss, error.Code);
        Assert.True(error.IsConnectionLoss);
        await Assert.ThrowsAsync<ArgumentException>(() => client.ExistsAsync("no-slash"));
    }

    [Fact]
    public async Task Closing_a_client_ends_its_watches_and_refuses_new_requests()
    {
        var client = new ZooKeeperClient(Options.Create(new ZooKeeperClientOptions { ConnectString = "127.0.0.1:1" }));
        var states = new StateRecorder(client);
        await client.CloseAsync().WaitAsync(Bounds.Wait);
        Assert.Equal(ConnectionState.Closed, client.State);
        await states.WaitForAsync(ConnectionState.Closed);
        var error = await Assert.ThrowsAsync<ZooKeeperException>(() => client.GetDataAsync("/x"));
        Assert.Equal(ErrorCode.ConnectionLoss, error.Code);
    }

    [Fact]
    public void The_watch_table_fans_out_as_Apache_does()
    {
        var registry = new WatchRegistry();
        var data = new RecordingSink();
        var child = new RecordingSink();
        var recursive = new RecordingSink();
        registry.Add(WatchKind.Data, "/a/b", data);
        registry.Add(WatchKind.Child, "/a/b", child);
        registry.Add(WatchKind.PersistentRecursive, "/a", recursive);

        registry.Dispatch(new WatchedEvent(EventType.NodeChildrenChanged, KeeperState.SyncConnected, "/a/b"));
        registry.Dispatch(new WatchedEvent(EventType.NodeDataChanged, KeeperState.SyncConnected, "/a/b"));
        registry.Dispatch(new WatchedEvent(EventType.NodeDataChanged, KeeperState.SyncConnected, "/a/b"));

        Assert.Equal([EventType.NodeDataChanged], data.Types);
        Assert.Equal([EventType.NodeChildrenChanged], child.Types);
        // Recursive watches never see children-changed, and are not used up.
        Assert.Equal([EventType.NodeDataChanged, EventType.NodeDataChanged], recursive.Types);
        var left = registry.Snapshot();
        Assert.Empty(left.Data);
        Assert.Equal(["/a"], left.PersistentRecursive);
    }

    private sealed class RecordingSink : WatchSink
    {
        public List<EventType> Types { get; } = [];
        public override void Deliver(WatchedEvent watchedEvent) => Types.Add(watchedEvent.Type);
        public override void End(ZooKeeperException? error) { }
    }
}
