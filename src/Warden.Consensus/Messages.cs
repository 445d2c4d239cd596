using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus;

/// <summary>
/// Which connection a message travels on. Election notifications use the election port. Quorum packets use
/// one ordered stream per learner that the learner opens (<see cref="ToLeader"/>) and the leader accepts
/// (<see cref="ToLearner"/>); the core relies on that stream delivering in order or not at all, as TCP does.
/// </summary>
public enum Channel
{
    Election,
    ToLeader,
    ToLearner,
}

/// <summary>Something one peer sends another.</summary>
public abstract record Message;

/// <summary>A leader election notification.</summary>
public sealed record ElectionMessage(Notification Notification) : Message;

/// <summary>
/// A quorum packet. For SNAP the state-machine snapshot follows the packet on the stream, as in Apache; the core
/// leaves <paramref name="Snapshot"/> null on an outgoing SNAP and the host fills it in (see <see cref="Ready"/>).
/// </summary>
public sealed record PacketMessage(QuorumPacket Packet, byte[]? Snapshot = null) : Message;

/// <summary>A message with its addresses.</summary>
public readonly record struct Envelope(ServerId From, ServerId To, Channel Channel, Message Message);

/// <summary>A durable change the host must make before it sends the messages that depend on it.</summary>
public abstract record PersistOp;

/// <summary>Append one txn to the log; zxids strictly rise.</summary>
public sealed record AppendTxn(Txn Txn) : PersistOp;

/// <summary>Drop every logged txn after <paramref name="LastKept"/>.</summary>
public sealed record TruncateLog(Zxid LastKept) : PersistOp;

/// <summary>Store the state-machine snapshot as of <paramref name="Zxid"/> and drop the whole log.</summary>
public sealed record SaveSnapshot(Zxid Zxid, byte[] Snapshot) : PersistOp;

/// <summary>Write the acceptedEpoch file: the newest epoch this server has promised to follow.</summary>
public sealed record SaveAcceptedEpoch(int Epoch) : PersistOp;

/// <summary>Write the currentEpoch file: the epoch of the newest history this server has taken on.</summary>
public sealed record SaveCurrentEpoch(int Epoch) : PersistOp;

/// <summary>A change to the host's state machine, applied in the order given.</summary>
public abstract record StateMachineUpdate;

/// <summary>Apply a committed txn.</summary>
public sealed record ApplyTxn(Txn Txn) : StateMachineUpdate;

/// <summary>Replace the whole state with a snapshot taken by the leader at <paramref name="Zxid"/>.</summary>
public sealed record RestoreSnapshot(Zxid Zxid, byte[] Snapshot) : StateMachineUpdate;

/// <summary>
/// On a learner in the broadcast phase: a SYNC or REVALIDATE reply from the leader, in its place between the
/// commits of the stream. A SYNC answered here sees exactly the commits that came before it on the stream, and the
/// reply of a write committed after it cannot overtake it (Apache's follower hands both to one commit processor).
/// </summary>
public sealed record LeaderPacket(QuorumPacket Packet) : StateMachineUpdate;

/// <summary>
/// What the host of a state machine provides so that a leader can bring a far-behind learner up to date.
/// </summary>
public interface IStateMachineSnapshots
{
    /// <summary>Serialises the state as of <paramref name="appliedZxid"/>, the last txn the host has applied.</summary>
    byte[] Take(Zxid appliedZxid);
}

/// <summary>The outcome of offering a proposal to a peer.</summary>
public enum ProposeOutcome
{
    Accepted,
    NotLeader,
    NotEstablished,
    TooManyInFlight,
}

public readonly record struct ProposeResult(ProposeOutcome Outcome, Zxid Zxid)
{
    public bool Accepted => Outcome == ProposeOutcome.Accepted;
}
