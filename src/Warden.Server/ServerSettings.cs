using System.Net;

namespace Warden.Server;

/// <summary>
/// What the running server needs to know, resolved from zoo.cfg, -D properties and defaults. Durations carry
/// their unit in the name.
/// </summary>
public sealed record ServerSettings
{
    public IPEndPoint ClientEndpoint { get; init; } = new(IPAddress.Any, 2181);
    public int TickTimeMs { get; init; } = 2000;

    /// <summary>The TLS client port (secureClientPort); null when there is none.</summary>
    public IPEndPoint? SecureClientEndpoint { get; init; }

    /// <summary>The TLS settings of <see cref="SecureClientEndpoint"/>.</summary>
    public Security.TlsSettings? Tls { get; init; }

    /// <summary>client.portUnification: the plaintext client port also takes TLS clients, with <see cref="Tls"/>.</summary>
    public bool ClientPortUnification { get; init; }

    public int MinSessionTimeoutMs { get; init; } = 4000;
    public int MaxSessionTimeoutMs { get; init; } = 40000;

    /// <summary>Connections allowed from one address; 0 means no limit.</summary>
    public int MaxClientConnectionsPerHost { get; init; } = 60;

    /// <summary>The largest packet accepted (jute.maxbuffer).</summary>
    public int MaxPacketBytes { get; init; } = Protocol.Framing.DefaultMaxPacketBytes;

    /// <summary>Requests one connection may have in flight before the server stops reading from it.</summary>
    public int MaxOutstandingPerConnection { get; init; } = 1000;

    /// <summary>
    /// Requests the whole server may hold unanswered (zookeeper.globalOutstandingLimit); past it, connections
    /// with a request in flight are not read from until their answers go out.
    /// </summary>
    public int GlobalOutstandingLimitRequests { get; init; } = 1000;

    /// <summary>
    /// Reply bytes one connection may have waiting to be written before the server stops reading its requests;
    /// they then wait in the kernel, not in the server.
    /// </summary>
    public long MaxOutboundBytesPerConnection { get; init; } = 1024 * 1024;

    /// <summary>
    /// How long a connection may take to send its whole connect request (zookeeper.nio.sessionlessCnxnTimeout);
    /// bytes trickling in do not extend it.
    /// </summary>
    public int SessionlessConnectionTimeoutMs { get; init; } = 10_000;

    /// <summary>Frames one connection may have waiting to be written before it is treated as stuck and closed.</summary>
    public int MaxQueuedFramesPerConnection { get; init; } = 100_000;

    /// <summary>Four-letter words that answer; Apache's default is srvr alone.</summary>
    public IReadOnlySet<string> FourLetterWords { get; init; } = new HashSet<string> { "srvr" };

    public string DataDir { get; init; } = "data";
    public string DataLogDir { get; init; } = "data";
    public long ServerId { get; init; } = 1;
    public bool ExtendedTypesEnabled { get; init; }
    public bool ReconfigEnabled { get; init; }

    /// <summary>standaloneEnabled: a reconfig must then leave at least two voters, as Apache requires.</summary>
    public bool StandaloneEnabled { get; init; } = true;

    /// <summary>Hard quota limits refuse writes with QUOTAEXCEEDED (zookeeper.enforceQuota).</summary>
    public bool EnforceQuota { get; init; }

    /// <summary>How often empty containers and expired TTL nodes are looked for (znode.container.checkIntervalMs).</summary>
    public int ContainerCheckIntervalMs { get; init; } = 60_000;

    /// <summary>The most such nodes deleted per minute (znode.container.maxPerMinute).</summary>
    public int ContainerMaxPerMinute { get; init; } = 10_000;

    /// <summary>Deletes containers that never had a child after this long; 0 keeps them (znode.container.maxNeverUsedIntervalMs).</summary>
    public long ContainerMaxNeverUsedIntervalMs { get; init; }
    public string? SuperDigest { get; init; }

    /// <summary>The connect-request token bucket (zookeeper.connection_throttle_*); off by default.</summary>
    public Processing.ConnectionThrottleSettings ConnectionThrottle { get; init; } = new();

    /// <summary>readonlymode.enabled: a member cut off from its quorum serves reads to read-only clients.</summary>
    public bool ReadOnlyModeEnabled { get; init; }

    /// <summary>
    /// localSessionsEnabled (ensembles only, as Apache reads it only for a quorum peer): a new session is local to the
    /// server it connected to, with no createSession txn, until it needs to be global.
    /// </summary>
    public bool LocalSessionsEnabled { get; init; }

    /// <summary>
    /// localSessionsUpgradingEnabled: a local session's first ephemeral create upgrades it to a global session through
    /// the leader; without it that create fails with EPHEMERALONLOCALSESSION.
    /// </summary>
    public bool LocalSessionsUpgradingEnabled { get; init; }

    /// <summary>Apache's RequestThrottler (zookeeper.request_throttle_*, throttled_op_wait_time); off by default.</summary>
    public Processing.RequestThrottleSettings RequestThrottle { get; init; } = new();

    /// <summary>SASL logins, the sasl ACL scheme and authentication enforcement.</summary>
    public Security.AuthenticationConfig Authentication { get; init; } = new();

    /// <summary>Keep the tree in a txn log and snapshots under DataDir/DataLogDir; off only for in-memory tests.</summary>
    public bool Persistent { get; init; } = true;

    /// <summary>Txns between snapshots, about (Apache randomises between half and all of it).</summary>
    public int SnapCountTxns { get; init; } = 100_000;

    /// <summary>The txn log grows in steps of this many bytes (preAllocSize, given in KB in zoo.cfg).</summary>
    public long PreAllocateBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Wait for the disk on every log flush (forceSync=yes).</summary>
    public bool ForceSync { get; init; } = true;

    /// <summary>Snapshots autopurge keeps (autopurge.snapRetainCount, at least 3).</summary>
    public int SnapRetainCount { get; init; } = 3;

    /// <summary>Hours between autopurge runs; 0 turns it off (autopurge.purgeInterval).</summary>
    public int PurgeIntervalHours { get; init; }

    /// <summary>Client connections the whole server takes; 0 means no limit (zookeeper.maxCnxns).</summary>
    public int MaxConnections { get; init; }

    /// <summary>The ensemble this server belongs to; null for a standalone server.</summary>
    public Quorum.EnsembleSettings? Ensemble { get; init; }

    /// <summary>Apache's AdminServer (admin.enableServer, on by default from zoo.cfg); null turns it off.</summary>
    public Admin.AdminServerSettings? AdminServer { get; init; }

    /// <summary>The Prometheus endpoint (metricsProvider.className=...PrometheusMetricsProvider); null when off.</summary>
    public Admin.PrometheusSettings? Prometheus { get; init; }

    /// <summary>The zoo.cfg text the server started from, for the initial_configuration command.</summary>
    public string InitialConfiguration { get; init; } = "";

    /// <summary>The Java system properties in force (-D and zoo.cfg keys Apache passes on), for system_properties.</summary>
    public IReadOnlyDictionary<string, string> SystemProperties { get; init; } = new Dictionary<string, string>();

    /// <summary>Turns a checked configuration into what the running server reads.</summary>
    public static ServerSettings From(Configuration.ServerConfig config)
    {
        var address = string.IsNullOrEmpty(config.ClientPortAddress)
            ? System.Net.IPAddress.Any
            : System.Net.IPAddress.TryParse(config.ClientPortAddress, out var parsed)
                ? parsed
                : System.Net.Dns.GetHostAddresses(config.ClientPortAddress)[0];
        int tick = config.TickTimeMs;
        return new ServerSettings
        {
            ClientEndpoint = new IPEndPoint(address, config.ClientPort ?? 2181),
            SecureClientEndpoint = config.SecureClientPort is int securePort && config.Tls is not null
                ? new IPEndPoint(AddressOf(config.SecureClientPortAddress), securePort)
                : null,
            Tls = config.Tls,
            ClientPortUnification = config.ClientPortUnification,
            TickTimeMs = tick,
            MinSessionTimeoutMs = config.MinSessionTimeoutMs == -1 ? tick * 2 : config.MinSessionTimeoutMs,
            MaxSessionTimeoutMs = config.MaxSessionTimeoutMs == -1 ? tick * 20 : config.MaxSessionTimeoutMs,
            MaxClientConnectionsPerHost = config.MaxClientConnectionsPerIp,
            MaxConnections = config.MaxConnections,
            SnapCountTxns = config.SnapCountTxns,
            PreAllocateBytes = config.PreAllocSizeKb * 1024,
            ForceSync = config.ForceSync,
            SnapRetainCount = config.SnapRetainCount,
            PurgeIntervalHours = config.PurgeIntervalHours,
            MaxPacketBytes = config.JuteMaxBufferBytes,
            MaxOutstandingPerConnection = Math.Max(1, config.GlobalOutstandingLimitRequests),
            GlobalOutstandingLimitRequests = Math.Max(1, config.GlobalOutstandingLimitRequests),
            SessionlessConnectionTimeoutMs = config.SystemProperties.TryGetValue("zookeeper.nio.sessionlessCnxnTimeout", out var sessionless)
                && int.TryParse(sessionless, out var sessionlessMs) && sessionlessMs > 0 ? sessionlessMs : 10_000,
            FourLetterWords = config.FourLetterWordWhitelist,
            DataDir = config.DataDir,
            DataLogDir = config.DataLogDir,
            ExtendedTypesEnabled = config.ExtendedTypesEnabled,
            ReconfigEnabled = config.ReconfigEnabled,
            StandaloneEnabled = config.StandaloneEnabled,
            EnforceQuota = config.EnforceQuota,
            SuperDigest = config.SuperDigest,
            Authentication = config.Authentication,
            ConnectionThrottle = Processing.ConnectionThrottleSettings.From(config.SystemProperties),
            RequestThrottle = Processing.RequestThrottleSettings.From(config.SystemProperties),
            ReadOnlyModeEnabled = config.ReadOnlyModeEnabled,
            LocalSessionsEnabled = config.IsDistributed && config.LocalSessionsEnabled,
            LocalSessionsUpgradingEnabled = config.IsDistributed && config.LocalSessionsEnabled && config.LocalSessionsUpgradingEnabled,
            ContainerCheckIntervalMs = config.ContainerCheckIntervalMs,
            ContainerMaxPerMinute = config.ContainerMaxPerMinute,
            ServerId = config.IsDistributed ? config.MyId ?? 1 : 1,
            Ensemble = config.IsDistributed ? EnsembleFrom(config) : null,
            AdminServer = Admin.AdminServerSettings.From(config),
            Prometheus = Admin.PrometheusSettings.From(config),
            InitialConfiguration = ReadInitialConfiguration(config.ConfigFilePath),
            SystemProperties = config.SystemProperties,
            ContainerMaxNeverUsedIntervalMs = config.SystemProperties.TryGetValue("znode.container.maxNeverUsedIntervalMs", out var never)
                && long.TryParse(never, out var neverMs) ? neverMs : 0,
        };
    }

    private static IPAddress AddressOf(string? address) =>
        string.IsNullOrEmpty(address) ? IPAddress.Any
        : IPAddress.TryParse(address, out var parsed) ? parsed
        : Dns.GetHostAddresses(address)[0];

    private static string ReadInitialConfiguration(string? path)
    {
        try
        {
            return path is null ? "" : File.ReadAllText(path, System.Text.Encoding.Latin1);
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>zookeeper.snapshotSizeFactor as Apache's ZKDatabase reads it: unparsable or above 1 gives the default.</summary>
    private static double SnapshotSizeFactorFrom(IReadOnlyDictionary<string, string> properties) =>
        properties.TryGetValue("zookeeper.snapshotSizeFactor", out var text)
        && double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double factor)
        && factor <= 1
            ? factor
            : Quorum.EnsembleSettings.DefaultSnapshotSizeFactor;

    private static Quorum.EnsembleSettings EnsembleFrom(Configuration.ServerConfig config) => new()
    {
        MyId = config.MyId ?? throw new InvalidOperationException("an ensemble member needs its myid"),
        Members = config.Servers.Select(s => new Quorum.EnsembleMember(s.Id, s.Host, s.QuorumPort, s.ElectionPort,
            s.Role == Configuration.PeerRole.Observer, s.ClientHost, s.ClientPort)).ToList(),
        InitLimitTicks = config.InitLimitTicks,
        SyncLimitTicks = config.SyncLimitTicks,
        ConnectTimeoutMs = config.SystemProperties.TryGetValue("zookeeper.cnxTimeout", out var cnx) && int.TryParse(cnx, out var cnxMs)
            ? cnxMs
            : 5000,
        ListenOnAllIPs = config.QuorumListenOnAllIps,
        SslQuorum = config.SslQuorum,
        PortUnification = config.QuorumPortUnification,
        QuorumTls = config.QuorumTls,
        HandshakeDetectionTimeoutMs = config.SystemProperties.TryGetValue("zookeeper.ssl.quorum.handshakeDetectionTimeoutMillis", out var detection)
            && int.TryParse(detection, out var detectionMs) && detectionMs > 0 ? detectionMs : 5000,
        CommitLogCount = config.SystemProperties.TryGetValue("zookeeper.commitLogCount", out var kept) && int.TryParse(kept, out var keptTxns) && keptTxns >= 0
            ? keptTxns
            : 20_000,
        SnapshotSizeFactor = SnapshotSizeFactorFrom(config.SystemProperties),
        ConfigVersion = config.DynamicConfigVersion ?? 0,
        ConfigFilePath = config.ConfigFilePath,
        DynamicConfigFilePath = config.DynamicConfigFilePath,
    };
}
