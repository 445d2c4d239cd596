using Warden.Protocol;
using Warden.Testing;
using Xunit.Abstractions;
using static Warden.Client.Tests.Bounds;

namespace Warden.Client.Tests;

/// <summary>
/// The server process is killed and a new one started on the same data directory. The fixture gives every
/// server a fresh port, so the client reaches both through one <see cref="TcpProxy"/> address: to the client
/// it is the same host coming back. The session must come back with its data and watches, or be reported
/// expired: never silently replaced. A server that lost its data refuses to resume a session that saw a newer
/// zxid than it has; the client then reports expiry once the session timeout has passed.
/// </summary>
public sealed class RestartTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task After_a_server_restart_the_session_resumes_or_is_reported_expired(ServerKind kind)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("warden-client-restart-").FullName;
        try
        {
            var config = new Dictionary<string, string> { ["dataDir"] = dataDirectory.Replace('\\', '/') };
            var first = await ServerProcess.StartAsync(kind, config);
            await using var proxy = new TcpProxy(first.EndPoint);
            await using var client = await Clients.ConnectAsync(proxy.ConnectString, TimeSpan.FromSeconds(12));
            var states = new StateRecorder(client);
            var session = client.SessionId;
            var root = await Clients.FreshRootAsync(client, "restart");
            await client.CreateAsync(root + "/data", Bytes("kept")).Bounded();
            await client.CreateAsync(root + "/eph", null, CreateMode.Ephemeral).Bounded();
            var watch = await client.GetDataAndWatchAsync(root + "/data").Bounded();

            await first.DisposeAsync();
            await states.WaitForAsync(ConnectionState.Disconnected);
            await using var second = await ServerProcess.StartAsync(kind, config);
            proxy.Retarget(second.EndPoint);

            var outcome = await states.WaitForAnyAsync(ConnectionState.Connected, ConnectionState.Expired);
            await using var observer = await Clients.ConnectAsync(second.ConnectString);
            var dataAfter = await observer.ExistsAsync(root + "/data").Bounded();
            output.WriteLine($"{kind}: after restart the session {session} is {outcome}; data {(dataAfter is null ? "lost" : "kept")}");

            if (outcome == ConnectionState.Connected)
            {
                Assert.Equal(session, client.SessionId);
                Assert.Equal("kept", Text((await client.GetDataAsync(root + "/data").Bounded()).Data));
                Assert.Equal(client.SessionId.Value, (await client.ExistsAsync(root + "/eph").Bounded())!.Value.EphemeralOwner);
                await observer.SetDataAsync(root + "/data", Bytes("changed")).Bounded();
                Assert.Equal(EventType.NodeDataChanged, (await watch.Changed.Bounded()).Type);
            }
            else
            {
                var error = await Assert.ThrowsAsync<ZooKeeperException>(() => watch.Changed).Bounded();
                Assert.Equal(ErrorCode.SessionExpired, error.Code);
                Assert.Null(await observer.ExistsAsync(root + "/eph").Bounded());
            }
            // Apache keeps its sessions and tree in the data directory: the session must survive it.
            if (kind == ServerKind.Apache) Assert.Equal(ConnectionState.Connected, outcome);
        }
        finally
        {
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
