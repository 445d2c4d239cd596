using System.Buffers;
using System.Globalization;
using System.Text;
using Warden.Server.Processing;

namespace Warden.Server.Network;

/// <summary>
/// The four-letter words: a connection whose first four bytes spell one gets a plain-text answer and is closed.
/// Words outside the whitelist (4lw.commands.whitelist; Apache's default is srvr alone) get Apache's refusal.
/// The answers follow Apache ZooKeeper 3.8's layout so that monitoring scripts keep working.
/// </summary>
public sealed partial class FourLetterWords(ServerCore core, Func<IReadOnlyCollection<ClientConnection>> connections)
{
    public static readonly string Version = WardenVersion.ForZooKeeperTools;

    /// <summary>Every word Apache knows, so that an unlisted one is refused rather than read as a packet length.</summary>
    public static readonly IReadOnlySet<string> Known = new HashSet<string>
    {
        "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk", "srvr", "srst", "stat", "wchc", "wchp",
        "wchs", "mntr", "isro", "hash",
    };

    public static bool TryGetWord(ReadOnlySequence<byte> buffer, out string word)
    {
        Span<byte> head = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(head);
        word = Encoding.ASCII.GetString(head);
        return Known.Contains(word);
    }

    public async Task<string> AnswerAsync(string word, ClientConnection self)
    {
        var whitelist = core.Settings.FourLetterWords;
        if (!whitelist.Contains("*") && !whitelist.Contains(word))
        {
            return $"{word} is not executed because it is not in the whitelist.\n";
        }
        // An ensemble member that has no leader (or is still syncing) answers as Apache's does while its
        // ZooKeeperServer is not running.
        if (core.Mode == ServingMode.NotServing && word is "srvr" or "stat" or "mntr" or "cons" or "wchs" or "wchc" or "wchp" or "dump")
        {
            return "This ZooKeeper instance is not currently serving requests\n";
        }
        return word switch
        {
            "ruok" => "imok",
            // Apache: "null" while not serving, "ro" from its read-only server, "rw" otherwise.
            "isro" => core.Mode switch { ServingMode.NotServing => "null", ServingMode.ReadOnly => "ro", _ => "rw" },
            "srvr" => await core.QueryAsync(() => Stats(brief: true)).ConfigureAwait(false),
            "stat" => await core.QueryAsync(() => Stats(brief: false)).ConfigureAwait(false),
            "cons" => await core.QueryAsync(Connections).ConfigureAwait(false),
            "conf" => Configuration(),
            "envi" => EnvironmentReport(),
            "dirs" => $"datadir_size: {DirectorySize(core.Settings.DataDir)}\nlogdir_size: {DirectorySize(core.Settings.DataLogDir)}\n",
            "wchs" => await core.QueryAsync(WatchSummary).ConfigureAwait(false),
            "wchc" => await core.QueryAsync(() => Watches(byPath: false)).ConfigureAwait(false),
            "wchp" => await core.QueryAsync(() => Watches(byPath: true)).ConfigureAwait(false),
            "dump" => await core.QueryAsync(Dump).ConfigureAwait(false),
            "crst" => await core.QueryAsync(ResetConnectionStats).ConfigureAwait(false),
            "mntr" => await core.QueryAsync(Monitor).ConfigureAwait(false),
            "srst" => await core.QueryAsync(ResetServerStats).ConfigureAwait(false),
            _ => $"{word} is not supported by this server yet.\n",
        };
    }

    internal string Stats(bool brief)
    {
        var stats = core.Stats;
        var text = new StringBuilder();
        text.Append("Zookeeper version: ").Append(Version).Append('\n');
        if (core.Mode == ServingMode.ReadOnly) text.Append("READ-ONLY mode; serving only read-only clients\n");
        if (!brief)
        {
            text.Append("Clients:\n");
            foreach (var connection in connections()) text.Append(Describe(connection, brief: true)).Append('\n');
            text.Append('\n');
        }
        text.Append(CultureInfo.InvariantCulture, $"Latency min/avg/max: {stats.MinLatencyOrZero}/{AverageLatency(stats.AverageLatencyMs)}/{stats.MaxLatencyMs}\n");
        text.Append(CultureInfo.InvariantCulture, $"Received: {stats.PacketsReceived}\n");
        text.Append(CultureInfo.InvariantCulture, $"Sent: {stats.PacketsSent}\n");
        text.Append(CultureInfo.InvariantCulture, $"Connections: {connections().Count}\n");
        text.Append(CultureInfo.InvariantCulture, $"Outstanding: {core.OutstandingRequests}\n");
        text.Append(CultureInfo.InvariantCulture, $"Zxid: 0x{core.Tree.LastProcessedZxid:x}\n");
        text.Append("Mode: ").Append(ModeName(core.Mode)).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"Node count: {core.Tree.NodeCountAsReported}\n");
        return text.ToString();
    }

    /// <summary>The mode as srvr and mntr name it.</summary>
    internal static string ModeName(ServingMode mode) => mode switch
    {
        ServingMode.Leader => "leader",
        ServingMode.Follower => "follower",
        ServingMode.Observer => "observer",
        ServingMode.ReadOnly => "read-only",
        _ => "standalone",
    };

    private string Connections()
    {
        var text = new StringBuilder();
        foreach (var connection in connections()) text.Append(Describe(connection, brief: false)).Append('\n');
        return text.Append('\n').ToString();
    }

    private string Describe(ClientConnection connection, bool brief)
    {
        var state = connection.State;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $" {connection.DisplayAddress}[{(state.Session is null ? 0 : 1)}](queued={connection.QueuedFrames},recved={state.PacketsReceived},sent={state.PacketsSent}");
        if (!brief && state.Session is { } session)
        {
            text.Append(CultureInfo.InvariantCulture, $",sid=0x{session.Id:x},lop={state.LastOperation},est={EpochMs(state.EstablishedAtMs)},to={state.NegotiatedTimeoutMs}");
            if (state.LastCxid >= 0) text.Append(CultureInfo.InvariantCulture, $",lcxid=0x{state.LastCxid:x}");
            long min = state.LatencyCount == 0 ? 0 : state.MinLatencyMs;
            long avg = state.LatencyCount == 0 ? 0 : state.TotalLatencyMs / state.LatencyCount;
            text.Append(CultureInfo.InvariantCulture,
                $",lzxid=0x{state.LastZxid:x},lresp={(state.LastResponseAtMs == 0 ? 0 : EpochMs(state.LastResponseAtMs))},llat={state.LastLatencyMs},minlat={min},avglat={avg},maxlat={state.MaxLatencyMs}");
        }
        return text.Append(')').ToString();
    }

    /// <summary>conf: the settings a monitoring script reads, in Apache's order and spelling.</summary>
    internal long EpochMs(long monotonicMs) => core.WallClockOf(monotonicMs).ToUnixTimeMilliseconds();

    private string Configuration()
    {
        var settings = core.Settings;
        string dataDir = Path.Combine(core.Settings.DataDir, "version-2");
        string logDir = Path.Combine(core.Settings.DataLogDir, "version-2");
        return string.Create(CultureInfo.InvariantCulture,
            $"clientPort={settings.ClientEndpoint.Port}\nsecureClientPort={settings.SecureClientEndpoint?.Port ?? -1}\ndataDir={dataDir}\ndataDirSize={DirectorySize(core.Settings.DataDir)}\n" +
            $"dataLogDir={logDir}\ndataLogSize={DirectorySize(core.Settings.DataLogDir)}\ntickTime={settings.TickTimeMs}\n" +
            $"maxClientCnxns={settings.MaxClientConnectionsPerHost}\nminSessionTimeout={settings.MinSessionTimeoutMs}\n" +
            $"maxSessionTimeout={settings.MaxSessionTimeoutMs}\nclientPortListenBacklog=-1\n" +
            // A standalone server has no id (Apache prints 0); an ensemble member prints its myid.
            $"serverId={(settings.Ensemble is null ? 0 : settings.ServerId)}\n") + QuorumConfiguration(settings.Ensemble, core.ConfigText);
    }

    /// <summary>
    /// What Apache's quorum servers add to conf: limits, own ports, role, then the membership in force (after a reconfig,
    /// the new one), unterminated.
    /// </summary>
    private static string QuorumConfiguration(Quorum.EnsembleSettings? ensemble, string? configInForce)
    {
        if (ensemble is null) return "";
        var self = ensemble.Self;
        return string.Create(CultureInfo.InvariantCulture,
            $"initLimit={ensemble.InitLimitTicks}\nsyncLimit={ensemble.SyncLimitTicks}\nelectionAlg=3\nelectionPort={self.ElectionPort}\n" +
            $"quorumPort={self.QuorumPort}\npeerType={(self.IsObserver ? 1 : 0)}\nmembership: \n{configInForce ?? ensemble.ConfigText()}");
    }

    private static string EnvironmentReport()
    {
        var text = new StringBuilder("Environment:\n");
        text.Append("zookeeper.version=").Append(Version).Append('\n');
        text.Append("host.name=").Append(System.Net.Dns.GetHostName()).Append('\n');
        text.Append("dotnet.version=").Append(System.Environment.Version).Append('\n');
        text.Append("os.name=").Append(System.Runtime.InteropServices.RuntimeInformation.OSDescription).Append('\n');
        text.Append("os.arch=").Append(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture).Append('\n');
        text.Append("user.name=").Append(System.Environment.UserName).Append('\n');
        text.Append("user.dir=").Append(System.Environment.CurrentDirectory).Append('\n');
        text.Append("os.memory.total=").Append(GC.GetTotalMemory(false) / (1024 * 1024)).Append("MB\n");
        return text.ToString();
    }

    // Apache 3.8.0's wchs, wchc and wchp report the data-watch table only (exists and getData watches, and the
    // data half of persistent ones); child watches are not listed. Seen on the real server, and kept.
    private string WatchSummary()
    {
        var table = core.Tree.DataWatches;
        return $"{table.ByWatcher.Count()} connections watching {table.PathCount} paths\nTotal watches:{table.Count}\n";
    }

    private string Watches(bool byPath)
    {
        var text = new StringBuilder();
        var table = core.Tree.DataWatches;
        if (byPath)
        {
            foreach (var (path, watchers) in table.ByPath)
            {
                text.Append(path).Append('\n');
                foreach (var watcher in watchers) text.Append(CultureInfo.InvariantCulture, $"\t0x{SessionOf(watcher):x}\n");
            }
        }
        else
        {
            foreach (var (watcher, paths) in table.ByWatcher)
            {
                text.Append(CultureInfo.InvariantCulture, $"0x{SessionOf(watcher):x}\n");
                foreach (var path in paths) text.Append('\t').Append(path).Append('\n');
            }
        }
        return text.Append('\n').ToString();
    }

    internal static long SessionOf(object watcher) => (watcher as IClientConnection)?.State.Session?.Id ?? 0;

    /// <summary>dump: sessions by expiry bucket, ephemeral nodes by session, and the connections.</summary>
    private string Dump()
    {
        var text = new StringBuilder("SessionTracker dump:\n");
        if (core.Settings.LocalSessionsEnabled)
        {
            // Apache's trackers with local sessions: the local ones by expiry bucket first, then the global ones, by
            // bucket on the leader (which expires them) and as a list with timeouts on a learner (which does not).
            text.Append("Local ");
            AppendSessionSets(text, core.LocalSessions);
            if (core.Mode is not ServingMode.Leader)
            {
                var global = core.Sessions.Sessions.OrderBy(s => s.Id).ToList();
                text.Append(CultureInfo.InvariantCulture, $"Global Sessions({global.Count}):\n");
                foreach (var session in global) text.Append(CultureInfo.InvariantCulture, $"0x{session.Id:x}\t{session.TimeoutMs}ms\n");
            }
            else
            {
                text.Append("Global ");
                AppendSessionSets(text, core.Sessions);
            }
        }
        else
        {
            AppendSessionSets(text, core.Sessions);
        }
        text.Append("ephemeral nodes dump:\n");
        var owners = core.Tree.SessionsWithEphemerals.Where(id => core.Tree.EphemeralsOf(id).Count > 0).ToList();
        text.Append(CultureInfo.InvariantCulture, $"Sessions with Ephemerals ({owners.Count}):\n");
        foreach (var owner in owners)
        {
            text.Append(CultureInfo.InvariantCulture, $"0x{owner:x}:\n");
            foreach (var path in core.Tree.EphemeralsOf(owner)) text.Append('\t').Append(path).Append('\n');
        }
        text.Append("Connections dump:\n");
        var all = connections();
        text.Append(CultureInfo.InvariantCulture, $"Connections Sets (1)/({all.Count}):\n{all.Count} connections:\n");
        foreach (var connection in all)
        {
            text.Append(CultureInfo.InvariantCulture, $"\tip: {connection.DisplayAddress} sessionId: 0x{connection.State.Session?.Id ?? 0:x}\n");
        }
        return text.ToString();
    }

    private void AppendSessionSets(StringBuilder text, Warden.Server.Sessions.SessionTracker tracker)
    {
        var buckets = tracker.Sessions.GroupBy(s => s.ExpiresAtMs).OrderBy(g => g.Key).ToList();
        text.Append(CultureInfo.InvariantCulture, $"Session Sets ({buckets.Count})/({tracker.Count}):\n");
        foreach (var bucket in buckets)
        {
            text.Append(CultureInfo.InvariantCulture, $"{bucket.Count()} expire at {JavaDate(core.WallClockOf(bucket.Key))}:\n");
            foreach (var session in bucket) text.Append(CultureInfo.InvariantCulture, $"\t0x{session.Id:x}\n");
        }
    }

    /// <summary>srst and /commands/stat_reset: the server's counters and the count of slow log flushes.</summary>
    internal string ResetServerStats()
    {
        core.Stats.Reset();
        core.Replicator.Fsync?.ResetThresholdExceeded();
        return "Server stats reset.\n";
    }

    internal string ResetConnectionStats()
    {
        foreach (var connection in connections()) connection.State.ResetStats();
        return "Connection stats reset.\n";
    }

    /// <summary>Java's Date.toString, in UTC: "Fri Nov 27 15:33:30 UTC 2026".</summary>
    public static string JavaDate(DateTimeOffset time) =>
        time.UtcDateTime.ToString("ddd MMM dd HH:mm:ss 'UTC' yyyy", CultureInfo.InvariantCulture);

    private string Monitor()
    {
        var text = new StringBuilder();
        foreach (var (key, value) in MonitorValues())
        {
            text.Append("zk_").Append(key).Append('\t').Append(value switch
            {
                double number => AverageLatency(number),
                IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString(),
            }).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Apache's average latency: rounded half-up to 4 decimals (AvgMinMaxCounter.getAvg), then printed as a Java double.</summary>
    internal static string AverageLatency(double value) =>
        JavaDouble((double)Math.Round((decimal)value, 4, MidpointRounding.AwayFromZero));

    /// <summary>
    /// Java's Double.toString for the values a latency takes: at least one decimal (0.0, 1.5), and below 10^-3
    /// the computerised scientific form (3.0E-4).
    /// </summary>
    private static string JavaDouble(double value)
    {
        if (value != 0 && Math.Abs(value) < 1e-3)
        {
            int exponent = (int)Math.Floor(Math.Log10(Math.Abs(value)));
            double mantissa = Math.Round(value / Math.Pow(10, exponent), 14);
            return mantissa.ToString("0.0###############", CultureInfo.InvariantCulture) + "E" + exponent.ToString(CultureInfo.InvariantCulture);
        }
        return value.ToString("0.0###############", CultureInfo.InvariantCulture);
    }

    internal static long DirectorySize(string path)
    {
        try
        {
            var directory = new DirectoryInfo(Path.Combine(path, "version-2"));
            return directory.Exists ? directory.EnumerateFiles().Sum(f => f.Length) : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
