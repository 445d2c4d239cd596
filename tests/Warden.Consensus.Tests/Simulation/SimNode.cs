namespace Warden.Consensus.Tests.Simulation;

/// <summary>One simulated server: its disk survives crashes; its core and state machine do not.</summary>
public sealed class SimNode(PeerOptions options, SimDisk disk)
{
    public ServerId Id => options.Id;
    public PeerOptions Options => options;
    public SimDisk Disk => disk;
    public bool IsVoter => options.IsVoter(options.Id);

    /// <summary>The running core; null while the server is down.</summary>
    public ZabPeer? Peer { get; set; }

    public ReplicaState? State { get; set; }

    /// <summary>The server's request loop fed the same commits, in the seeds that run it; null otherwise.</summary>
    internal ServerCoreReplica? Core { get; set; }

    /// <summary>The election timer the core asked for (its token and the time unit it is due), if any.</summary>
    public (long Token, long Due)? ElectionTimer { get; set; }

    public bool IsUp => Peer is not null;

    /// <summary>Protocol errors seen by earlier incarnations, kept across crashes for the run's report.</summary>
    public int PastProtocolErrors { get; set; }

    /// <summary>How many of the current core's protocol errors the simulator has logged.</summary>
    public int SeenProtocolErrors { get; set; }

    public int ProtocolErrors => PastProtocolErrors + (Peer?.ProtocolErrors ?? 0);

    public override string ToString() =>
        Peer is null ? $"{Id} down" : $"{Id} {Peer.State} leader={Peer.Leader} last={Peer.LastLoggedZxid} committed={Peer.CommittedZxid} accepted={Peer.AcceptedEpoch} current={Peer.CurrentEpoch}";
}

/// <summary>A run failed a check; the message carries the seed and how to replay it.</summary>
public sealed class SimulationFailedException(string message, Exception? inner) : Exception(message, inner);

/// <summary>The healed ensemble did not elect a leader, commit, or converge within its bound.</summary>
public sealed class LivenessViolationException(string message) : Exception(message);

/// <summary>What a finished run reports.</summary>
public sealed record SimResult(ulong Seed, ulong TraceHash, int Committed, int Reported, long Messages, int Crashes, int ProtocolErrors, string? FirstProtocolError);
