using Warden.Protocol;

namespace Warden.Consensus.Roles;

/// <summary>How far a learner has come on the leader's side of its connection.</summary>
internal enum LearnerPhase
{
    /// <summary>FOLLOWERINFO or OBSERVERINFO arrived; the new epoch is not fixed yet.</summary>
    Connected,

    /// <summary>LEADERINFO sent; waiting for ACKEPOCH.</summary>
    LeaderInfoSent,

    /// <summary>ACKEPOCH arrived; waiting for the epoch quorum (or, for an observer, for the leader to be established).</summary>
    EpochAcked,

    /// <summary>DIFF, TRUNC or SNAP and NEWLEADER sent; proposals are forwarded from here on.</summary>
    Syncing,

    /// <summary>NEWLEADER acked: the learner holds the leader's history and the new current epoch on disk.</summary>
    Synced,

    /// <summary>UPTODATE sent; the learner serves.</summary>
    UpToDate,
}

/// <summary>The leader's record of one learner's connection (Apache's LearnerHandler, without the thread).</summary>
internal sealed class LearnerSession(ServerId id, bool isObserver, int acceptedEpoch, long now)
{
    public ServerId Id { get; } = id;
    public bool IsObserver { get; } = isObserver;
    public int AcceptedEpoch { get; } = acceptedEpoch;
    public LearnerPhase Phase { get; set; } = LearnerPhase.Connected;

    /// <summary>True when the learner's ACKEPOCH counted towards the new epoch (it had not accepted it before).</summary>
    public bool AckedNewEpoch { get; set; }

    public Zxid PeerLastZxid { get; set; }

    /// <summary>The leader's last zxid when it sent NEWLEADER: what the learner holds once it acks NEWLEADER.</summary>
    public Zxid SyncedUpTo { get; set; }

    /// <summary>Everything up to here is on the learner's disk under the new current epoch.</summary>
    public Zxid AckedUpTo { get; set; }

    public long LastHeardTick { get; set; } = now;

    /// <summary>
    /// COMMITs of proposals that committed while this follower was between NEWLEADER and UPTODATE, sent after UPTODATE
    /// (an Apache 3.8 learner cannot take a COMMIT there). At most the proposals committed in that window, which lasts
    /// one round trip and the learner's fsync, and never past initLimit.
    /// </summary>
    public List<Zxid> CommitsAfterUpToDate { get; } = [];

    public bool IsForwarding => Phase >= LearnerPhase.Syncing;
}
