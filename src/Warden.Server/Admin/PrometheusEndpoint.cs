using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Prometheus;
using Warden.Server.Network;
using Warden.Server.Processing;

namespace Warden.Server.Admin;

/// <summary>
/// Apache's PrometheusMetricsProvider: /metrics on metricsProvider.httpPort, with Apache's metric names and
/// types. Gauges are read from the same figures as mntr, on the loop, once per scrape; the latency summaries
/// are fed from batches the loop hands off (see <see cref="ObservationBatch"/>), so the loop takes no lock.
/// prometheus-net rather than OpenTelemetry's exporter: it is a stable release (the OpenTelemetry Prometheus
/// exporter is only served as a beta here) and it has the Prometheus summary type with quantile objectives,
/// which Apache's readlatency and updatelatency are and its Grafana dashboard reads; OpenTelemetry has no summary.
/// </summary>
public sealed class PrometheusEndpoint : IAsyncDisposable
{
    /// <summary>Apache's gauges (ZooKeeperServer, LeaderZooKeeperServer, QuorumZooKeeperServer) that Warden measures.</summary>
    internal static readonly IReadOnlySet<string> GaugeNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "approximate_data_size", "auth_failed_count", "avg_latency", "connection_drop_probability", "ephemerals_count",
        "global_sessions", "last_client_response_size", "local_sessions", "max_client_response_size",
        "max_file_descriptor_count", "max_latency", "min_client_response_size", "min_latency", "non_mtls_local_conn_count",
        "non_mtls_remote_conn_count", "num_alive_connections", "open_file_descriptor_count", "outstanding_requests",
        "outstanding_tls_handshake", "packets_received", "packets_sent", "uptime", "watch_count", "znode_count",
        "last_proposal_size", "learners", "max_proposal_size", "min_proposal_size", "pending_syncs", "synced_followers",
        "synced_non_voting_followers", "synced_observers", "quorum_size", "leader_uptime",
    };

    private readonly PrometheusSettings _settings;
    private readonly FourLetterWords _words;
    private readonly ServerCore _core;
    private readonly ILogger _log;
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly MetricFactory _factory;
    private readonly Dictionary<string, Gauge> _gauges = new(StringComparer.Ordinal);
    /// <summary>Apache's counters among mntr's keys: Prometheus counters, set to mntr's running totals at each scrape.</summary>
    internal static readonly IReadOnlyList<string> CounterNames =
    [
        "connection_request_count", "connection_rejected", "request_throttle_wait_count", "stale_requests",
        "stale_requests_dropped", "throttled_ops",
    ];

    private readonly Dictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly Gauge _openFds;
    private readonly Gauge _maxFds;
    private readonly Gauge _residentBytes;
    private WebApplication? _app;

    public PrometheusEndpoint(PrometheusSettings settings, FourLetterWords words, ILogger log)
    {
        _settings = settings;
        _words = words;
        _core = words.Core;
        _log = log;
        _factory = Metrics.WithCustomRegistry(_registry);
        foreach (var name in CounterNames) _counters[name] = _factory.CreateCounter(name, name);
        // Apache's exportJvmInfo adds the JVM's process_* figures; these three have a .NET equivalent.
        _openFds = _factory.CreateGauge("process_open_fds", "Number of open file descriptors.");
        _maxFds = _factory.CreateGauge("process_max_fds", "Maximum number of open file descriptors.");
        _residentBytes = _factory.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
        var readLatency = AdvancedSummary("readlatency");
        var updateLatency = AdvancedSummary("updatelatency");
        var throttleQueueTime = AdvancedSummary("request_throttle_queue_time_ms");
        var fsyncTime = _factory.CreateSummary("fsynctime", "fsynctime", new SummaryConfiguration
        {
            Objectives = [new QuantileEpsilonPair(0.5, 0.05)],
            MaxAge = TimeSpan.FromMinutes(10),
            AgeBuckets = 5,
        });
        _core.Stats.ReadLatency.Exported = new ObservationBatch((values, count) => Observe(readLatency, values, count));
        _core.Stats.UpdateLatency.Exported = new ObservationBatch((values, count) => Observe(updateLatency, values, count));
        _core.Stats.RequestThrottleQueueTime.Exported = new ObservationBatch((values, count) => Observe(throttleQueueTime, values, count));
        if (_core.Replicator.Fsync is { } fsync) fsync.Exported = elapsedMs => fsyncTime.Observe(elapsedMs);
        _registry.AddBeforeCollectCallback(SampleAsync);
    }

    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Apache's ADVANCED summaries: median, 90th and 99th percentile over ten minutes.</summary>
    private Summary AdvancedSummary(string name) => _factory.CreateSummary(name, name, new SummaryConfiguration
    {
        Objectives = [new QuantileEpsilonPair(0.5, 0.05), new QuantileEpsilonPair(0.9, 0.01), new QuantileEpsilonPair(0.99, 0.001)],
        MaxAge = TimeSpan.FromMinutes(10),
        AgeBuckets = 5,
    });

    private static void Observe(Summary summary, long[] values, int count)
    {
        for (int i = 0; i < count; i++) summary.Observe(values[i]);
    }

    /// <summary>Before each scrape: the loop hands over its latency batches and mntr's figures, then the gauges are set.</summary>
    private async Task SampleAsync(CancellationToken cancellation)
    {
        var values = await _core.QueryAsync(() =>
        {
            _core.Stats.ReadLatency.Exported?.Flush();
            _core.Stats.UpdateLatency.Exported?.Flush();
            _core.Stats.RequestThrottleQueueTime.Exported?.Flush();
            return _words.MonitorValues();
        }).WaitAsync(cancellation).ConfigureAwait(false);
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            double? number = value switch { long l => l, double d => d, _ => null };
            if (number is null) continue;
            if (_counters.TryGetValue(key, out var counter))
            {
                // srst clears the figures, which a Prometheus counter never is; it stays at its highest.
                counter.IncTo(number.Value);
                continue;
            }
            if (!GaugeNames.Contains(key)) continue;
            if (!_gauges.TryGetValue(key, out var gauge)) _gauges[key] = gauge = _factory.CreateGauge(key, key);
            gauge.Set(number.Value);
            present.Add(key);
        }
        // A leader's gauges go when it stops leading, as Apache unregisters them.
        foreach (var (key, gauge) in _gauges)
        {
            if (!present.Contains(key)) gauge.Unpublish();
        }
        if (FileDescriptors.Read() is { } descriptors)
        {
            _openFds.Set(descriptors.Open);
            _maxFds.Set(descriptors.Max);
        }
        _residentBytes.Set(System.Environment.WorkingSet);
    }

    /// <summary>Starts serving /metrics; returns false, having logged why, when the address cannot be bound.</summary>
    public async Task<bool> StartAsync()
    {
        System.Net.IPEndPoint endPoint;
        try
        {
            endPoint = _settings.EndPoint;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            _log.LogError("Cannot start the /metrics endpoint: {Address} is not an address of this machine ({Reason}); the server goes on without it. Set metricsProvider.httpHost to one",
                _settings.Host, e.Message);
            return false;
        }
        var app = HttpHost.Create(endPoint, _log);
        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await _registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        });
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (IOException e)
        {
            _log.LogError("Cannot start the /metrics endpoint on {Host}:{Port} ({Reason}); the server goes on without it. " +
                "Free the port, or set metricsProvider.httpPort to another port",
                _settings.Host, _settings.Port, e.InnerException?.Message ?? e.Message);
            await app.DisposeAsync().ConfigureAwait(false);
            return false;
        }
        _app = app;
        LocalEndPoint = HttpHost.BoundEndPoint(app, _settings.EndPoint);
        _log.LogInformation("Started /metrics HTTP endpoint at host: {Host}, port: {Port}", _settings.Host, LocalEndPoint.Port);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _core.Stats.ReadLatency.Exported = null;
        _core.Stats.UpdateLatency.Exported = null;
        _core.Stats.RequestThrottleQueueTime.Exported = null;
        if (_core.Replicator.Fsync is { } fsync) fsync.Exported = null;
        if (_app is null) return;
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
