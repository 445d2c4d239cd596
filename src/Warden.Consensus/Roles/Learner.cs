using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus.Roles;

/// <summary>How far a learner has come with its leader.</summary>
internal enum SyncPhase
{
    /// <summary>FOLLOWERINFO or OBSERVERINFO sent; waiting for LEADERINFO.</summary>
    Connecting,

    /// <summary>ACKEPOCH sent; taking DIFF, TRUNC or SNAP and the txns that follow, until NEWLEADER.</summary>
    Syncing,

    /// <summary>NEWLEADER acked; waiting for UPTODATE.</summary>
    AwaitingUpToDate,

    /// <summary>In the broadcast phase.</summary>
    Broadcast,
}

/// <summary>
/// What followers and observers share: connecting to the leader, agreeing on its epoch, being synchronised,
/// and giving up on a silent leader (initLimit until synchronised, syncLimit after).
/// </summary>
internal abstract class Learner(PeerContext context, ServerId leader) : Role(context)
{
    private long _lastHeardTick;
    private long _lastInfoSentTick;
    private int _newEpoch = -1;
    private Zxid _syncPoint;

    protected SyncPhase Phase { get; private set; } = SyncPhase.Connecting;
    public override ServerId? LeaderId => leader;

    protected abstract PacketType InfoType { get; }

    public override void Enter()
    {
        _lastHeardTick = Context.Now;
        SendInfo();
    }

    private void SendInfo()
    {
        _lastInfoSentTick = Context.Now;
        var info = new LearnerInfo(Context.Id, QuorumPacket.ProtocolVersion, 0).Encode();
        Send(new QuorumPacket(InfoType, Zxid.From(Context.AcceptedEpoch, 0), info));
    }

    protected void Send(QuorumPacket packet, bool afterPersist = false) =>
        Context.SendPacket(leader, Channel.ToLeader, packet, afterPersist);

    public override void OnTick()
    {
        long silent = Context.Now - _lastHeardTick;
        int limit = Phase == SyncPhase.Broadcast ? Context.Options.SyncLimitTicks : Context.Options.InitLimitTicks;
        if (silent > limit)
        {
            StepDown();
            return;
        }
        // The leader may not have been leading yet, or the connection broke; open a new one.
        if (Phase == SyncPhase.Connecting && Context.Now - _lastInfoSentTick >= Context.Options.ConnectRetryTicks) SendInfo();
    }

    public override void OnPacket(ServerId from, PacketMessage message)
    {
        if (from != leader) return;
        _lastHeardTick = Context.Now;
        var packet = message.Packet;
        switch (packet.Type)
        {
            case PacketType.Ping: Send(new QuorumPacket(PacketType.Ping, Context.Log.LastZxid)); return;
            case PacketType.LeaderInfo when Phase == SyncPhase.Connecting: OnLeaderInfo(packet); return;
            case PacketType.Diff when Phase == SyncPhase.Syncing: return;
            case PacketType.Trunc when Phase == SyncPhase.Syncing: OnTrunc(packet); return;
            case PacketType.Snap when Phase == SyncPhase.Syncing: OnSnap(message); return;
            case PacketType.NewLeader when Phase == SyncPhase.Syncing: OnNewLeader(packet); return;
            case PacketType.UpToDate when Phase == SyncPhase.AwaitingUpToDate: OnUpToDate(); return;
            case PacketType.Proposal when Phase == SyncPhase.Syncing: LogTxn(packet); return;
            case PacketType.Commit when Phase >= SyncPhase.Syncing: OnCommit(packet); return;
        }
        if (!OnBroadcastPacket(packet)) Context.ProtocolError($"unexpected {packet} from leader {from} while {Phase}");
    }

    /// <summary>Handles packets particular to the learner kind; returns false when the packet is not allowed.</summary>
    protected abstract bool OnBroadcastPacket(QuorumPacket packet);

    private void OnLeaderInfo(QuorumPacket packet)
    {
        int epoch = packet.Zxid.Epoch;
        int reply;
        if (epoch > Context.AcceptedEpoch)
        {
            reply = Context.CurrentEpoch;
            Context.SetAcceptedEpoch(epoch);
        }
        else if (epoch == Context.AcceptedEpoch)
        {
            // Already promised this epoch (perhaps to a rival leader): tell this one our history, but not as a vote.
            reply = -1;
        }
        else
        {
            Context.ProtocolError($"leader {leader} offers epoch {epoch}, below our acceptedEpoch {Context.AcceptedEpoch}");
            return;
        }
        _newEpoch = epoch;
        Phase = SyncPhase.Syncing;
        Send(new QuorumPacket(PacketType.AckEpoch, Context.Log.LastZxid, QuorumPacket.IntPayload(reply)), afterPersist: true);
    }

    private void OnTrunc(QuorumPacket packet)
    {
        if (packet.Zxid < Context.Log.LastZxid) Context.TruncateLog(packet.Zxid);
    }

    private void OnSnap(PacketMessage message)
    {
        if (message.Snapshot is null)
        {
            Context.ProtocolError("SNAP arrived without a snapshot");
            return;
        }
        Context.InstallSnapshot(message.Packet.Zxid, message.Snapshot);
    }

    protected bool LogTxn(QuorumPacket packet)
    {
        if (packet.Zxid <= Context.Log.LastZxid || packet.Zxid.Counter == 0)
        {
            Context.ProtocolError($"txn {packet.Zxid} does not follow our last zxid {Context.Log.LastZxid}");
            return false;
        }
        Context.AppendTxn(new Txn(packet.Zxid, packet.Data ?? []));
        return true;
    }

    protected void OnCommit(QuorumPacket packet)
    {
        if (packet.Zxid > Context.Log.LastZxid)
        {
            Context.ProtocolError($"COMMIT of {packet.Zxid} past our last zxid {Context.Log.LastZxid}");
            return;
        }
        Context.CommitUpTo(packet.Zxid);
    }

    private void OnNewLeader(QuorumPacket packet)
    {
        if (packet.Zxid.Epoch != _newEpoch)
        {
            Context.ProtocolError($"NEWLEADER for epoch {packet.Zxid.Epoch}, agreed {_newEpoch}");
            return;
        }
        // Taking on the leader's history: the current epoch and the synced log go to disk before the ack.
        Context.SetCurrentEpoch(_newEpoch);
        // Servers that join later compare our vote with the leader's by epoch, so it must name the new one.
        Context.CurrentVote = Context.CurrentVote with { PeerEpoch = _newEpoch };
        _syncPoint = Context.Log.LastZxid;
        Phase = SyncPhase.AwaitingUpToDate;
        Send(new QuorumPacket(PacketType.Ack, packet.Zxid), afterPersist: true);
    }

    private void OnUpToDate()
    {
        // A quorum holds the leader's initial history (everything from epochs before this one), so all of it that
        // we hold is committed. Txns of this epoch that came with the sync may still be in flight; their COMMITs
        // follow on the stream.
        var initialHistoryEnd = Context.Log.Floor(Zxid.From(_newEpoch, 0));
        Context.CommitUpTo(initialHistoryEnd < _syncPoint ? initialHistoryEnd : _syncPoint);
        Phase = SyncPhase.Broadcast;
    }
}

/// <summary>A voting learner: logs proposals, acks them once durable, applies commits.</summary>
internal sealed class Follower(PeerContext context, ServerId leader) : Learner(context, leader)
{
    public override PeerState State => PeerState.Following;
    protected override PacketType InfoType => PacketType.FollowerInfo;

    protected override bool OnBroadcastPacket(QuorumPacket packet)
    {
        if (packet.Type != PacketType.Proposal || Phase < SyncPhase.AwaitingUpToDate) return false;
        // Proposals before NEWLEADER are covered by its ack; from here each one is acked once it is on disk.
        if (LogTxn(packet)) Send(new QuorumPacket(PacketType.Ack, packet.Zxid), afterPersist: true);
        return true;
    }
}

/// <summary>A non-voting learner: receives each committed txn once, as INFORM, and never acks.</summary>
internal sealed class Observer(PeerContext context, ServerId leader) : Learner(context, leader)
{
    public override PeerState State => PeerState.Observing;
    protected override PacketType InfoType => PacketType.ObserverInfo;

    protected override bool OnBroadcastPacket(QuorumPacket packet)
    {
        if (packet.Type != PacketType.Inform || Phase < SyncPhase.AwaitingUpToDate) return false;
        if (LogTxn(packet)) Context.CommitUpTo(packet.Zxid);
        return true;
    }
}
