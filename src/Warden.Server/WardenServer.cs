using Microsoft.Extensions.Logging;
using Warden.Data;
using Warden.Server.Network;
using Warden.Server.Processing;
using Warden.Server.Replication;

namespace Warden.Server;

/// <summary>
/// A standalone Warden server: the state-machine loop, the replicator behind it, the client listener and the
/// session clock. <see cref="StartAsync"/> binds the port first, so a port already taken fails before anything
/// else has started.
/// </summary>
public sealed class WardenServer : IAsyncDisposable
{
    private readonly ServerSettings _settings;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly IReplicator _replicator;
    private readonly CancellationTokenSource _stopping = new();
    private ClientListener? _listener;
    private Task? _loop;
    private Task? _clock;
    private Task? _containers;

    private readonly Persistence? _persistence;
    private readonly Quorum.QuorumPeerHost? _quorum;
    private readonly TaskCompletionSource<Exception> _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _purge;
    private Admin.AdminServer? _admin;
    private Admin.PrometheusEndpoint? _prometheus;
    private readonly bool _trimHeap;
    private Task? _heapTrim;

    /// <param name="trimHeap">
    /// Loads the data directory with the collector held off (<see cref="HeapTrimmer.LoadHoldingCollections"/>), gives
    /// memory back to the operating system once after the load and then after each burst of work
    /// (<see cref="HeapTrimmer"/>). The GC is the whole process's, so only a process that is the server (the warden
    /// executable) turns it on; a host that runs servers among other work leaves it off.
    /// </param>
    public WardenServer(ServerSettings settings, ILogger log, TimeProvider? time = null, IReplicator? replicator = null, DataTree? tree = null,
        bool trimHeap = false)
    {
        _settings = settings;
        _log = log;
        _time = time ?? TimeProvider.System;
        _trimHeap = trimHeap;
        if (replicator is null && tree is null && settings.Ensemble is not null)
        {
            // An ensemble member: the quorum peer is the replicator, and nobody is served until a leader is found.
            var storage = trimHeap
                ? HeapTrimmer.LoadHoldingCollections(settings.DataDir, log, () => Warden.Server.Quorum.EnsembleStorage.Open(settings, log))
                : Warden.Server.Quorum.EnsembleStorage.Open(settings, log);
            _quorum = new Warden.Server.Quorum.QuorumPeerHost(settings, storage, log, _time);
            _quorum.Failed.ContinueWith(t => _failed.TrySetResult(t.Result), TaskScheduler.Default);
            Core = new ServerCore(settings, _quorum, _time, log, storage.Loaded.Tree, ServingMode.NotServing);
            Core.RestoreSessions(storage.Loaded.SessionTimeoutsMs);
            _quorum.Attach(Core);
            _replicator = _quorum;
            if (trimHeap) HeapTrimmer.TrimIfWorthIt(log, "after loading the data directory");
            return;
        }
        if (replicator is null && tree is null && settings.Persistent)
        {
            _persistence = trimHeap
                ? HeapTrimmer.LoadHoldingCollections(settings.DataDir, log, () => Persistence.Open(settings, log))
                : Persistence.Open(settings, log);
            tree = _persistence.Loaded.Tree;
            var logReplicator = _persistence.Replicator;
            logReplicator.SnapshotDue += () => _ = _persistence.TakeSnapshotAsync(Core!);
            logReplicator.Failed += e => _failed.TrySetResult(new IOException(
                $"the txn log in {settings.DataLogDir} cannot be written: {e.Message}; free space or fix permissions there, " +
                "then restart (nothing that was not written was acknowledged)", e));
            replicator = logReplicator;
        }
        _replicator = replicator ?? new InMemoryReplicator();
        Core = new ServerCore(settings, _replicator, _time, log, tree);
        if (_persistence is not null) Core.RestoreSessions(_persistence.Loaded.SessionTimeoutsMs);
        // The loader's short-lived objects (each node's path, the records read) have made the GC commit more than
        // the tree needs; nobody is served yet, so a compacting collection now costs start time only.
        if (trimHeap && _persistence is not null) HeapTrimmer.TrimIfWorthIt(log, "after loading the data directory");
    }

    /// <summary>Completes when the server can no longer make writes durable; the host should stop.</summary>
    public Task<Exception> Failed => _failed.Task;

    public ServerCore Core { get; }

    /// <summary>The quorum peer of an ensemble member; null for a standalone server.</summary>
    public Quorum.QuorumPeerHost? Quorum => _quorum;

    /// <summary>Client connections open now (mntr's num_alive_connections).</summary>
    public int ClientConnectionCount => _listener?.ConnectionCount ?? 0;

    public System.Net.IPEndPoint LocalEndPoint => _listener?.LocalEndPoint ?? throw new InvalidOperationException("the server is not started");

    /// <summary>The AdminServer, when it is on and started.</summary>
    public Admin.AdminServer? AdminServer => _admin;

    /// <summary>The Prometheus endpoint, when it is configured and started.</summary>
    public Admin.PrometheusEndpoint? Prometheus => _prometheus;

    public async Task StartAsync()
    {
        _listener = new ClientListener(Core, _log);
        _loop = Task.Factory.StartNew(() => Core.RunAsync(_stopping.Token), _stopping.Token,
            TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        // A broken invariant stops the loop; the host must stop too rather than serve without answering.
        _ = _loop.ContinueWith(t => _failed.TrySetResult(new InvalidOperationException(
                $"the request loop stopped: {t.Exception!.GetBaseException().Message}", t.Exception)),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        _clock = RunClockAsync(_stopping.Token);
        _containers = RunContainerManagerAsync(_stopping.Token);
        if (_persistence is not null && _settings.PurgeIntervalHours > 0) _purge = RunPurgeAsync(_persistence, _stopping.Token);
        if (_trimHeap) _heapTrim = HeapTrimmer.RunAsync(_log, _time, _stopping.Token);
        // The HTTP endpoints first, so that a server that answers its client port answers them too.
        await StartHttpEndpointsAsync(_listener.FourLetterWords).ConfigureAwait(false);
        _listener.Start();
        if (_quorum is not null)
        {
            _quorum.Run();
            _log.LogInformation("Warden server.{Id} is up: clients on {Endpoint} once a leader is elected (tickTime={TickTimeMs}ms, {Members} servers)",
                _settings.Ensemble!.MyId, _listener.LocalEndPoint, _settings.TickTimeMs, _settings.Ensemble.Members.Count);
            return;
        }
        _log.LogInformation("Warden is serving clients on {Endpoint} (standalone, tickTime={TickTimeMs}ms)",
            _listener.LocalEndPoint, _settings.TickTimeMs);
    }

    /// <summary>
    /// The AdminServer and /metrics. Neither is needed to serve clients, so a port that cannot be bound is logged
    /// and the server carries on without that endpoint.
    /// </summary>
    private async Task StartHttpEndpointsAsync(FourLetterWords words)
    {
        if (Core.Replicator.Fsync is { } fsync && _settings.SystemProperties.TryGetValue("zookeeper.fsync.warningthresholdms", out var threshold)
            && long.TryParse(threshold, out long thresholdMs))
        {
            fsync.WarningThresholdMs = thresholdMs;
        }
        if (_settings.AdminServer is { } admin)
        {
            var listener = _listener!;
            var console = new Admin.Console.WebConsole(() => listener.LocalEndPoint, _settings.SuperDigest, _log, _settings.Ensemble?.MyId);
            var server = new Admin.AdminServer(admin, new Admin.AdminCommands(words), _log, console);
            if (await server.StartAsync().ConfigureAwait(false)) _admin = server;
        }
        if (_settings.Prometheus is { } prometheus)
        {
            var endpoint = new Admin.PrometheusEndpoint(prometheus, words, _log);
            if (await endpoint.StartAsync().ConfigureAwait(false)) _prometheus = endpoint;
            else await endpoint.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Posts a tick on every tickTime boundary so sessions expire in Apache's buckets.</summary>
    private async Task RunClockAsync(CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_settings.TickTimeMs / 2.0), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellation).ConfigureAwait(false)) Core.Post(new TickWork());
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Apache's ContainerManager: every check interval, ask the loop for empty containers and expired TTL nodes
    /// and delete them one by one, no faster than maxPerMinute allows.
    /// </summary>
    private async Task RunContainerManagerAsync(CancellationToken cancellation)
    {
        var minIntervalMs = 60_000.0 / Math.Max(1, _settings.ContainerMaxPerMinute);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(1, _settings.ContainerCheckIntervalMs)), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellation).ConfigureAwait(false))
            {
                foreach (var path in await Core.QueryAsync(Core.ContainerCandidates).ConfigureAwait(false))
                {
                    _log.LogInformation("Attempting to delete candidate container: {Path}", path);
                    Core.Post(new DeleteContainerWork(path));
                    await Task.Delay(TimeSpan.FromMilliseconds(minIntervalMs), _time, cancellation).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunPurgeAsync(Persistence persistence, CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(_settings.PurgeIntervalHours), _time);
        try
        {
            do
            {
                await Task.Run(persistence.Purge, cancellation).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(cancellation).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private int _disposed;

    /// <summary>Stops the server; a second call returns at once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        if (_admin is not null) await _admin.DisposeAsync().ConfigureAwait(false);
        if (_prometheus is not null) await _prometheus.DisposeAsync().ConfigureAwait(false);
        if (_listener is not null) await _listener.DisposeAsync().ConfigureAwait(false);
        _stopping.Cancel();
        Core.Complete();
        if (_loop is not null) await _loop.ConfigureAwait(false);
        if (_clock is not null) await _clock.ConfigureAwait(false);
        if (_containers is not null) await _containers.ConfigureAwait(false);
        if (_purge is not null) await _purge.ConfigureAwait(false);
        if (_heapTrim is not null) await _heapTrim.ConfigureAwait(false);
        await _replicator.DisposeAsync().ConfigureAwait(false);
    }
}
