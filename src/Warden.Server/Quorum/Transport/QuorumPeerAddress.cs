using Warden.Consensus;

namespace Warden.Server.Quorum.Transport;

/// <summary>Where one member of the ensemble listens: the <c>server.N=host:quorumPort:electionPort</c> line of zoo.cfg.</summary>
public sealed record QuorumPeerAddress(ServerId Id, string Host, int QuorumPort, int ElectionPort)
{
    /// <summary>The election address as the election handshake carries it: host:port, an IPv6 literal in brackets.</summary>
    public string ElectionAddressText => HostPort.Format(Host, ElectionPort);
}
