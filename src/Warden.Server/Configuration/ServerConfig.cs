namespace Warden.Server.Configuration;

/// <summary>
/// Everything a standalone or quorum server needs from zoo.cfg, dataDir/myid and -D system properties.
/// Defaults are Apache ZooKeeper 3.8's, so a zoo.cfg means the same here as there. Build one with
/// <see cref="Load"/>, <see cref="Parse"/> or <see cref="LoadEmbedded"/>; the instance is immutable.
/// </summary>
public sealed record ServerConfig
{
    /// <summary>Apache's tickTime when a zoo.cfg leaves it out (ZooKeeperServer.DEFAULT_TICK_TIME).</summary>
    public const int DefaultTickTimeMs = 3000;

    /// <summary>The default jute.maxbuffer: 0xfffff bytes, one byte short of 1 MiB.</summary>
    public const int DefaultJuteMaxBufferBytes = 0xfffff;

    /// <summary>The file this came from, or null for the embedded defaults.</summary>
    public string? ConfigFilePath { get; init; }

    /// <summary>Snapshots and myid live here (absolute).</summary>
    public string DataDir { get; init; } = "";

    /// <summary>Transaction logs live here (absolute); dataDir when not set.</summary>
    public string DataLogDir { get; init; } = "";

    public int TickTimeMs { get; init; } = DefaultTickTimeMs;

    /// <summary>The port clients connect to; null when neither clientPort nor this server's server.N line sets one.</summary>
    public int? ClientPort { get; init; }

    /// <summary>The address to bind the client port to; null means all addresses.</summary>
    public string? ClientPortAddress { get; init; }

    /// <summary>secureClientPort: the TLS client port; null when not set.</summary>
    public int? SecureClientPort { get; init; }

    /// <summary>secureClientPortAddress: the address to bind the TLS port to; null means all addresses.</summary>
    public string? SecureClientPortAddress { get; init; }

    /// <summary>The TLS settings of the secure client port (ssl.* keys); null without a secureClientPort.</summary>
    public Security.TlsSettings? Tls { get; init; }

    /// <summary>maxClientCnxns: connections allowed from one IP address; 0 means no limit.</summary>
    public int MaxClientConnectionsPerIp { get; init; } = 60;

    /// <summary>-Dzookeeper.maxCnxns: connections allowed in total; 0 means no limit.</summary>
    public int MaxConnections { get; init; }

    /// <summary>Session timeouts asked for by clients are clamped into [min, max].</summary>
    public int MinSessionTimeoutMs { get; init; } = -1;

    public int MaxSessionTimeoutMs { get; init; } = -1;

    public int InitLimitTicks { get; init; }

    public int SyncLimitTicks { get; init; }

    /// <summary>connectToLearnerMasterLimit; 0 means use initLimit.</summary>
    public int ConnectToLearnerMasterLimitTicks { get; init; }

    /// <summary>Only 3 (fast leader election) exists in 3.8.</summary>
    public int ElectionAlgorithm { get; init; } = 3;

    /// <summary>This server's role; the server.N list wins when the two disagree, as in Apache.</summary>
    public PeerRole PeerType { get; init; } = PeerRole.Participant;

    public bool StandaloneEnabled { get; init; } = true;

    public bool ReconfigEnabled { get; init; }

    public bool QuorumListenOnAllIps { get; init; }

    /// <summary>sslQuorum: the election and quorum ports speak TLS, dialling and accepting.</summary>
    public bool SslQuorum { get; init; }

    /// <summary>portUnification: the election and quorum ports accept TLS and plaintext alike (a rolling switch to TLS).</summary>
    public bool QuorumPortUnification { get; init; }

    /// <summary>The TLS settings of the election and quorum ports (ssl.quorum.* keys); null unless sslQuorum or portUnification.</summary>
    public Security.TlsSettings? QuorumTls { get; init; }

    /// <summary>client.portUnification: the plaintext client port also takes TLS clients, with the ssl.* settings.</summary>
    public bool ClientPortUnification { get; init; }

    /// <summary>syncEnabled: observers also log and snapshot.</summary>
    public bool SyncEnabled { get; init; } = true;

    public bool LocalSessionsEnabled { get; init; }

    public bool LocalSessionsUpgradingEnabled { get; init; }

    /// <summary>autopurge.snapRetainCount, never below 3.</summary>
    public int SnapRetainCount { get; init; } = 3;

    /// <summary>autopurge.purgeInterval in hours; 0 turns autopurge off.</summary>
    public int PurgeIntervalHours { get; init; }

    /// <summary>The ensemble, ordered by id; empty for a standalone server.</summary>
    public IReadOnlyList<QuorumServer> Servers { get; init; } = [];

    /// <summary>The dynamicConfigFile holding the server.N lines, or null when they are in zoo.cfg.</summary>
    public string? DynamicConfigFilePath { get; init; }

    /// <summary>The configuration version from the dynamic file's name (zoo.cfg.dynamic.&lt;hex&gt;), if any.</summary>
    public long? DynamicConfigVersion { get; init; }

    /// <summary>The number in dataDir/myid, or null when there is no such file.</summary>
    public long? MyId { get; init; }

    /// <summary>zookeeper.snapCount: transactions between snapshots (randomised around this), at least 2.</summary>
    public int SnapCountTxns { get; init; } = 100000;

    /// <summary>zookeeper.preAllocSize: the txn log grows in steps of this many KiB.</summary>
    public long PreAllocSizeKb { get; init; } = 65536;

    /// <summary>zookeeper.forceSync: only the exact value "no" turns fsync off.</summary>
    public bool ForceSync { get; init; } = true;

    public int GlobalOutstandingLimitRequests { get; init; } = 1000;

    /// <summary>The four-letter words that answer; "srvr" always does because zkServer.sh status needs it.</summary>
    public IReadOnlySet<string> FourLetterWordWhitelist { get; init; } = new HashSet<string> { "srvr" };

    public bool AdminServerEnabled { get; init; } = true;

    public int AdminServerPort { get; init; } = 8080;

    public string AdminServerAddress { get; init; } = "0.0.0.0";

    /// <summary>
    /// The metricsProvider.* keys, without the prefix (className, httpHost, httpPort, ...); Prometheus is served
    /// when className names Apache's PrometheusMetricsProvider.
    /// </summary>
    public IReadOnlyDictionary<string, string> MetricsProvider { get; init; } = new Dictionary<string, string>();

    /// <summary>The largest frame or znode payload accepted, in bytes.</summary>
    public int JuteMaxBufferBytes { get; init; } = DefaultJuteMaxBufferBytes;

    /// <summary>zookeeper.extendedTypesEnabled: TTL nodes allowed (needs myid ≤ 254).</summary>
    public bool ExtendedTypesEnabled { get; init; }

    public int ContainerCheckIntervalMs { get; init; } = 60000;

    public int ContainerMaxPerMinute { get; init; } = 10000;

    public bool EnforceQuota { get; init; }

    /// <summary>zookeeper.DigestAuthenticationProvider.superDigest ("super:base64(sha1)"), or null.</summary>
    public string? SuperDigest { get; init; }

    /// <summary>SASL logins, the sasl ACL scheme and authentication enforcement (see AuthenticationConfig).</summary>
    public Security.AuthenticationConfig Authentication { get; init; } = new();

    /// <summary>zookeeper.skipACL=yes turns every ACL check off.</summary>
    public bool SkipAcl { get; init; }

    /// <summary>readonlymode.enabled (no zookeeper. prefix); also lets "isro" answer.</summary>
    public bool ReadOnlyModeEnabled { get; init; }

    /// <summary>zookeeper.datadir.autocreate: create a missing dataDir/dataLogDir.</summary>
    public bool DataDirAutoCreate { get; init; } = true;

    /// <summary>
    /// Every Java system property in effect: the -D ones, then each zoo.cfg key Apache does not parse itself,
    /// as zookeeper.&lt;key&gt; (a zoo.cfg entry replaces a -D with the same name, as in Apache).
    /// </summary>
    public IReadOnlyDictionary<string, string> SystemProperties { get; init; } = new Dictionary<string, string>();

    /// <summary>Apache's rule for running a quorum peer rather than a standalone server.</summary>
    public bool IsDistributed => Servers.Count > 0 && (!StandaloneEnabled || ParticipantCount > 1);

    public int ParticipantCount => Servers.Count(s => s.Role == PeerRole.Participant);

    /// <summary>This server's own server.N entry, if myid names one.</summary>
    public QuorumServer? Self => Servers.FirstOrDefault(s => s.Id == MyId);

    /// <summary>Reads a zoo.cfg file, dataDir/myid and the given -D properties, and checks them.</summary>
    /// <param name="configPath">The zoo.cfg path.</param>
    /// <param name="systemProperties">-D options from the command line, names as Java takes them (e.g. "zookeeper.maxCnxns").</param>
    /// <param name="workingDirectory">Relative dataDir paths resolve here (Apache resolves them against the process's directory).</param>
    public static ConfigLoadResult Load(
        string configPath,
        IReadOnlyDictionary<string, string>? systemProperties = null,
        string? workingDirectory = null)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(configPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            string why = ex is FileNotFoundException or DirectoryNotFoundException ? "does not exist" : $"cannot be read ({ex.Message})";
            return ConfigLoadResult.Failure(
                [$"{configPath} {why}; give the path of your zoo.cfg, or run without one for a standalone server on port 2181"],
                []);
        }
        var options = new ConfigSource(Path.GetFileName(configPath), Path.GetFullPath(configPath), workingDirectory);
        return ServerConfigReader.Read(JavaProperties.Load(bytes), options, systemProperties, checkFileSystem: true);
    }

    /// <summary>Reads zoo.cfg content already in memory; the filesystem checks (dataDir, myid) still run.</summary>
    public static ConfigLoadResult Parse(
        byte[] zooCfgBytes,
        string sourceName = "zoo.cfg",
        IReadOnlyDictionary<string, string>? systemProperties = null,
        string? workingDirectory = null)
    {
        var options = new ConfigSource(sourceName, null, workingDirectory);
        return ServerConfigReader.Read(JavaProperties.Load(zooCfgBytes), options, systemProperties, checkFileSystem: true);
    }

    /// <summary>
    /// The configuration of <c>warden server</c> with no zoo.cfg: standalone, clientPort 2181, dataDir ./data
    /// under the working directory, tickTime 2000 as in zoo_sample.cfg, and Apache's other defaults.
    /// </summary>
    public static ServerConfig Embedded(string? workingDirectory = null)
    {
        string dataDir = Path.GetFullPath(Path.Combine(workingDirectory ?? Directory.GetCurrentDirectory(), "data"));
        return new ServerConfig
        {
            DataDir = dataDir,
            DataLogDir = dataDir,
            TickTimeMs = 2000,
            ClientPort = 2181,
            MinSessionTimeoutMs = 4000,
            MaxSessionTimeoutMs = 40000,
        };
    }

    /// <summary>
    /// <see cref="Embedded"/> with -D properties applied and the data directory checked, for
    /// <c>warden server</c> run without a file.
    /// </summary>
    public static ConfigLoadResult LoadEmbedded(
        IReadOnlyDictionary<string, string>? systemProperties = null,
        string? workingDirectory = null)
    {
        ServerConfig defaults = Embedded(workingDirectory);
        string text = $"tickTime={defaults.TickTimeMs}\nclientPort={defaults.ClientPort}\n";
        var properties = JavaProperties.Parse(text);
        var source = new ConfigSource("(built-in defaults)", null, workingDirectory) { DataDirOverride = defaults.DataDir };
        return ServerConfigReader.Read(properties, source, systemProperties, checkFileSystem: true);
    }
}

/// <summary>Where configuration text came from, for messages and relative paths.</summary>
internal sealed record ConfigSource(string Name, string? FullPath, string? WorkingDirectory)
{
    /// <summary>Used by the embedded defaults, whose dataDir is not written in any file.</summary>
    public string? DataDirOverride { get; init; }

    public string BaseDirectory => WorkingDirectory ?? Directory.GetCurrentDirectory();
}
