using Warden.Protocol;

namespace Warden.Consensus;

/// <summary>
/// The ensemble as one server sees it, and its limits. Time is counted in ticks that the host delivers;
/// the core never reads a clock.
/// </summary>
public sealed record PeerOptions
{
    public required ServerId Id { get; init; }

    /// <summary>The servers whose acks and votes count.</summary>
    public required IReadOnlyList<ServerId> Voters { get; init; }

    /// <summary>Servers that learn the history but never vote or ack.</summary>
    public IReadOnlyList<ServerId> Observers { get; init; } = [];

    /// <summary>Ticks a learner has to connect and sync, and a new leader has to gather its quorum (initLimit).</summary>
    public int InitLimitTicks { get; init; } = 10;

    /// <summary>Ticks of silence after which a learner drops its leader and a leader drops a learner (syncLimit).</summary>
    public int SyncLimitTicks { get; init; } = 5;

    /// <summary>Ticks between re-sends of this server's vote while it is looking.</summary>
    public int ElectionResendTicks { get; init; } = 2;

    /// <summary>
    /// Apache's finalizeWait: once a quorum of voters backs this server's proposal, how long it waits (ms) for a better vote
    /// before it decides, each notification that is not better starting the wait again (FastLeaderElection.lookForLeader).
    /// It decides at once when every voter it can hear from has already voted for the proposal, since no better vote can
    /// come then: voters whose election link the host reported down (<see cref="ZabPeer.OnElectionLinkDown"/>) are not
    /// waited for until they speak again. 0 decides on the quorum at once. The host times the wait
    /// (<see cref="Ready.ElectionTimer"/>), since the core has no clock finer than its ticks.
    /// </summary>
    public int FinalizeWaitMs { get; init; }

    /// <summary>Ticks a learner waits for an answer before it opens a new connection to its leader.</summary>
    public int ConnectRetryTicks { get; init; } = 3;

    /// <summary>Proposals a leader accepts beyond its last commit before it pushes back on clients.</summary>
    public int MaxInFlightProposals { get; init; } = 1000;

    /// <summary>Committed txns a leader keeps in memory to bring learners up to date by DIFF; older ones need SNAP.</summary>
    public int RetainedCommittedTxns { get; init; } = 500;

    /// <summary>
    /// The txns this server logged on disk, for a leader bringing up to date by DIFF a learner that is behind the
    /// committed txns it keeps in memory (Apache's ZKDatabase.getProposalsFromTxnLog). Given the learner's last zxid, the
    /// host returns the logged txns in zxid order from the first txn of the log file that holds that zxid, or null when
    /// its log cannot serve: the zxid is older than the oldest log file, or the files to read are larger than
    /// snapshotSizeFactor times the newest snapshot, so that a SNAP is cheaper. The core reads only as far as the oldest
    /// txn it keeps in memory. This is the one place the core asks its host for data, as etcd-raft's core reads entries
    /// through its Storage interface; the default has no log on disk, and a learner that far behind gets SNAP.
    /// </summary>
    public Func<Zxid, IEnumerable<Txn>?> LoggedTxnsFrom { get; init; } = static _ => null;

    /// <summary>
    /// The quorum configuration as Apache writes it: the <c>server.N=...</c> lines joined by newlines, then
    /// <c>version=&lt;hex&gt;</c>, in UTF-8. The host builds it; the core sends it in every election notification and as
    /// the data of NEWLEADER, because Apache peers compare it with their own.
    /// </summary>
    public byte[] ConfigText { get; init; } = [];

    /// <summary>
    /// reconfigEnabled: a leader whose configuration has version 0 (never reconfigured) gives it the version of its new
    /// epoch's first zxid, as Apache's Leader.lead does, and its learners take that version with NEWLEADER.
    /// </summary>
    public bool VersionConfigOnLead { get; init; }

    /// <summary>
    /// The new configuration text a txn carries when it is a reconfig (null for any other txn). The core keeps txn data
    /// opaque; the host, which knows the txn format, answers this so that the core can put a committed reconfig in force.
    /// </summary>
    public Func<byte[], byte[]?> ReconfigOf { get; init; } = static _ => null;

    public bool IsVoter(ServerId id) => Voters.Contains(id);

    public bool IsObserver(ServerId id) => Observers.Contains(id);

    public int QuorumSize => Voters.Count / 2 + 1;

    public IEnumerable<ServerId> AllPeers => Voters.Concat(Observers);

    public void Validate()
    {
        if (Voters.Count == 0) throw new ArgumentException("an ensemble needs at least one voter");
        if (!IsVoter(Id) && !IsObserver(Id)) throw new ArgumentException($"{Id} is neither a voter nor an observer");
        if (Voters.Intersect(Observers).Any()) throw new ArgumentException("a server cannot both vote and observe");
        if (InitLimitTicks < 1 || SyncLimitTicks < 1 || ElectionResendTicks < 1 || ConnectRetryTicks < 1)
        {
            throw new ArgumentException("tick limits must be positive");
        }
        if (FinalizeWaitMs < 0) throw new ArgumentException("finalizeWait must not be negative");
        if (MaxInFlightProposals < 1 || RetainedCommittedTxns < 0) throw new ArgumentException("bounds must be positive");
    }
}

/// <summary>What a server recovers from its disk at start: epochs, the snapshot point and the log after it.</summary>
public sealed record RecoveredState(int AcceptedEpoch, int CurrentEpoch, Warden.Protocol.Zxid SnapshotZxid, IReadOnlyList<Txn> Log)
{
    public static readonly RecoveredState Empty = new(0, 0, Warden.Protocol.Zxid.Zero, []);
}
