using System.Threading.Channels;
using Warden.Protocol;
using Warden.Testing;
using static Warden.Client.Tests.Bounds;

namespace Warden.Client.Tests;

[Collection(ServerCollection.Name)]
public sealed class WatchTests(SharedServers servers)
{
    private async Task<(ZooKeeperClient Client, ZooKeeperClient Other, string Root)> StartAsync(ServerKind kind)
    {
        var server = await servers.GetAsync(kind);
        var client = await Clients.ConnectAsync(server.ConnectString);
        var other = await Clients.ConnectAsync(server.ConnectString);
        return (client, other, await Clients.FreshRootAsync(client, "watch"));
    }

    private static WatchedEvent Event(EventType type, string path) => new(type, KeeperState.SyncConnected, path);

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task One_shot_watches_fire_once_for_the_change_they_watch(ServerKind kind)
    {
        var (client, other, root) = await StartAsync(kind);
        await using var _ = client;
        await using var __ = other;

        var absent = await client.ExistsAndWatchAsync(root + "/n").Bounded();
        Assert.Null(absent.Value);
        var children = await client.GetChildrenAndWatchAsync(root).Bounded();
        await other.CreateAsync(root + "/n", Bytes("a")).Bounded();
        Assert.Equal(Event(EventType.NodeCreated, root + "/n"), await absent.Changed.Bounded());
        Assert.Equal(Event(EventType.NodeChildrenChanged, root), await children.Changed.Bounded());

        var data = await client.GetDataAndWatchAsync(root + "/n").Bounded();
        var secondOnSamePath = await client.ExistsAndWatchAsync(root + "/n").Bounded();
        await other.SetDataAsync(root + "/n", Bytes("b")).Bounded();
        Assert.Equal(Event(EventType.NodeDataChanged, root + "/n"), await data.Changed.Bounded());
        Assert.Equal(Event(EventType.NodeDataChanged, root + "/n"), await secondOnSamePath.Changed.Bounded());

        // Fired watches are gone: the next change reaches only a newly set watch.
        var callbackEvents = Channel.CreateUnbounded<WatchedEvent>();
        await client.GetDataAsync(root + "/n", e => callbackEvents.Writer.TryWrite(e)).Bounded();
        await other.DeleteAsync(root + "/n").Bounded();
        Assert.Equal(Event(EventType.NodeDeleted, root + "/n"), await callbackEvents.Reader.ReadAsync().AsTask().Bounded());
        await other.CreateAsync(root + "/n", null).Bounded();
        await other.SetDataAsync(root + "/n", Bytes("c")).Bounded();
        // A round trip after the changes: any stray event would have arrived before its reply.
        await client.SyncAsync(root + "/n").Bounded();
        await client.ExistsAsync(root + "/n").Bounded();
        Assert.False(callbackEvents.Reader.TryRead(out var stray), $"unexpected {stray}");
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task A_recursive_watch_streams_every_descendant_change_but_not_child_lists(ServerKind kind)
    {
        var (client, other, root) = await StartAsync(kind);
        await using var _ = client;
        await using var __ = other;

        await using var watch = await client.AddWatchAsync(root, AddWatchMode.PersistentRecursive).Bounded();
        await other.CreateAsync(root + "/a", null).Bounded();
        await other.CreateAsync(root + "/a/b", null).Bounded();
        await other.SetDataAsync(root + "/a/b", Bytes("x")).Bounded();
        await other.DeleteAsync(root + "/a/b").Bounded();

        var expected = new[]
        {
            Event(EventType.NodeCreated, root + "/a"),
            Event(EventType.NodeCreated, root + "/a/b"),
            Event(EventType.NodeDataChanged, root + "/a/b"),
            Event(EventType.NodeDeleted, root + "/a/b"),
        };
        foreach (var want in expected) Assert.Equal(want, await watch.ReadAsync().AsTask().Bounded());
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task A_persistent_watch_keeps_firing_until_disposed(ServerKind kind)
    {
        var (client, other, root) = await StartAsync(kind);
        await using var _ = client;
        await using var __ = other;

        var watch = await client.AddWatchAsync(root, AddWatchMode.Persistent).Bounded();
        await other.CreateAsync(root + "/c", null).Bounded();
        await other.SetDataAsync(root, Bytes("1")).Bounded();
        await other.SetDataAsync(root, Bytes("2")).Bounded();
        var seen = new List<WatchedEvent>();
        await foreach (var e in watch)
        {
            seen.Add(e);
            if (seen.Count == 3) break;
        }
        Assert.Equal([Event(EventType.NodeChildrenChanged, root), Event(EventType.NodeDataChanged, root), Event(EventType.NodeDataChanged, root)], seen);

        await watch.DisposeAsync();
        // After disposal neither the client nor (once it has no other watch there) the server keeps it.
        var removal = await Assert.ThrowsAsync<ZooKeeperException>(() => client.RemoveWatchesAsync(root, WatcherType.Any)).Bounded();
        Assert.Equal(ErrorCode.NoWatcher, removal.Code);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task Removed_watches_hear_that_they_were_removed(ServerKind kind)
    {
        var (client, other, root) = await StartAsync(kind);
        await using var _ = client;
        await using var __ = other;

        var data = await client.GetDataAndWatchAsync(root).Bounded();
        var children = await client.GetChildrenAndWatchAsync(root).Bounded();
        await client.RemoveWatchesAsync(root, WatcherType.Data).Bounded();
        Assert.Equal(Event(EventType.DataWatchRemoved, root), await data.Changed.Bounded());
        Assert.False(children.Changed.IsCompleted);

        await client.RemoveWatchesAsync(root, WatcherType.Children).Bounded();
        Assert.Equal(Event(EventType.ChildWatchRemoved, root), await children.Changed.Bounded());

        var none = await Assert.ThrowsAsync<ZooKeeperException>(() => client.RemoveWatchesAsync(root, WatcherType.Data)).Bounded();
        Assert.Equal(ErrorCode.NoWatcher, none.Code);
        Assert.Equal(root, none.Path);

        await using var persistent = await client.AddWatchAsync(root, AddWatchMode.PersistentRecursive).Bounded();
        await client.RemoveWatchesAsync(root, WatcherType.Any).Bounded();
        var last = await persistent.ReadAsync().AsTask().Bounded();
        Assert.Equal(EventType.PersistentWatchRemoved, last.Type);

        // The server no longer sends events for the path: a change is followed by no event at all.
        var sentinel = await client.ExistsAndWatchAsync(root + "/later").Bounded();
        await other.SetDataAsync(root, Bytes("z")).Bounded();
        await other.CreateAsync(root + "/later", null).Bounded();
        Assert.Equal(EventType.NodeCreated, (await sentinel.Changed.Bounded()).Type);
        Assert.False(persistent.ReadAsync().AsTask().IsCompletedSuccessfully);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task One_callback_watching_a_node_twice_hears_each_change_once(ServerKind kind)
    {
        var (client, other, root) = await StartAsync(kind);
        await using var _ = client;
        await using var __ = other;
        var events = Channel.CreateUnbounded<WatchedEvent>();
        Action<WatchedEvent> watcher = e => events.Writer.TryWrite(e);
        await client.CreateAsync(root + "/n", null).Bounded();
        await client.GetDataAsync(root + "/n", watcher).Bounded();
        await client.ExistsAsync(root + "/n", watcher).Bounded();
        await client.GetDataAsync(root + "/n", watcher).Bounded();
        await client.AddWatchAsync(root + "/n", AddWatchMode.Persistent, watcher).Bounded();
        await other.DeleteAsync(root + "/n").Bounded();
        await client.SyncAsync(root).Bounded();
        await client.WhenEventsDeliveredAsync().Bounded();
        Assert.True(events.Reader.TryRead(out var deleted));
        Assert.Equal(Event(EventType.NodeDeleted, root + "/n"), deleted);
        Assert.False(events.Reader.TryRead(out var stray), $"unexpected {stray}");

        // The persistent watch stays; removing every watch at the path says so once per kind.
        await other.CreateAsync(root + "/n", null).Bounded();
        await client.SyncAsync(root).Bounded();
        await client.WhenEventsDeliveredAsync().Bounded();
        Assert.True(events.Reader.TryRead(out var created));
        Assert.Equal(Event(EventType.NodeCreated, root + "/n"), created);
        await client.RemoveWatchesAsync(root + "/n", WatcherType.Any).Bounded();
        await client.WhenEventsDeliveredAsync().Bounded();
        Assert.True(events.Reader.TryRead(out var removed));
        Assert.Equal(Event(EventType.PersistentWatchRemoved, root + "/n"), removed);
        Assert.False(events.Reader.TryRead(out var extra), $"unexpected {extra}");
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task A_node_created_without_data_reads_as_null(ServerKind kind)
    {
        var (client, other, root) = await StartAsync(kind);
        await using var _ = client;
        await using var __ = other;
        await client.CreateAsync(root + "/none", null).Bounded();
        await client.CreateAsync(root + "/empty", []).Bounded();
        Assert.True((await client.GetDataAsync(root + "/none").Bounded()).IsNull);
        var empty = await client.GetDataAsync(root + "/empty").Bounded();
        Assert.False(empty.IsNull);
        Assert.Empty(empty.Data);
    }
}
