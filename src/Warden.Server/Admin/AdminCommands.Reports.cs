using System.Globalization;
using System.Text.Json.Nodes;
using Warden.Server.Network;
using Warden.Server.Processing;

namespace Warden.Server.Admin;

/// <summary>The JSON bodies, key for key as Apache 3.8 writes them. Methods named for the loop run only on it.</summary>
public sealed partial class AdminCommands
{
    private JsonObject Configuration()
    {
        var settings = _core.Settings;
        return new JsonObject
        {
            ["client_port"] = settings.ClientEndpoint.Port,
            ["data_dir"] = Path.Combine(settings.DataDir, "version-2"),
            ["data_log_dir"] = Path.Combine(settings.DataLogDir, "version-2"),
            ["tick_time"] = settings.TickTimeMs,
            ["max_client_cnxns"] = settings.MaxClientConnectionsPerHost,
            ["min_session_timeout"] = settings.MinSessionTimeoutMs,
            ["max_session_timeout"] = settings.MaxSessionTimeoutMs,
            ["server_id"] = settings.Ensemble?.MyId ?? 0,
            ["client_port_listen_backlog"] = -1,
        };
    }

    /// <summary>On the loop: connections and the (always empty) secure ones, as cons and stat list them.</summary>
    private JsonObject ConnectionList(bool brief) => new()
    {
        ["connections"] = new JsonArray([.. _words.OpenConnections().Select(c => (JsonNode)Describe(c, brief))]),
        ["secure_connections"] = new JsonArray(),
    };

    private JsonObject Describe(ClientConnection connection, bool brief)
    {
        var state = connection.State;
        var info = new JsonObject
        {
            ["remote_socket_address"] = connection.RemoteEndPoint is { } remote ? $"{remote.Address}:{remote.Port}" : "unknown",
            ["interest_ops"] = state.Session is null ? 0 : 1,
            ["outstanding_requests"] = connection.OutstandingRequests,
            ["packets_received"] = state.PacketsReceived,
            ["packets_sent"] = state.PacketsSent,
        };
        if (brief) return info;
        info["session_id"] = state.Session?.Id ?? 0;
        info["last_operation"] = state.LastOperation;
        info["established"] = _words.EpochMs(state.EstablishedAtMs);
        info["session_timeout"] = state.NegotiatedTimeoutMs;
        info["last_cxid"] = state.LastCxid;
        info["last_zxid"] = state.LastZxid;
        info["last_response_time"] = state.LastResponseAtMs == 0 ? 0 : _words.EpochMs(state.LastResponseAtMs);
        info["last_latency"] = state.LastLatencyMs;
        info["min_latency"] = state.LatencyCount == 0 ? 0 : state.MinLatencyMs;
        info["avg_latency"] = state.LatencyCount == 0 ? 0 : state.TotalLatencyMs / state.LatencyCount;
        info["max_latency"] = state.MaxLatencyMs;
        return info;
    }

    /// <summary>
    /// On the loop: session ids by expiry time (the session clock's milliseconds) and ephemerals by session. Only
    /// a server that expires sessions (standalone, leader) lists expiry times; a learner's map is empty, as Apache's.
    /// </summary>
    private JsonObject Dump()
    {
        var expiry = new JsonObject();
        bool expires = _core.Mode is ServingMode.Standalone or ServingMode.Leader;
        foreach (var bucket in _core.Sessions.Sessions.Where(_ => expires).GroupBy(s => s.ExpiresAtMs).OrderBy(g => g.Key))
        {
            expiry[bucket.Key.ToString(CultureInfo.InvariantCulture)] = new JsonArray([.. bucket.Select(s => (JsonNode?)s.Id)]);
        }
        var ephemerals = new JsonObject();
        foreach (var owner in _core.Tree.SessionsWithEphemerals)
        {
            var paths = _core.Tree.EphemeralsOf(owner);
            if (paths.Count == 0) continue;
            ephemerals[owner.ToString(CultureInfo.InvariantCulture)] = new JsonArray([.. paths.Select(p => (JsonNode?)p)]);
        }
        return new JsonObject { ["expiry_time_to_session_ids"] = expiry, ["session_id_to_ephemeral_paths"] = ephemerals };
    }

    /// <summary>
    /// Apache's environment keys where a .NET process has the same fact; the java.* keys about the JVM itself
    /// are replaced by dotnet.version, since there is no JVM to describe.
    /// </summary>
    private static JsonObject Environment()
    {
        long mb = 1024 * 1024;
        var memory = GC.GetGCMemoryInfo();
        return new JsonObject
        {
            ["zookeeper.version"] = FourLetterWords.Version,
            ["host.name"] = System.Net.Dns.GetHostName(),
            ["dotnet.version"] = System.Environment.Version.ToString(),
            ["java.io.tmpdir"] = Path.GetTempPath().TrimEnd(Path.DirectorySeparatorChar),
            ["os.name"] = OperatingSystem.IsLinux() ? "Linux" : OperatingSystem.IsWindows() ? "Windows" : OperatingSystem.IsMacOS() ? "Mac OS X" : System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            ["os.arch"] = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant() switch { "x64" => "amd64", var arch => arch },
            ["os.version"] = System.Environment.OSVersion.Version.ToString(),
            ["user.name"] = System.Environment.UserName,
            ["user.home"] = System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile),
            ["user.dir"] = System.Environment.CurrentDirectory,
            ["os.memory.free"] = $"{Math.Max(0, memory.TotalCommittedBytes - GC.GetTotalMemory(false)) / mb}MB",
            ["os.memory.max"] = $"{memory.TotalAvailableMemoryBytes / mb}MB",
            ["os.memory.total"] = $"{memory.TotalCommittedBytes / mb}MB",
        };
    }

    /// <summary>The newest snapshot file: its zxid in hex without 0x, and when it was written, in seconds.</summary>
    private JsonObject LastSnapshot()
    {
        var directory = new DirectoryInfo(Path.Combine(_core.Settings.DataDir, "version-2"));
        FileInfo? newest = null;
        long newestZxid = -1;
        if (directory.Exists)
        {
            foreach (var file in directory.EnumerateFiles("snapshot.*"))
            {
                if (!long.TryParse(file.Name["snapshot.".Length..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long zxid)) continue;
                if (zxid > newestZxid) (newest, newestZxid) = (file, zxid);
            }
        }
        return new JsonObject
        {
            ["zxid"] = newest is null ? "0" : newestZxid.ToString("x", CultureInfo.InvariantCulture),
            ["timestamp"] = newest is null ? 0 : new DateTimeOffset(newest.LastWriteTimeUtc).ToUnixTimeSeconds(),
        };
    }

    private JsonObject Leader()
    {
        if (_core.EnsembleStatus?.Invoke() is not { LeaderId: > 0 } status || _core.Settings.Ensemble is not { } ensemble)
        {
            return Failed("leader", "server is not initialized");
        }
        var leader = ensemble.Members.FirstOrDefault(m => m.Id == status.LeaderId);
        return new JsonObject
        {
            ["is_leader"] = _core.Mode == ServingMode.Leader,
            ["leader_id"] = status.LeaderId,
            ["leader_ip"] = leader?.Host ?? "",
        };
    }

    /// <summary>On the loop: mntr's figures without the zk_ prefix.</summary>
    private JsonObject Monitor()
    {
        var body = new JsonObject();
        foreach (var (key, value) in _words.MonitorValues())
        {
            body[key] = value switch
            {
                double number => Math.Round(number, 4, MidpointRounding.AwayFromZero),
                long number => number,
                _ => value.ToString(),
            };
        }
        return body;
    }

    private JsonObject Observers() => new()
    {
        ["synced_observers"] = _core.Mode == ServingMode.Leader ? _core.EnsembleStatus?.Invoke().SyncedObservers ?? 0 : 0,
        ["observers"] = new JsonArray(),
    };

    /// <summary>On the loop: srvr's figures (and stat's connections), with the leader's proposal sizes.</summary>
    private JsonObject ServerStats(bool withConnections)
    {
        var stats = _core.Stats;
        var settings = _core.Settings;
        var body = new JsonObject
        {
            ["version"] = FourLetterWords.Version,
            ["read_only"] = _core.Mode == Processing.ServingMode.ReadOnly,
            ["server_stats"] = new JsonObject
            {
                ["packets_sent"] = stats.PacketsSent,
                ["packets_received"] = stats.PacketsReceived,
                ["fsync_threshold_exceed_count"] = _core.Replicator.Fsync?.ThresholdExceeded ?? 0,
                ["client_response_stats"] = ResponseSizes(stats),
                ["data_dir_size"] = FourLetterWords.DirectorySize(settings.DataDir),
                ["log_dir_size"] = FourLetterWords.DirectorySize(settings.DataLogDir),
                ["provider_null"] = false,
                ["server_state"] = FourLetterWords.ModeName(_core.Mode),
                ["last_processed_zxid"] = _core.Tree.LastProcessedZxid,
                ["outstanding_requests"] = _core.OutstandingRequests,
                ["avg_latency"] = Math.Round(stats.AverageLatencyMs, 4, MidpointRounding.AwayFromZero),
                ["max_latency"] = stats.MaxLatencyMs,
                ["min_latency"] = stats.MinLatencyOrZero,
                ["num_alive_client_connections"] = _words.OpenConnections().Count,
                ["uptime"] = _words.UptimeMs,
                ["auth_failed_count"] = stats.AuthFailedCount,
                ["non_mtlsremote_conn_count"] = stats.NonMtlsRemoteConnections,
                ["non_mtlslocal_conn_count"] = stats.NonMtlsLocalConnections,
            },
            ["client_response"] = ResponseSizes(stats),
            ["node_count"] = _core.Tree.NodeCountAsReported,
        };
        if (_core.Mode == ServingMode.Leader && _core.Replicator.Proposals is { } proposals)
        {
            body["proposal_stats"] = new JsonObject
            {
                ["last_buffer_size"] = proposals.Last,
                ["min_buffer_size"] = proposals.Min,
                ["max_buffer_size"] = proposals.Max,
            };
        }
        if (withConnections)
        {
            var connections = ConnectionList(brief: true);
            body["connections"] = connections["connections"]!.DeepClone();
            body["secure_connections"] = new JsonArray();
        }
        return body;
    }

    private static JsonObject ResponseSizes(ServerStats stats) => new()
    {
        ["last_buffer_size"] = stats.LastResponseBytes,
        ["min_buffer_size"] = stats.MinResponseBytes,
        ["max_buffer_size"] = stats.MaxResponseBytes,
    };

    private JsonObject SystemProperties()
    {
        var body = new JsonObject();
        foreach (var (key, value) in _core.Settings.SystemProperties.OrderBy(p => p.Key, StringComparer.Ordinal)) body[key] = value;
        return body;
    }

    /// <summary>Every voting member as the quorum verifier shows it; only this member's client address is known.</summary>
    private JsonObject VotingView()
    {
        var view = new JsonObject();
        if (_core.Settings.Ensemble is { } ensemble)
        {
            foreach (var member in ensemble.Members.Where(m => !m.IsObserver))
            {
                string client = member.Id == ensemble.MyId
                    ? $"{_core.Settings.ClientEndpoint.Address}:{_core.Settings.ClientEndpoint.Port}"
                    : member.ClientPort is { } port ? $"{member.ClientHost ?? "0.0.0.0"}:{port}" : "";
                view[member.Id.ToString(CultureInfo.InvariantCulture)] = new JsonObject
                {
                    ["server_addresses"] = new JsonArray($"{member.Host}:{member.QuorumPort}"),
                    ["election_addresses"] = new JsonArray($"{member.Host}:{member.ElectionPort}"),
                    ["client_address"] = client,
                    ["learner_type"] = "participant",
                };
            }
        }
        return new JsonObject { ["current_config"] = view };
    }

    /// <summary>On the loop: wchs's figures (the data-watch table, as Apache 3.8's wchs counts).</summary>
    private JsonObject WatchSummary()
    {
        var table = _core.Tree.DataWatches;
        return new JsonObject
        {
            ["num_connections"] = table.ByWatcher.Count(),
            ["num_paths"] = table.PathCount,
            ["num_total_watches"] = table.Count,
        };
    }

    /// <summary>On the loop: wchc and wchp as maps, session id to paths or path to session ids.</summary>
    private JsonObject Watches(bool byPath)
    {
        var map = new JsonObject();
        var table = _core.Tree.DataWatches;
        if (byPath)
        {
            foreach (var (path, watchers) in table.ByPath)
            {
                map[path] = new JsonArray([.. watchers.Select(w => (JsonNode?)FourLetterWords.SessionOf(w))]);
            }
            return new JsonObject { ["path_to_session_ids"] = map };
        }
        foreach (var (watcher, paths) in table.ByWatcher)
        {
            map[FourLetterWords.SessionOf(watcher).ToString(CultureInfo.InvariantCulture)] = new JsonArray([.. paths.Select(p => (JsonNode?)p)]);
        }
        return new JsonObject { ["session_id_to_watched_paths"] = map };
    }

    /// <summary>On the loop: this member's place in ZAB; a standalone server is not voting and has no ZAB state.</summary>
    private JsonObject ZabState()
    {
        if (_core.Settings.Ensemble is not { } ensemble || _core.EnsembleStatus?.Invoke() is not { } status)
        {
            return new JsonObject { ["voting"] = false, ["zabstate"] = "" };
        }
        var self = ensemble.Members.Single(m => m.Id == ensemble.MyId);
        long zxid = _core.Tree.LastProcessedZxid;
        int separator = status.PeerState.IndexOf(" - ", StringComparison.Ordinal);
        return new JsonObject
        {
            ["myid"] = ensemble.MyId,
            ["is_leader"] = _core.Mode == ServingMode.Leader,
            ["quorum_address"] = AddressBean(self.Host, self.QuorumPort),
            ["election_address"] = AddressBean(self.Host, self.ElectionPort),
            ["client_address"] = $"{_core.Settings.ClientEndpoint.Address}:{_core.Settings.ClientEndpoint.Port}",
            ["voting"] = !self.IsObserver,
            ["last_zxid"] = $"0x{zxid:x}",
            ["zab_epoch"] = zxid >> 32,
            ["zab_counter"] = zxid & 0xffffffff,
            ["zabstate"] = separator < 0 ? "election" : status.PeerState[(separator + 3)..],
        };
    }

    /// <summary>Apache serialises its MultipleAddresses bean; a Warden member has one address per port.</summary>
    private static JsonObject AddressBean(string host, int port)
    {
        string address = $"{host}:{port}";
        return new JsonObject
        {
            ["empty"] = false,
            ["all_addresses"] = new JsonArray(address),
            ["all_reachable_addresses"] = new JsonArray(address),
            ["one"] = address,
            ["reachable_address"] = address,
            ["wildcard_addresses"] = new JsonArray($"0.0.0.0:{port}"),
            ["all_ports"] = new JsonArray(port),
            ["all_host_strings"] = new JsonArray(host),
            ["all_reachable_addresses_or_all"] = new JsonArray(address),
            ["reachable_or_one"] = address,
        };
    }
}
