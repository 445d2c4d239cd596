using System.Text;
using System.Threading.Channels;
using Warden.Protocol;
using Warden.Testing;

namespace Warden.Client.Tests;

/// <summary>
/// One Apache ZooKeeper and one Warden server shared by the tests of the collection, started on first use.
/// Each test works under its own fresh path, so tests do not see each other's nodes.
/// </summary>
public sealed class SharedServers : IAsyncLifetime
{
    /// <summary>TTL nodes need extended types; both servers get the same zoo.cfg keys.</summary>
    public static readonly IReadOnlyDictionary<string, string> Config = new Dictionary<string, string>
    {
        ["extendedTypesEnabled"] = "true",
    };

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<ServerKind, ServerProcess> _servers = [];

    public async Task<ServerProcess> GetAsync(ServerKind kind)
    {
        await _gate.WaitAsync();
        try
        {
            if (!_servers.TryGetValue(kind, out var server) || !server.IsRunning)
            {
                server = await ServerProcess.StartAsync(kind, Config);
                _servers[kind] = server;
            }
            return server;
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var server in _servers.Values) await server.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<SharedServers>
{
    public const string Name = "servers";
}

public static class Bounds
{
    /// <summary>Every wait in a test is bounded by this; nothing the tests wait for should take a tenth of it.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    public static Task<T> Bounded<T>(this Task<T> task) => task.WaitAsync(Wait);
    public static Task Bounded(this Task task) => task.WaitAsync(Wait);
    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}

/// <summary>Records a client's state changes so a test can await one that may already have happened.</summary>
public sealed class StateRecorder
{
    private readonly Channel<ConnectionStateChange> _changes = Channel.CreateUnbounded<ConnectionStateChange>();
    private readonly List<ConnectionState> _seen = [];

    public StateRecorder(ZooKeeperClient client)
    {
        client.StateChanged += (_, change) =>
        {
            lock (_seen) _seen.Add(change.Current);
            _changes.Writer.TryWrite(change);
        };
    }

    public IReadOnlyList<ConnectionState> Seen
    {
        get { lock (_seen) return [.. _seen]; }
    }

    /// <summary>Waits (bounded) for the next change into <paramref name="state"/>, consuming earlier ones.</summary>
    public Task WaitForAsync(ConnectionState state) => WaitForAnyAsync(state);

    /// <summary>Waits (bounded) for the next change into any of <paramref name="states"/> and returns it.</summary>
    public async Task<ConnectionState> WaitForAnyAsync(params ConnectionState[] states)
    {
        using var bound = new CancellationTokenSource(Bounds.Wait);
        while (true)
        {
            var change = await _changes.Reader.ReadAsync(bound.Token);
            if (states.Contains(change.Current)) return change.Current;
        }
    }
}

/// <summary>Builds clients and per-test base paths.</summary>
public static class Clients
{
    public static Task<ZooKeeperClient> ConnectAsync(string connectString, TimeSpan? sessionTimeout = null, int? seed = null) =>
        ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
        {
            ConnectString = connectString,
            SessionTimeout = sessionTimeout ?? TimeSpan.FromSeconds(10),
            HostOrderSeed = seed,
        }).Bounded();

    /// <summary>A fresh, empty persistent node for one test.</summary>
    public static async Task<string> FreshRootAsync(ZooKeeperClient client, string name)
    {
        var created = await client.CreateAsync($"/{name}-{Guid.NewGuid():N}", null).Bounded();
        return created.Path;
    }

    public static string Suffix(string path) => path[(path.LastIndexOf('/') + 1)..];
}
