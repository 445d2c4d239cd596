using System.Globalization;
using System.Text;

namespace Warden.Server.Quorum;

/// <summary>One member of the ensemble, from its <c>server.N</c> line.</summary>
public sealed record EnsembleMember(long Id, string Host, int QuorumPort, int ElectionPort, bool IsObserver, string? ClientHost = null, int? ClientPort = null)
{
    /// <summary>
    /// The member as Apache's QuorumServer.toString writes it into the config text of election notifications and
    /// NEWLEADER: <c>host:quorumPort:electionPort:participant|observer</c>, then <c>;clientHost:clientPort</c> only
    /// when the client address is part of the server.N line (not when it comes from clientPort).
    /// </summary>
    public string ConfigLine()
    {
        var line = new StringBuilder();
        line.Append("server.").Append(Id.ToString(CultureInfo.InvariantCulture)).Append('=')
            .Append(Delimited(Host)).Append(':').Append(QuorumPort.ToString(CultureInfo.InvariantCulture))
            .Append(':').Append(ElectionPort.ToString(CultureInfo.InvariantCulture))
            .Append(IsObserver ? ":observer" : ":participant");
        if (ClientPort is { } port)
        {
            line.Append(';').Append(Delimited(ClientHost ?? "0.0.0.0")).Append(':').Append(port.ToString(CultureInfo.InvariantCulture));
        }
        return line.ToString();
    }

    private static string Delimited(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}

/// <summary>What a server needs to take part in an ensemble, resolved from zoo.cfg and the myid file.</summary>
public sealed record EnsembleSettings
{
    public required long MyId { get; init; }
    public required IReadOnlyList<EnsembleMember> Members { get; init; }
    public int InitLimitTicks { get; init; } = 10;
    public int SyncLimitTicks { get; init; } = 5;

    /// <summary>How long dialling a peer may take (cnxTimeout, zookeeper.cnxTimeout).</summary>
    public int ConnectTimeoutMs { get; init; } = 5000;

    /// <summary>Bind the quorum and election ports on every address (quorumListenOnAllIPs).</summary>
    public bool ListenOnAllIPs { get; init; }

    /// <summary>
    /// Committed txns the leader keeps in memory to bring a learner up to date by DIFF (zookeeper.commitLogCount).
    /// Apache keeps 500 and reads older ones from its txn log; Warden keeps 20,000 by default instead, so that a
    /// follower that was down for a while still syncs by DIFF rather than by a whole snapshot.
    /// </summary>
    public int CommitLogCount { get; init; } = 20_000;

    /// <summary>
    /// zookeeper.snapshotSizeFactor: a leader sends a learner behind the txns it keeps in memory a DIFF read from its txn
    /// log on disk when the log files to read are at most this times the newest snapshot's size, else SNAP. Negative turns
    /// reading the log off; above 1 is taken as the default 0.33, as Apache takes it.
    /// </summary>
    public double SnapshotSizeFactor { get; init; } = DefaultSnapshotSizeFactor;

    public const double DefaultSnapshotSizeFactor = 0.33;

    /// <summary>sslQuorum: this member dials its peers' election and quorum ports with TLS.</summary>
    public bool SslQuorum { get; init; }

    /// <summary>portUnification: the election and quorum ports accept TLS and plaintext alike.</summary>
    public bool PortUnification { get; init; }

    /// <summary>The ssl.quorum.* settings; set whenever <see cref="SslQuorum"/> or <see cref="PortUnification"/> is.</summary>
    public Security.TlsSettings? QuorumTls { get; init; }

    /// <summary>ssl.quorum.handshakeDetectionTimeoutMillis: how long a unified port waits for the first bytes (5000 ms).</summary>
    public int HandshakeDetectionTimeoutMs { get; init; } = 5000;

    /// <summary>The version of the ensemble configuration: 0 unless dynamic reconfiguration changed it.</summary>
    public long ConfigVersion { get; init; }

    /// <summary>The zoo.cfg this server started from; a reconfig writes its dynamic file next to it, as Apache does.</summary>
    public string? ConfigFilePath { get; init; }

    /// <summary>The dynamicConfigFile zoo.cfg named, if any.</summary>
    public string? DynamicConfigFilePath { get; init; }

    public EnsembleMember Self => Members.First(m => m.Id == MyId);

    /// <summary>
    /// The configuration as Apache's QuorumMaj.toString writes it: every member's line in ascending id order,
    /// joined by newlines, then <c>version=</c> and the version in hex, with no final newline.
    /// </summary>
    public string ConfigText() => Reconfiguration.ConfigText(Members, ConfigVersion);
}
