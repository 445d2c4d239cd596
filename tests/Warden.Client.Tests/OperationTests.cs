using Warden.Protocol;
using Warden.Testing;
using static Warden.Client.Tests.Bounds;

namespace Warden.Client.Tests;

/// <summary>Every operation against both servers; the same assertions must hold on each.</summary>
[Collection(ServerCollection.Name)]
public sealed class OperationTests(SharedServers servers)
{
    private async Task<(ZooKeeperClient Client, string Root)> StartAsync(ServerKind kind)
    {
        var server = await servers.GetAsync(kind);
        var client = await Clients.ConnectAsync(server.ConnectString);
        return (client, await Clients.FreshRootAsync(client, "ops"));
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task Create_get_set_delete_round_trip_with_stats_and_versions(ServerKind kind)
    {
        var (client, root) = await StartAsync(kind);
        await using var _ = client;

        var created = await client.CreateAsync(root + "/a", Bytes("one")).Bounded();
        Assert.Equal(root + "/a", created.Path);
        Assert.Equal(0, created.Stat.Version);
        Assert.Equal(3, created.Stat.DataLength);
        Assert.Equal(created.Stat.Czxid, created.Stat.Mzxid);

        var read = await client.GetDataAsync(root + "/a").Bounded();
        Assert.Equal("one", Text(read.Data));
        Assert.Equal(created.Stat, read.Stat);

        var updated = await client.SetDataAsync(root + "/a", Bytes("two"), version: 0).Bounded();
        Assert.Equal(1, updated.Version);
        Assert.True(updated.Mzxid > created.Stat.Mzxid);

        var stale = await Assert.ThrowsAsync<ZooKeeperException>(() => client.SetDataAsync(root + "/a", Bytes("x"), version: 0)).Bounded();
        Assert.Equal(ErrorCode.BadVersion, stale.Code);
        Assert.Equal(root + "/a", stale.Path);

        var exists = await Assert.ThrowsAsync<ZooKeeperException>(() => client.CreateAsync(root + "/a", null)).Bounded();
        Assert.Equal(ErrorCode.NodeExists, exists.Code);

        await client.DeleteAsync(root + "/a", version: 1).Bounded();
        Assert.Null(await client.ExistsAsync(root + "/a").Bounded());
        var missing = await Assert.ThrowsAsync<ZooKeeperException>(() => client.GetDataAsync(root + "/a")).Bounded();
        Assert.Equal(ErrorCode.NoNode, missing.Code);
        Assert.Equal(root + "/a", missing.Path);

        await client.CreateAsync(root + "/b", null).Bounded();
        await client.CreateAsync(root + "/b/c", null).Bounded();
        var notEmpty = await Assert.ThrowsAsync<ZooKeeperException>(() => client.DeleteAsync(root + "/b")).Bounded();
        Assert.Equal(ErrorCode.NotEmpty, notEmpty.Code);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task Every_create_mode_makes_the_node_it_names(ServerKind kind)
    {
        var (client, root) = await StartAsync(kind);
        await using var _ = client;

        var ephemeral = await client.CreateAsync(root + "/eph", null, CreateMode.Ephemeral).Bounded();
        Assert.Equal(client.SessionId.Value, ephemeral.Stat.EphemeralOwner);

        var first = await client.CreateAsync(root + "/seq-", null, CreateMode.PersistentSequential).Bounded();
        var second = await client.CreateAsync(root + "/seq-", null, CreateMode.EphemeralSequential).Bounded();
        Assert.Matches(@"/seq-\d{10}$", first.Path);
        Assert.True(string.CompareOrdinal(second.Path, first.Path) > 0, $"{second.Path} should follow {first.Path}");

        var container = await client.CreateAsync(root + "/container", null, CreateMode.Container).Bounded();
        Assert.Equal(root + "/container", container.Path);

        var ttl = await client.CreateAsync(root + "/ttl", Bytes("t"), CreateMode.PersistentWithTtl, ttl: TimeSpan.FromMinutes(5)).Bounded();
        Assert.Equal(root + "/ttl", ttl.Path);
        // Containers and TTL nodes keep their kind in ephemeralOwner on the server, but clients are shown 0.
        Assert.Equal(0, container.Stat.EphemeralOwner);
        Assert.Equal(0, ttl.Stat.EphemeralOwner);
        Assert.Equal(0, (await client.ExistsAsync(root + "/ttl").Bounded())!.Value.EphemeralOwner);
        var ttlSequential = await client.CreateAsync(root + "/ttlseq-", null, CreateMode.PersistentSequentialWithTtl, ttl: TimeSpan.FromMinutes(5)).Bounded();
        Assert.Matches(@"/ttlseq-\d{10}$", ttlSequential.Path);

        var children = await client.GetChildrenAsync(root).Bounded();
        Assert.Equal(6, children.Children.Count);
        Assert.Equal(6, children.Stat.NumChildren);

        var noChildren = await Assert.ThrowsAsync<ZooKeeperException>(() => client.CreateAsync(root + "/eph/child", null)).Bounded();
        Assert.Equal(ErrorCode.NoChildrenForEphemerals, noChildren.Code);
        Assert.Throws<ArgumentException>(() => { var pending = client.CreateAsync(root + "/ttl2", null, CreateMode.PersistentWithTtl); });
        Assert.Throws<ArgumentException>(() => { var pending = client.CreateAsync(root + "/bad/", null); });
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task Children_counts_and_ephemerals_are_reported(ServerKind kind)
    {
        var (client, root) = await StartAsync(kind);
        await using var _ = client;

        await client.CreateAsync(root + "/p", null).Bounded();
        await client.CreateAsync(root + "/p/x", null).Bounded();
        await client.CreateAsync(root + "/p/x/y", null).Bounded();
        await client.CreateAsync(root + "/e1", null, CreateMode.Ephemeral).Bounded();
        await client.CreateAsync(root + "/p/e2", null, CreateMode.Ephemeral).Bounded();

        Assert.Equal(5, await client.GetAllChildrenNumberAsync(root).Bounded());
        var children = await client.GetChildrenAsync(root + "/p").Bounded();
        Assert.Equal(["e2", "x"], children.Children.Order(StringComparer.Ordinal));
        var ephemerals = await client.GetEphemeralsAsync(root).Bounded();
        Assert.Equal([root + "/e1", root + "/p/e2"], ephemerals.Order(StringComparer.Ordinal));
        await client.SyncAsync(root).Bounded();
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task Acls_and_digest_auth_guard_nodes(ServerKind kind)
    {
        var (client, root) = await StartAsync(kind);
        await using var _ = client;
        var server = await servers.GetAsync(kind);
        await using var other = await Clients.ConnectAsync(server.ConnectString);

        await client.AddAuthAsync("digest", Bytes("alice:secret")).Bounded();
        var who = await client.WhoAmIAsync().Bounded();
        Assert.Contains(who, info => info.AuthScheme == "digest" && info.User == "alice");

        var creatorOnly = new[] { new Acl(Perms.All, new Id("auth", "")) };
        await client.CreateAsync(root + "/private", Bytes("s"), acl: creatorOnly).Bounded();
        var acl = await client.GetAclAsync(root + "/private").Bounded();
        Assert.Equal("digest", Assert.Single(acl.Acl).Id.Scheme);
        Assert.StartsWith("alice:", acl.Acl[0].Id.Identity);

        var denied = await Assert.ThrowsAsync<ZooKeeperException>(() => other.GetDataAsync(root + "/private")).Bounded();
        Assert.Equal(ErrorCode.NoAuth, denied.Code);

        var stat = await client.SetAclAsync(root + "/private", Acl.OpenUnsafe, aclVersion: 0).Bounded();
        Assert.Equal(1, stat.Aversion);
        Assert.Equal("s", Text((await other.GetDataAsync(root + "/private").Bounded()).Data));
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task Multi_is_all_or_nothing_and_multi_read_reports_each_result(ServerKind kind)
    {
        var (client, root) = await StartAsync(kind);
        await using var _ = client;

        var results = await client.MultiAsync([
            Op.Create(root + "/m", Bytes("1")),
            Op.Create(root + "/m/s-", null, CreateMode.PersistentSequential),
            Op.SetData(root + "/m", Bytes("2"), 0),
            Op.Check(root + "/m", 1),
        ]).Bounded();
        Assert.Equal(root + "/m", Assert.IsType<OpResult.Create>(results[0]).Path);
        Assert.Matches(@"/m/s-\d{10}$", Assert.IsType<OpResult.Create>(results[1]).Path);
        Assert.Equal(1, Assert.IsType<OpResult.SetData>(results[2]).Stat.Version);
        Assert.IsType<OpResult.Check>(results[3]);

        var failure = await Assert.ThrowsAsync<MultiOperationException>(() => client.MultiAsync([
            Op.Create(root + "/n", null),
            Op.Delete(root + "/missing"),
        ])).Bounded();
        Assert.Equal(ErrorCode.NoNode, failure.Code);
        Assert.Equal(1, failure.FailedIndex);
        Assert.Equal(root + "/missing", failure.Path);
        Assert.Equal(2, failure.Results.Count);
        Assert.Null(await client.ExistsAsync(root + "/n").Bounded());

        var reads = await client.MultiReadAsync([Op.GetData(root + "/m"), Op.GetChildren(root + "/m"), Op.GetData(root + "/none")]).Bounded();
        Assert.Equal("2", Text(Assert.IsType<OpResult.GetData>(reads[0]).Data));
        Assert.Single(Assert.IsType<OpResult.GetChildren>(reads[1]).Children);
        Assert.Equal(ErrorCode.NoNode, Assert.IsType<OpResult.Error>(reads[2]).Code);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task Pipelined_requests_are_answered_in_the_order_they_were_sent(ServerKind kind)
    {
        var (client, root) = await StartAsync(kind);
        await using var _ = client;

        // Sequential suffixes follow the order the server applied the creates; replies matched in xid
        // order mean the i-th call gets the i-th suffix.
        var creates = Enumerable.Range(0, 500)
            .Select(_ => client.CreateAsync(root + "/s-", null, CreateMode.PersistentSequential))
            .ToArray();
        var paths = await Task.WhenAll(creates).Bounded();
        for (int i = 0; i < paths.Length; i++) Assert.Equal($"{root}/s-{i:D10}", paths[i].Path);
        Assert.Equal(500, (await client.GetChildrenAsync(root).Bounded()).Stat.NumChildren);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task A_chroot_makes_paths_relative_both_ways(ServerKind kind)
    {
        var server = await servers.GetAsync(kind);
        await using var plain = await Clients.ConnectAsync(server.ConnectString);
        var root = await Clients.FreshRootAsync(plain, "chroot");
        await using var rooted = await Clients.ConnectAsync(server.ConnectString + root);
        Assert.Equal(root, rooted.Chroot);

        var created = await rooted.CreateAsync("/app", Bytes("x")).Bounded();
        Assert.Equal("/app", created.Path);
        Assert.NotNull(await plain.ExistsAsync(root + "/app").Bounded());
        var sequential = await rooted.CreateAsync("/app/q-", null, CreateMode.EphemeralSequential).Bounded();
        Assert.StartsWith("/app/q-", sequential.Path);
        Assert.Equal([sequential.Path], await rooted.GetEphemeralsAsync("/app").Bounded());

        var watched = await rooted.GetDataAndWatchAsync("/app").Bounded();
        await plain.SetDataAsync(root + "/app", Bytes("y")).Bounded();
        var changed = await watched.Changed.Bounded();
        Assert.Equal(new WatchedEvent(EventType.NodeDataChanged, KeeperState.SyncConnected, "/app"), changed);
        Assert.Equal(["app"], (await rooted.GetChildrenAsync("/").Bounded()).Children);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task Closing_ends_the_session_and_its_ephemeral_nodes_at_once(ServerKind kind)
    {
        var server = await servers.GetAsync(kind);
        await using var observer = await Clients.ConnectAsync(server.ConnectString);
        var root = await Clients.FreshRootAsync(observer, "close");
        var client = await Clients.ConnectAsync(server.ConnectString, TimeSpan.FromSeconds(30));
        await client.CreateAsync(root + "/eph", null, CreateMode.Ephemeral).Bounded();
        var gone = await observer.ExistsAndWatchAsync(root + "/eph").Bounded();
        Assert.NotNull(gone.Value);

        await client.CloseAsync().Bounded();
        Assert.Equal(ConnectionState.Closed, client.State);
        // Deleted by closeSession, long before the 30 s session timeout.
        Assert.Equal(EventType.NodeDeleted, (await gone.Changed.Bounded()).Type);
        var after = await Assert.ThrowsAsync<ZooKeeperException>(() => client.ExistsAsync(root)).Bounded();
        Assert.Equal(ErrorCode.ConnectionLoss, after.Code);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task Credentials_the_server_refuses_end_the_session_as_auth_failed(ServerKind kind)
    {
        var (client, root) = await StartAsync(kind);
        await using var _ = client;
        var states = new StateRecorder(client);
        var callbackEvents = System.Threading.Channels.Channel.CreateUnbounded<WatchedEvent>();
        await client.GetDataAsync(root, e => callbackEvents.Writer.TryWrite(e)).Bounded();

        var refused = await Assert.ThrowsAsync<ZooKeeperException>(() => client.AddAuthAsync("no-such-scheme", Bytes("x"))).Bounded();
        Assert.Equal(ErrorCode.AuthFailed, refused.Code);
        await states.WaitForAsync(ConnectionState.AuthFailed);
        Assert.Equal(ConnectionState.AuthFailed, client.State);
        Assert.Equal(new WatchedEvent(EventType.None, KeeperState.AuthFailed, null), await callbackEvents.Reader.ReadAsync().AsTask().Bounded());
        var after = await Assert.ThrowsAsync<ZooKeeperException>(() => client.ExistsAsync(root)).Bounded();
        Assert.Equal(ErrorCode.AuthFailed, after.Code);
    }
}
