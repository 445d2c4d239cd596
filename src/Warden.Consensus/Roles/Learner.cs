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

    /// <summary>True once DIFF, TRUNC or SNAP opened the sync; Apache's learner requires one of them first.</summary>
    private bool _syncOpened;

    /// <summary>
    /// The highest zxid the leader has said is committed during the sync (COMMIT, INFORM, or the zxid of DIFF).
    /// Apache's learner applies these only after UPTODATE, and so does this one: until then the leader may not be
    /// established, and its history not yet committed.
    /// </summary>
    private Zxid _committedDuringSync;

    /// <summary>The zxid of DIFF: the leader's last committed zxid, or ours when we were there already.</summary>
    private Zxid _diffCommitted;

    /// <summary>After a SNAP older than our commit point: the txns up to here are kept, and their PROPOSALs skipped.</summary>
    private Zxid _keptThrough;

    /// <summary>The proposals logged before NEWLEADER, which a follower acks one by one after UPTODATE.</summary>
    private readonly List<Zxid> _proposedDuringSync = [];

    protected SyncPhase Phase { get; private set; } = SyncPhase.Connecting;
    public override ServerId? LeaderId => leader;
    public override bool IsServing => Phase == SyncPhase.Broadcast;

    protected abstract PacketType InfoType { get; }

    /// <summary>True for a learner whose acks count (a follower); an observer never acks proposals.</summary>
    protected abstract bool AcksProposals { get; }

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
        bool syncing = Phase is SyncPhase.Syncing or SyncPhase.AwaitingUpToDate;
        switch (packet.Type)
        {
            // Learner.ping: the reply echoes the leader's zxid and auth; the host fills in the session touch table
            // (Ready.AttachPingReplies). Learner.syncWithLeader ignores PINGs, and answering one before the
            // NEWLEADER ack would break Apache's leader, which wants that ack first.
            case PacketType.Ping:
                if (Phase >= SyncPhase.AwaitingUpToDate) Send(new QuorumPacket(PacketType.Ping, packet.Zxid, null, packet.AuthInfo));
                return;
            case PacketType.LeaderInfo when Phase == SyncPhase.Connecting: OnLeaderInfo(packet); return;
            case PacketType.Diff when Phase == SyncPhase.Syncing && !_syncOpened: OnDiff(packet); return;
            case PacketType.Trunc when Phase == SyncPhase.Syncing && !_syncOpened: OnTrunc(packet); return;
            case PacketType.Snap when Phase == SyncPhase.Syncing && !_syncOpened: OnSnap(message); return;
            case PacketType.NewLeader when Phase == SyncPhase.Syncing && _syncOpened: OnNewLeader(packet); return;
            case PacketType.UpToDate when Phase == SyncPhase.AwaitingUpToDate: OnUpToDate(); return;
            case PacketType.Proposal when Phase == SyncPhase.Syncing && _syncOpened:
                if (packet.Zxid <= _keptThrough) return;
                if (LogTxn(packet)) _proposedDuringSync.Add(packet.Zxid);
                return;
            case PacketType.Commit or PacketType.CommitAndActivate when syncing && _syncOpened: NoteCommitDuringSync(packet.Zxid); return;
            case PacketType.Inform when syncing && _syncOpened:
                if (LogTxn(packet)) NoteCommitDuringSync(packet.Zxid);
                return;
            case PacketType.InformAndActivate when syncing && _syncOpened:
                if (ActivatedTxn(packet) is { } informed && LogTxn(informed)) NoteCommitDuringSync(packet.Zxid);
                return;
            case PacketType.Commit when Phase == SyncPhase.Broadcast: OnCommit(packet); return;
            case PacketType.CommitAndActivate when Phase == SyncPhase.Broadcast && this is Follower:
                OnCommit(packet);
                AfterActivation(packet);
                return;
            case PacketType.InformAndActivate when Phase == SyncPhase.Broadcast && this is Observer:
                if (ActivatedTxn(packet) is { } txn && LogTxn(txn)) Context.CommitUpTo(txn.Zxid);
                AfterActivation(packet);
                return;
            // Follower.processPacket and Observer.processPacket hand these to the server; syncWithLeader ignores them.
            case PacketType.Revalidate or PacketType.Sync:
                if (Phase == SyncPhase.Broadcast) Context.FromLeader(packet);
                return;
        }
        if (!OnBroadcastPacket(packet)) Context.ProtocolError($"unexpected {packet} from leader {from} while {Phase}");
    }

    /// <summary>Sends a host packet (REQUEST or REVALIDATE) on the stream to the leader, in the broadcast phase only.</summary>
    public bool SendToLeader(QuorumPacket packet)
    {
        if (Phase != SyncPhase.Broadcast) return false;
        Send(packet);
        return true;
    }

    /// <summary>
    /// The connection to the leader broke: Apache's learner sees its read fail and goes back to LOOKING at once,
    /// rather than waiting out syncLimit.
    /// </summary>
    public override void OnDisconnected(ServerId peer)
    {
        if (peer == leader) StepDown();
    }

    /// <summary>INFORMANDACTIVATE's data: the designated leader (a long), then the proposal as INFORM carries it.</summary>
    private QuorumPacket? ActivatedTxn(QuorumPacket packet)
    {
        if (packet.Data is not { Length: > 8 } data)
        {
            Context.ProtocolError($"{packet.Type} of {packet.Zxid} without a designated leader and a txn");
            return null;
        }
        return new QuorumPacket(PacketType.Inform, packet.Zxid, data[8..]);
    }

    /// <summary>
    /// After COMMITANDACTIVATE or INFORMANDACTIVATE the new configuration is in force (committing the reconfig put it
    /// there). A learner whose part changed (removed, or moved between voting and observing), or whose leader named
    /// another server to lead, leaves its leader and looks again, as Apache's processReconfig has it do.
    /// </summary>
    private void AfterActivation(QuorumPacket packet)
    {
        if (Context.Role != this) return;
        long designated = packet.Data is { Length: >= 8 } data ? System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(data) : leader.Value;
        bool samePart = AcksProposals ? Context.IsVoter : Context.IsObserverId(Context.Id);
        if (!samePart || designated != leader.Value) StepDown();
    }

    private void NoteCommitDuringSync(Zxid zxid)
    {
        if (zxid > Context.Log.LastZxid)
        {
            Context.ProtocolError($"COMMIT of {zxid} past our last zxid {Context.Log.LastZxid} during sync");
            return;
        }
        if (zxid > _committedDuringSync) _committedDuringSync = zxid;
    }

    private void OnDiff(QuorumPacket packet)
    {
        // The zxid of DIFF is the leader's last committed zxid (or ours, when we are there already); what of it we
        // hold at NEWLEADER is committed once UPTODATE shows the leader established.
        _syncOpened = true;
        _diffCommitted = packet.Zxid;
        NoteReceived(packet);
    }

    /// <summary>The first packet of the sync, for the host's log (Apache's "Getting a diff from the leader" and the like).</summary>
    private void NoteReceived(QuorumPacket packet) =>
        Context.NoteSync(new SyncReport(leader, Sent: false, packet.Type, packet.Zxid, Context.Log.LastZxid));

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
        _syncOpened = true;
        NoteReceived(packet);
        if (packet.Zxid >= Context.Log.LastZxid) return;
        // Apache's learner exits when it cannot truncate; here a leader that asks to cut committed history loses us.
        if (packet.Zxid < Context.Log.Committed || packet.Zxid < Context.Log.BaseZxid)
        {
            Context.ProtocolError($"TRUNC to {packet.Zxid} below our committed {Context.Log.Committed}");
            return;
        }
        Context.TruncateLog(packet.Zxid);
    }

    private void OnSnap(PacketMessage message)
    {
        _syncOpened = true;
        NoteReceived(message.Packet);
        if (message.Snapshot is null)
        {
            Context.ProtocolError("SNAP arrived without a snapshot");
            return;
        }
        var zxid = message.Packet.Zxid;
        if (zxid < Context.Log.Committed)
        {
            // Only a leader of ours that is not established yet sends this: it has applied only what it knows committed,
            // while Apache's leader has applied its whole log. Its history holds everything committed, so ours up to
            // our commit point is the same; keep that (going back would drop committed txns from this disk until the
            // PROPOSALs after the snapshot are logged again), drop the rest, and skip the PROPOSALs we already hold.
            if (Context.Log.LastZxid > Context.Log.Committed) Context.TruncateLog(Context.Log.Committed);
            _keptThrough = Context.Log.Committed;
            return;
        }
        Context.InstallSnapshot(zxid, message.Snapshot);
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

    private void OnCommit(QuorumPacket packet)
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
        // Taking on the leader's history: the current epoch and the synced log go to disk before the ack. NEWLEADER
        // carries the leader's configuration; a newer one than ours is ours from here (Apache's Learner.syncWithLeader).
        Context.SetCurrentEpoch(_newEpoch);
        if (packet.Data is { Length: > 1 } config) Context.AdoptConfig(config);
        // Servers that join later compare our vote with the leader's by epoch, so it must name the new one.
        Context.CurrentVote = Context.CurrentVote with { PeerEpoch = _newEpoch };
        _syncPoint = Context.Log.LastZxid;
        Phase = SyncPhase.AwaitingUpToDate;
        Send(new QuorumPacket(PacketType.Ack, packet.Zxid), afterPersist: true);
    }

    private void OnUpToDate()
    {
        // A quorum holds the leader's initial history (everything from epochs before this one), so all of it that
        // we hold is committed; so is what the DIFF said was committed, and every COMMIT and INFORM of the sync.
        // Txns of this epoch that came with the sync may still be in flight; their COMMITs follow on the stream.
        var initialHistoryEnd = Context.Log.Floor(Zxid.From(_newEpoch, 0));
        var upTo = Min(initialHistoryEnd, _syncPoint);
        upTo = Max(upTo, Min(_diffCommitted, _syncPoint));
        upTo = Max(upTo, _committedDuringSync);
        Context.CommitUpTo(Min(upTo, Context.Log.LastZxid));
        Phase = SyncPhase.Broadcast;
        // Learner.syncWithLeader answers UPTODATE with an ack of the new epoch, which the leader ignores, and a follower
        // then acks each proposal it logged at NEWLEADER: Apache's leader counts the NEWLEADER ack for the epoch
        // only, so the proposals still waiting for their quorum need acks of their own.
        Send(new QuorumPacket(PacketType.Ack, Zxid.From(_newEpoch, 0)));
        if (AcksProposals)
        {
            foreach (var zxid in _proposedDuringSync)
            {
                // An ack promises the txn is on disk; a host may deliver UPTODATE before it reports the batch durable.
                if (zxid > Context.Log.Committed) Send(new QuorumPacket(PacketType.Ack, zxid), afterPersist: zxid > Context.DurableZxid);
            }
        }
        _proposedDuringSync.Clear();
        Context.NoteRoleChange();
    }

    private static Zxid Min(Zxid a, Zxid b) => a < b ? a : b;

    private static Zxid Max(Zxid a, Zxid b) => a > b ? a : b;
}

/// <summary>A voting learner: logs proposals, acks them once durable, applies commits.</summary>
internal sealed class Follower(PeerContext context, ServerId leader) : Learner(context, leader)
{
    public override PeerState State => PeerState.Following;
    protected override PacketType InfoType => PacketType.FollowerInfo;
    protected override bool AcksProposals => true;

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
    protected override bool AcksProposals => false;

    protected override bool OnBroadcastPacket(QuorumPacket packet)
    {
        if (packet.Type != PacketType.Inform || Phase != SyncPhase.Broadcast) return false;
        if (LogTxn(packet)) Context.CommitUpTo(packet.Zxid);
        return true;
    }
}
