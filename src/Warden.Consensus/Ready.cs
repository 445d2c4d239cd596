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
/// include the commits of step 3.
/// </summary>
public sealed class Ready
{
    public List<Envelope> SendNow { get; } = [];
    public List<PersistOp> Persist { get; } = [];
    public List<StateMachineUpdate> StateMachine { get; } = [];
    public List<Envelope> SendAfterPersist { get; } = [];

    /// <summary>The last zxid appended by <see cref="Persist"/>, or null when nothing was appended.</summary>
    public Zxid? LastAppended { get; internal set; }

    /// <summary>The last logged zxid once <see cref="Persist"/> is durable.</summary>
    public Zxid LogEndAfterPersist { get; internal set; }

    public bool IsEmpty => SendNow.Count == 0 && Persist.Count == 0 && StateMachine.Count == 0 && SendAfterPersist.Count == 0;

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
}
