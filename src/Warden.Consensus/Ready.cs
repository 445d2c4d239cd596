using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus;

/// <summary>
/// One batch of work the core hands its host, in the manner of etcd-raft's Ready. The host must:
/// 1. send <see cref="SendNow"/> (these may leave before anything is durable);
/// 2. apply <see cref="Persist"/> in order and make it durable (fsync);
/// 3. apply <see cref="StateMachine"/> in order;
/// 4. send <see cref="SendAfterPersist"/>, filling in SNAP snapshots from its state machine (<see cref="AttachSnapshots"/>);
/// 5. call <see cref="ZabPeer.Advance"/> with this batch.
/// The order matters: an ACK in step 4 promises the txns of step 2 are on disk, and a snapshot in step 4 must
/// include the commits of step 3. Step 3 also carries the leader's SYNC and REVALIDATE replies
/// (<see cref="LeaderPacket"/>) in their place between the commits. <see cref="FromLearners"/> and
/// <see cref="RoleChanges"/> may be handled at any point of the batch.
/// </summary>
public sealed class Ready
{
    public List<Envelope> SendNow { get; } = [];
    public List<PersistOp> Persist { get; } = [];
    public List<StateMachineUpdate> StateMachine { get; } = [];
    public List<Envelope> SendAfterPersist { get; } = [];

    /// <summary>
    /// On a leader: REQUEST, REVALIDATE and PING replies (with their session touch tables) from learners whose
    /// synchronisation has finished, in the order each learner sent them.
    /// </summary>
    public List<(ServerId From, QuorumPacket Packet)> FromLearners { get; } = [];

    /// <summary>
    /// On a leader: learners whose session it ended (silent past its limit, or broke the protocol); the host closes
    /// their connections, as Apache's LearnerHandler closes its socket, so that they reconnect or look again.
    /// </summary>
    public List<ServerId> ClosedLearners { get; } = [];

    /// <summary>Configurations this server took during this batch (a version given by a new leader, or NEWLEADER's), in order.</summary>
    public List<ConfigChange> ConfigChanges { get; } = [];

    /// <summary>
    /// The synchronisations this server chose as a leader (DIFF, TRUNC or SNAP for a learner, with the txns that follow)
    /// or was given as a learner, in order; the host logs each in one line, as Apache's LearnerHandler and Learner do.
    /// </summary>
    public List<SyncReport> Syncs { get; } = [];

    /// <summary>
    /// While looking: a timer to (re)arm, replacing any armed before; when it fires the host calls
    /// <see cref="ZabPeer.OnElectionTimer"/> with its token. A timer whose token is no longer the latest does nothing.
    /// </summary>
    public ElectionTimer? ElectionTimer { get; internal set; }

    /// <summary>Each change of role, leader or serving, in the order they happened during this batch.</summary>
    public List<RoleChange> RoleChanges { get; } = [];

    public bool RoleChanged => RoleChanges.Count > 0;

    /// <summary>The last zxid appended by <see cref="Persist"/>, or null when nothing was appended.</summary>
    public Zxid? LastAppended { get; internal set; }

    /// <summary>The last logged zxid once <see cref="Persist"/> is durable.</summary>
    public Zxid LogEndAfterPersist { get; internal set; }

    public bool IsEmpty =>
        SendNow.Count == 0 && Persist.Count == 0 && StateMachine.Count == 0 && SendAfterPersist.Count == 0
        && FromLearners.Count == 0 && RoleChanges.Count == 0 && ClosedLearners.Count == 0 && ConfigChanges.Count == 0
        && Syncs.Count == 0 && ElectionTimer is null;

    /// <summary>Fills each outgoing SNAP with the host's snapshot at the packet's zxid.</summary>
    public void AttachSnapshots(IStateMachineSnapshots snapshots)
    {
        for (int i = 0; i < SendAfterPersist.Count; i++)
        {
            var envelope = SendAfterPersist[i];
            if (envelope.Message is PacketMessage { Packet.Type: PacketType.Snap, Snapshot: null } snap)
            {
                var bytes = snapshots.Take(snap.Packet.Zxid);
                SendAfterPersist[i] = envelope with { Message = snap with { Snapshot = bytes } };
            }
        }
    }

    /// <summary>
    /// Fills each outgoing PING reply with the host's session touch table (<c>(long sessionId, int timeout)*</c>), as
    /// Apache's learner does when it answers a PING. The table is read once per reply, at the time of this call.
    /// </summary>
    public void AttachPingReplies(Func<byte[]?> touchTable)
    {
        Fill(SendNow);
        Fill(SendAfterPersist);

        void Fill(List<Envelope> envelopes)
        {
            for (int i = 0; i < envelopes.Count; i++)
            {
                var envelope = envelopes[i];
                if (envelope.Channel == Channel.ToLeader && envelope.Message is PacketMessage { Packet: { Type: PacketType.Ping, Data: null } } ping)
                {
                    envelopes[i] = envelope with { Message = ping with { Packet = ping.Packet with { Data = touchTable() } } };
                }
            }
        }
    }
}

/// <summary>
/// Where this server stands after a change: its state, the leader it follows or is (null while looking), its current
/// epoch, and whether it serves clients (an established leader, or a learner after UPTODATE).
/// </summary>
public sealed record RoleChange(PeerState State, ServerId? Leader, int Epoch, bool Serving);

/// <summary>A one-shot timer the host arms for the election: after <paramref name="DelayMs"/>, call OnElectionTimer(token).</summary>
public sealed record ElectionTimer(long Token, int DelayMs);

/// <summary>Where the txns of a leader's DIFF came from.</summary>
public enum SyncSource
{
    /// <summary>None follow (an empty DIFF, a TRUNC alone), or they are all among the committed txns kept in memory.</summary>
    Memory,

    /// <summary>The oldest came from the txn log on disk, the rest from memory (Apache: "Use txnlog and committedLog").</summary>
    TxnLog,

    /// <summary>A snapshot of the whole tree, then the txns it does not hold.</summary>
    Snapshot,
}

/// <summary>
/// One synchronisation of a learner with its leader. <paramref name="Sent"/> is true on the leader, which knows the txns
/// that follow the first packet (<paramref name="Txns"/> PROPOSAL+COMMIT pairs from <paramref name="FirstTxn"/> to
/// <paramref name="LastTxn"/>); a learner reports the packet it received, with its own last zxid as
/// <paramref name="LearnerLastZxid"/>. <paramref name="Zxid"/> is the packet's: DIFF's last committed zxid, TRUNC's zxid
/// to truncate to, SNAP's snapshot zxid.
/// </summary>
public sealed record SyncReport(ServerId Peer, bool Sent, PacketType Kind, Zxid Zxid, Zxid LearnerLastZxid,
    int Txns = 0, Zxid? FirstTxn = null, Zxid? LastTxn = null, SyncSource Source = SyncSource.Memory);

/// <summary>A configuration this server took: Apache's text (server lines, then version=hex) and that version.</summary>
public sealed record ConfigChange(byte[] Text, long Version);

/// <summary>A learner as its leader sees it: whether it votes, and whether it has been brought up to date.</summary>
public sealed record LearnerStatus(ServerId Id, bool IsObserver, bool Synced);
