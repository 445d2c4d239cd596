using Warden.Consensus;

namespace Warden.Server.Quorum.Transport;

/// <summary>What the quorum transports need to know: who this server is, where everyone listens, and the timeouts
/// that Apache derives from tickTime, initLimit, syncLimit and cnxTimeout.</summary>
public sealed record QuorumTransportOptions
{
    /// <summary>This server's id (myid).</summary>
    public required ServerId Self { get; init; }

    /// <summary>
    /// Every member of the ensemble, this server included. A reconfig replaces the list (one reference, read whole by
    /// each user), so that the transports reach the members of the new configuration.
    /// </summary>
    public required IReadOnlyList<QuorumPeerAddress> Peers { get; set; }

    public int TickTimeMs { get; init; } = 2000;
    public int InitLimitTicks { get; init; } = 10;
    public int SyncLimitTicks { get; init; } = 5;

    /// <summary>How long an election-port dial may take (Apache's zookeeper.cnxTimeout).</summary>
    public int ConnectTimeoutMs { get; init; } = 5000;

    /// <summary>Bind the election and quorum ports on every interface rather than on the configured host (quorumListenOnAllIPs).</summary>
    public bool ListenOnAllIPs { get; init; }

    /// <summary>Plaintext, TLS (sslQuorum) or both (portUnification) on the election and quorum ports.</summary>
    public QuorumChannelSecurity Security { get; init; } = QuorumChannelSecurity.Plaintext;

    /// <summary>The largest quorum packet accepted: jute.maxbuffer plus zookeeper.jute.maxbuffer.extrasize, as Apache.</summary>
    public int MaxPacketBytes { get; init; } = 0xfffff + 1024 * 1024;

    /// <summary>
    /// Reads exactly one SNAP stream from the quorum connection after a SNAP packet and returns its bytes. The
    /// stream is the connection's own buffered input, so the reader must not ask for bytes past the snapshot's end
    /// (read it field by field, or with exact lengths): whatever it takes is gone from the packet stream.
    /// </summary>
    public required Func<Stream, CancellationToken, Task<byte[]>> ReadSnapshot { get; init; }

    internal int InitLimitMs => checked(TickTimeMs * InitLimitTicks);
    internal int SyncLimitMs => checked(TickTimeMs * SyncLimitTicks);

    internal QuorumPeerAddress SelfAddress =>
        Peers.FirstOrDefault(p => p.Id == Self)
        ?? throw new InvalidOperationException($"server.{Self.Value} is not among the configured servers, so there is no address to listen on");

    internal QuorumPeerAddress? Find(ServerId id) => Peers.FirstOrDefault(p => p.Id == id);
}
