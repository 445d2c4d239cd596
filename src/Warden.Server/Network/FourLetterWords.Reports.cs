using System.Globalization;
using Warden.Server.Processing;

namespace Warden.Server.Network;

/// <summary>
/// The figures behind mntr, shared with the AdminServer's monitor command and the Prometheus gauges, so the
/// three always agree. Every method here runs on the loop (through <see cref="ServerCore.QueryAsync{T}"/>).
/// </summary>
public sealed partial class FourLetterWords
{
    private readonly long _startedAtMs = System.Environment.TickCount64;

    public ServerCore Core => core;

    /// <summary>The client connections now open; read their state only on the loop.</summary>
    public IReadOnlyCollection<ClientConnection> OpenConnections() => connections();

    /// <summary>Milliseconds since this server started, as zk_uptime.</summary>
    public long UptimeMs => System.Environment.TickCount64 - _startedAtMs;

    /// <summary>
    /// mntr's keys (without the zk_ prefix) and values, in Apache's order where it has one. Only what Warden
    /// measures is here; README.md lists Apache's other keys and why they are left out. A few keys are zero by
    /// construction (Warden has no TLS port, no X.509 provider, no connection throttle), and
    /// those zeros are true.
    /// </summary>
    public List<(string Key, object Value)> MonitorValues()
    {
        var stats = core.Stats;
        var tree = core.Tree;
        var values = new List<(string, object)>
        {
            ("version", Version),
            ("server_state", ModeName(core.Mode)),
            ("ephemerals_count", (long)tree.EphemeralCount),
            ("num_alive_connections", (long)connections().Count),
            ("avg_latency", stats.AverageLatencyMs),
            ("outstanding_requests", (long)core.OutstandingRequests),
            ("znode_count", (long)tree.NodeCountAsReported),
            ("global_sessions", (long)core.Sessions.Count),
            ("non_mtls_remote_conn_count", stats.NonMtlsRemoteConnections),
            ("last_client_response_size", (long)stats.LastResponseBytes),
            ("packets_sent", stats.PacketsSent),
            ("packets_received", stats.PacketsReceived),
            ("max_client_response_size", (long)stats.MaxResponseBytes),
            ("connection_drop_probability", 0.0),
            ("watch_count", (long)(tree.DataWatches.Count + tree.ChildWatches.Count)),
            ("auth_failed_count", stats.AuthFailedCount),
            ("min_latency", stats.MinLatencyOrZero),
        };
        var descriptors = FileDescriptors.Read();
        if (descriptors is { } fd) values.Add(("max_file_descriptor_count", fd.Max));
        values.Add(("approximate_data_size", tree.ApproximateDataSize()));
        if (descriptors is { } open) values.Add(("open_file_descriptor_count", open.Open));
        values.Add(("local_sessions", (long)core.LocalSessions.Count));
        values.Add(("uptime", UptimeMs));
        values.Add(("max_latency", stats.MaxLatencyMs));
        values.Add(("outstanding_tls_handshake", stats.OutstandingTlsHandshakes));
        values.Add(("min_client_response_size", (long)stats.MinResponseBytes));
        values.Add(("non_mtls_local_conn_count", stats.NonMtlsLocalConnections));
        values.Add(("connection_request_count", stats.ConnectionRequests));
        values.Add(("connection_rejected", stats.ConnectionsRejected));
        values.Add(("request_throttle_wait_count", stats.RequestThrottleWaits));
        values.Add(("stale_requests", stats.StaleRequests));
        values.Add(("stale_requests_dropped", stats.StaleRequestsDropped));
        values.Add(("throttled_ops", stats.ThrottledOps));
        if (core.EnsembleStatus?.Invoke() is { } ensemble)
        {
            values.Add(("peer_state", ensemble.PeerState));
            if (core.Mode == ServingMode.Leader)
            {
                values.Add(("synced_followers", (long)ensemble.SyncedFollowers));
                values.Add(("synced_non_voting_followers", 0L));
                values.Add(("synced_observers", (long)ensemble.SyncedObservers));
                values.Add(("pending_syncs", (long)ensemble.PendingSyncs));
                values.Add(("learners", (long)ensemble.Learners));
                if (core.LeaderUptimeMs is { } leading) values.Add(("leader_uptime", leading));
                if (core.Replicator.Proposals is { } proposals)
                {
                    values.Add(("last_proposal_size", proposals.Last));
                    values.Add(("min_proposal_size", proposals.Min));
                    values.Add(("max_proposal_size", proposals.Max));
                }
            }
            values.Add(("quorum_size", (long)core.Settings.Ensemble!.Members.Count(m => !m.IsObserver)));
        }
        if (core.Replicator.Fsync is { } fsync)
        {
            values.Add(("avg_fsynctime", fsync.AverageMs));
            values.Add(("min_fsynctime", fsync.MinMs));
            values.Add(("max_fsynctime", fsync.MaxMs));
            values.Add(("cnt_fsynctime", fsync.Count));
            values.Add(("sum_fsynctime", fsync.TotalMs));
        }
        AddSummary(values, stats.ReadLatency, percentiles: true);
        AddSummary(values, stats.UpdateLatency, percentiles: true);
        AddSummary(values, stats.RequestThrottleQueueTime, percentiles: true);
        return values;
    }

    /// <summary>An AvgMinMaxPercentileCounter as mntr prints it: avg_, min_, max_, cnt_, sum_ and p50_ to p999_.</summary>
    private static void AddSummary(List<(string, object)> values, LatencySummary summary, bool percentiles)
    {
        string name = summary.Name;
        values.Add(("avg_" + name, summary.Average));
        values.Add(("min_" + name, summary.MinOrZero));
        values.Add(("max_" + name, summary.Max));
        values.Add(("cnt_" + name, summary.Count));
        values.Add(("sum_" + name, summary.Sum));
        if (!percentiles) return;
        values.Add(("p50_" + name, summary.Percentile(0.5)));
        values.Add(("p95_" + name, summary.Percentile(0.95)));
        values.Add(("p99_" + name, summary.Percentile(0.99)));
        values.Add(("p999_" + name, summary.Percentile(0.999)));
    }

    /// <summary>Apache's trace mask (gtmk, stmk); Warden keeps it for those commands but writes no trace log.</summary>
    public long TraceMask { get; set; } = 306;
}

/// <summary>Open and allowed file descriptors, as Apache reads them from the JVM on Unix; null where unknown.</summary>
internal static class FileDescriptors
{
    public static (long Open, long Max)? Read()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            long open = Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount();
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.TryParse(soft, NumberStyles.None, CultureInfo.InvariantCulture, out long max) ? (open, max) : null;
            }
            return null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
