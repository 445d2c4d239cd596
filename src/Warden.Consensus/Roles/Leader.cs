using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus.Roles;

/// <summary>
/// The leader of one epoch, through Zab's three phases. Discovery: gather a quorum of FOLLOWERINFO, pick an
/// epoch above every accepted one, and collect a quorum of ACKEPOCH. Synchronisation: bring each learner to the
/// leader's history by DIFF, TRUNC or SNAP, then NEWLEADER; a quorum of NEWLEADER acks establishes the leader and
/// commits its whole initial history. Broadcast: PROPOSAL, ACK, COMMIT in zxid order, INFORM to observers.
/// A leader that cannot hold a quorum within initLimit (before) or syncLimit (after) steps down.
/// </summary>
internal sealed class Leader(PeerContext context) : Role(context)
{
    private readonly Dictionary<ServerId, LearnerSession> _sessions = [];
    private readonly LeaderSync _sync = new(context);
    private int _newEpoch = -1;
    private bool _epochAgreed;
    private bool _established;
    private long _startTick;
    private long _nextCounter = 1;
    private PendingReconfig? _pendingReconfig;

    /// <summary>Learners waiting for SYNC until the COMMIT of the zxid they are keyed by (Apache's pendingSyncs).</summary>
    private readonly Dictionary<Zxid, List<LearnerSession>> _pendingSyncs = [];

    /// <summary>Every learner connected to this leader, and whether it is past UPTODATE; for mntr.</summary>
    public IReadOnlyList<LearnerStatus> Learners =>
        _sessions.Values.Select(s => new LearnerStatus(s.Id, s.IsObserver, s.Phase == LearnerPhase.UpToDate)).ToList();

    /// <summary>Learner syncs waiting for the commit of a proposal; mntr's zk_pending_syncs.</summary>
    public int PendingSyncs => _pendingSyncs.Values.Sum(waiting => waiting.Count);

    public override PeerState State => PeerState.Leading;
    public override ServerId? LeaderId => Context.Id;
    public bool IsEstablished => _established;
    public int NewEpoch => _newEpoch;
    public override bool IsServing => _established;

    /// <summary>The zxid the next accepted proposal gets; null until established.</summary>
    public Zxid? NextProposalZxid => _established ? Zxid.From(_newEpoch, _nextCounter) : null;

    public override void Enter()
    {
        _startTick = Context.Now;
        Context.CurrentVote = Context.CurrentVote with { Leader = Context.Id };
        TryFixEpoch();
    }

    public override void OnPacket(ServerId from, PacketMessage message)
    {
        var packet = message.Packet;
        if (packet.Type is PacketType.FollowerInfo or PacketType.ObserverInfo)
        {
            OnLearnerInfo(from, packet);
            return;
        }
        // Anything else must come on a connection that began with FOLLOWERINFO or OBSERVERINFO.
        if (!_sessions.TryGetValue(from, out var session)) return;
        session.LastHeardTick = Context.Now;
        switch (packet.Type)
        {
            case PacketType.AckEpoch: OnAckEpoch(session, packet); break;
            case PacketType.Ack: OnAck(session, packet); break;
            case PacketType.Ping:
                // Apache's LearnerHandler reads PING replies (session touches) only in its main loop, after UPTODATE.
                if (session.Phase == LearnerPhase.UpToDate) Context.FromLearner(from, packet);
                break;
            case PacketType.Request or PacketType.Revalidate when session.Phase == LearnerPhase.UpToDate:
                Context.FromLearner(from, packet);
                break;
            default: DropSession(session, $"unexpected {packet.Type} from learner {from}"); break;
        }
    }

    private void OnLearnerInfo(ServerId from, QuorumPacket packet)
    {
        bool observer = packet.Type == PacketType.ObserverInfo;
        LearnerInfo info;
        try
        {
            info = LearnerInfo.Decode(packet.Data ?? []);
        }
        catch (JuteException)
        {
            return;
        }
        // A learner outside the configuration is served as Apache serves it (only voters count toward a quorum): that
        // is how a server to be added by a reconfig is synchronised before the reconfig counts on it.
        if (info.ServerId != from) return;
        // A new connection from a learner replaces its old one, as a new LearnerHandler replaces a dead one.
        var session = new LearnerSession(from, observer, packet.Zxid.Epoch, Context.Now);
        if (_newEpoch >= 0 && !observer && session.AcceptedEpoch > _newEpoch)
        {
            // This voter promised a newer epoch than ours to a leader that never got established; it will refuse
            // ours, and would stay out for as long as we lead. A new election picks an epoch above it. (A voter that
            // accepted our own epoch and reconnects is welcome: it answers LEADERINFO with -1 and is synchronised.)
            StepDown();
            return;
        }
        _sessions[from] = session;
        if (_newEpoch < 0) TryFixEpoch();
        else SendLeaderInfo(session);
    }

    /// <summary>Once a quorum of voters has reported its accepted epoch, the new epoch is one above them all.</summary>
    private void TryFixEpoch()
    {
        var voters = _sessions.Values.Where(s => !s.IsObserver && Context.IsVoterId(s.Id)).ToList();
        if (voters.Count + 1 < Context.QuorumSize) return;
        int highest = voters.Select(s => s.AcceptedEpoch).Append(Context.AcceptedEpoch).Max();
        _newEpoch = highest + 1;
        Invariant.Require(_newEpoch > Context.AcceptedEpoch, $"new epoch {_newEpoch} is not above acceptedEpoch {Context.AcceptedEpoch}");
        Context.SetAcceptedEpoch(_newEpoch);
        if (Context.Options.VersionConfigOnLead && Context.ConfigVersion == 0)
        {
            Context.AdoptConfig(ConfigTexts.WithVersion(Context.ConfigText, Zxid.From(_newEpoch, 0).Value));
        }
        foreach (var session in _sessions.Values) SendLeaderInfo(session);
        TryAgreeEpoch();
    }

    private void SendLeaderInfo(LearnerSession session)
    {
        var packet = new QuorumPacket(PacketType.LeaderInfo, Zxid.From(_newEpoch, 0), QuorumPacket.IntPayload(QuorumPacket.ProtocolVersion));
        // The accepted epoch must be on disk before anyone hears of it, or a restart could offer it twice.
        Context.SendPacket(session.Id, Channel.ToLearner, packet, afterPersist: true);
        session.Phase = LearnerPhase.LeaderInfoSent;
    }

    private void OnAckEpoch(LearnerSession session, QuorumPacket packet)
    {
        if (session.Phase != LearnerPhase.LeaderInfoSent)
        {
            DropSession(session, $"ACKEPOCH from {session.Id} in phase {session.Phase}");
            return;
        }
        int learnerCurrentEpoch;
        try
        {
            learnerCurrentEpoch = packet.ReadIntPayload();
        }
        catch (JuteException error)
        {
            DropSession(session, error.Message);
            return;
        }
        session.PeerLastZxid = packet.Zxid;
        session.Phase = LearnerPhase.EpochAcked;
        if (learnerCurrentEpoch != -1 && !session.IsObserver)
        {
            // A voter with a newer history than ours means the election chose wrongly; let it run again.
            bool ahead = learnerCurrentEpoch > Context.CurrentEpoch
                || (learnerCurrentEpoch == Context.CurrentEpoch && packet.Zxid > Context.Log.LastZxid);
            if (ahead)
            {
                if (_established) DropSession(session, $"learner {session.Id} is ahead of an established leader");
                else StepDown();
                return;
            }
            session.AckedNewEpoch = true;
        }
        if (_epochAgreed) _sync.Sync(session, _newEpoch, _established);
        else TryAgreeEpoch();
    }

    /// <summary>A quorum of voters (this one included) that acked the new epoch lets synchronisation begin.</summary>
    private void TryAgreeEpoch()
    {
        if (_epochAgreed || _newEpoch < 0) return;
        int acks = 1 + _sessions.Values.Count(s => !s.IsObserver && Context.IsVoterId(s.Id) && s.AckedNewEpoch);
        if (acks < Context.QuorumSize) return;
        _epochAgreed = true;
        foreach (var session in _sessions.Values.Where(s => s.Phase == LearnerPhase.EpochAcked).ToList())
        {
            _sync.Sync(session, _newEpoch, _established);
        }
        TryEstablish();
    }

    private void OnAck(LearnerSession session, QuorumPacket packet)
    {
        if (packet.Zxid == Zxid.From(_newEpoch, 0))
        {
            // After the NEWLEADER ack, an ack of the epoch itself is the learner's answer to UPTODATE (Apache's
            // Learner.syncWithLeader sends it and Leader.processAck ignores it).
            if (session.Phase >= LearnerPhase.Synced) return;
            OnNewLeaderAck(session);
            return;
        }
        if (session.IsObserver || session.Phase < LearnerPhase.Synced) return;
        if (packet.Zxid > session.AckedUpTo && packet.Zxid <= Context.Log.LastZxid) session.AckedUpTo = packet.Zxid;
        TryCommit();
    }

    private void OnNewLeaderAck(LearnerSession session)
    {
        if (session.Phase != LearnerPhase.Syncing)
        {
            DropSession(session, $"NEWLEADER ack from {session.Id} in phase {session.Phase}");
            return;
        }
        session.Phase = LearnerPhase.Synced;
        if (!session.IsObserver) session.AckedUpTo = session.SyncedUpTo;
        if (_established)
        {
            SendUpToDate(session);
            TryCommit();
        }
        else
        {
            TryEstablish();
        }
    }

    /// <summary>
    /// A quorum of voters holding the leader's history under the new epoch makes that whole history committed.
    /// </summary>
    private void TryEstablish()
    {
        if (_established || !_epochAgreed) return;
        int acks = 1 + _sessions.Values.Count(s => !s.IsObserver && Context.IsVoterId(s.Id) && s.Phase >= LearnerPhase.Synced);
        if (acks < Context.QuorumSize) return;
        _established = true;
        Context.SetCurrentEpoch(_newEpoch);
        Context.CurrentVote = Context.CurrentVote with { PeerEpoch = _newEpoch };
        Context.CommitUpTo(Context.Log.LastZxid);
        Context.NoteRoleChange();
        foreach (var session in _sessions.Values.ToList())
        {
            if (session.Phase == LearnerPhase.Synced) SendUpToDate(session);
            // Observers wait until now so that they only ever receive committed history.
            else if (session.IsObserver && session.Phase == LearnerPhase.EpochAcked) _sync.Sync(session, _newEpoch, true);
        }
    }

    private void SendUpToDate(LearnerSession session)
    {
        // Apache's LearnerHandler.run queues UPTODATE with zxid -1 once Leader.waitForNewLeaderAck has its quorum.
        Context.SendPacket(session.Id, Channel.ToLearner, new QuorumPacket(PacketType.UpToDate, new Zxid(-1)), afterPersist: true);
        session.Phase = LearnerPhase.UpToDate;
        // The stream to one learner keeps its order, so these follow UPTODATE.
        foreach (var zxid in session.CommitsAfterUpToDate)
        {
            Context.SendPacket(session.Id, Channel.ToLearner, new QuorumPacket(PacketType.Commit, zxid));
        }
        session.CommitsAfterUpToDate.Clear();
    }

    public override ProposeResult Propose(byte[] data)
    {
        if (!_established) return new(ProposeOutcome.NotEstablished, Zxid.Zero);
        var committed = Context.Log.Committed;
        long committedCounter = committed.Epoch == _newEpoch ? committed.Counter : 0;
        if (_nextCounter - 1 - committedCounter >= Context.Options.MaxInFlightProposals)
        {
            return new(ProposeOutcome.TooManyInFlight, Zxid.Zero);
        }
        if (_nextCounter >= 0xffffffffL)
        {
            // The counter is exhausted; a new election starts a new epoch, as Apache does on rollover.
            StepDown();
            return new(ProposeOutcome.NotLeader, Zxid.Zero);
        }
        var txn = new Txn(Zxid.From(_newEpoch, _nextCounter++), data);
        Context.AppendTxn(txn);
        if (Context.Options.ReconfigOf(data) is { } config && ConfigTexts.Members(config) is { } members)
        {
            Invariant.Require(_pendingReconfig is null, $"reconfig {txn.Zxid} proposed while {_pendingReconfig?.Zxid} is in flight");
            _pendingReconfig = new PendingReconfig(txn.Zxid, members.Voters);
        }
        var proposal = new QuorumPacket(PacketType.Proposal, txn.Zxid, data);
        foreach (var session in _sessions.Values)
        {
            // Followers may log it while the leader does; nothing counts as acked until it is durable somewhere.
            if (!session.IsObserver && session.IsForwarding) Context.SendPacket(session.Id, Channel.ToLearner, proposal);
        }
        return new(ProposeOutcome.Accepted, txn.Zxid);
    }

    public override void OnDurable() => TryCommit();

    /// <summary>
    /// Commits the highest zxid that a quorum of voters has on disk, and everything before it. From a reconfig on, until
    /// it commits, a txn needs a quorum of the old voters and one of the new (Apache's Proposal.hasAllQuorums).
    /// </summary>
    private void TryCommit()
    {
        if (!_established) return;
        var target = QuorumZxid(Context.Voters);
        if (_pendingReconfig is { } pending && target >= pending.Zxid)
        {
            var inNew = QuorumZxid(pending.Voters);
            target = inNew >= pending.Zxid ? Min(target, inNew) : Context.Log.Floor(new Zxid(pending.Zxid.Value - 1));
        }
        if (target <= Context.Log.Committed) return;
        foreach (var txn in Context.CommitUpTo(target))
        {
            if (_pendingReconfig?.Zxid == txn.Zxid)
            {
                if (!CommitReconfig(txn)) return;
                continue;
            }
            var commit = new QuorumPacket(PacketType.Commit, txn.Zxid);
            var inform = new QuorumPacket(PacketType.Inform, txn.Zxid, txn.Data);
            foreach (var session in _sessions.Values.Where(s => s.IsForwarding))
            {
                // Apache 3.8's Learner.syncWithLeader logs and forgets the proposals it took before NEWLEADER; a COMMIT
                // that reaches it before UPTODATE with no later proposal pending fails its sync (a NullPointerException
                // at Learner.java:655). After UPTODATE it matches the COMMIT against the proposals it logged.
                if (!session.IsObserver && session.Phase < LearnerPhase.UpToDate)
                {
                    session.CommitsAfterUpToDate.Add(txn.Zxid);
                    continue;
                }
                Context.SendPacket(session.Id, Channel.ToLearner, session.IsObserver ? inform : commit);
            }
            SendSyncsWaitingFor(txn.Zxid);
        }
    }

    /// <summary>
    /// A reconfig committed (and, by committing, is in force here): COMMITANDACTIVATE to followers, INFORMANDACTIVATE to
    /// observers, each naming the leader of the new configuration: this one if it votes in it, else the new voter that
    /// acked the most (Apache's getDesignatedLeader). A leader that is no voter any more steps down; its followers do
    /// too, on seeing another leader named, and elect one among the new voters. False when this server stepped down.
    /// </summary>
    private bool CommitReconfig(Txn txn)
    {
        var pending = _pendingReconfig!;
        _pendingReconfig = null;
        var designated = pending.Voters.Contains(Context.Id)
            ? Context.Id
            : _sessions.Values.Where(s => !s.IsObserver && pending.Voters.Contains(s.Id) && s.AckedUpTo >= txn.Zxid)
                .OrderByDescending(s => s.AckedUpTo).ThenByDescending(s => s.Id.Value).Select(s => (ServerId?)s.Id).FirstOrDefault()
              ?? pending.Voters[0];
        var leaderBytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(leaderBytes, designated.Value);
        var commit = new QuorumPacket(PacketType.CommitAndActivate, txn.Zxid, leaderBytes);
        var inform = new QuorumPacket(PacketType.InformAndActivate, txn.Zxid, [.. leaderBytes, .. txn.Data]);
        foreach (var session in _sessions.Values.Where(s => s.IsForwarding))
        {
            Context.SendPacket(session.Id, Channel.ToLearner, session.IsObserver ? inform : commit);
        }
        SendSyncsWaitingFor(txn.Zxid);
        if (designated == Context.Id) return true;
        StepDown();
        return false;
    }

    private void SendSyncsWaitingFor(Zxid zxid)
    {
        // Apache's Leader.commit path: SYNCs waiting for this zxid go right after its COMMIT.
        if (_pendingSyncs.Remove(zxid, out var waiting))
        {
            foreach (var session in waiting) SendSync(session);
        }
    }

    /// <summary>The highest zxid a quorum of <paramref name="voters"/> has durable, this leader included if it votes there.</summary>
    private Zxid QuorumZxid(IReadOnlyList<ServerId> voters)
    {
        var acked = new List<Zxid>();
        if (voters.Contains(Context.Id)) acked.Add(Context.DurableZxid < Context.Log.LastZxid ? Context.DurableZxid : Context.Log.LastZxid);
        foreach (var session in _sessions.Values)
        {
            if (!session.IsObserver && session.Phase >= LearnerPhase.Synced && voters.Contains(session.Id)) acked.Add(session.AckedUpTo);
        }
        int quorum = voters.Count / 2 + 1;
        if (acked.Count < quorum) return Zxid.Zero;
        acked.Sort((a, b) => b.CompareTo(a));
        return acked[quorum - 1];
    }

    private static Zxid Min(Zxid a, Zxid b) => a < b ? a : b;

    /// <summary>A reconfig proposed and not yet committed, with the voters of the configuration it brings.</summary>
    private sealed record PendingReconfig(Zxid Zxid, IReadOnlyList<ServerId> Voters);

    /// <summary>
    /// Sends SYNC to a learner now if nothing proposed is uncommitted, else right after the COMMIT of the last
    /// proposal (Apache's Leader.processSync and pendingSyncs).
    /// </summary>
    public bool RequestSync(ServerId learner)
    {
        if (!_established || !_sessions.TryGetValue(learner, out var session) || session.Phase != LearnerPhase.UpToDate) return false;
        var last = Context.Log.LastZxid;
        if (Context.Log.Committed >= last)
        {
            SendSync(session);
            return true;
        }
        if (!_pendingSyncs.TryGetValue(last, out var waiting)) _pendingSyncs[last] = waiting = [];
        waiting.Add(session);
        return true;
    }

    private void SendSync(LearnerSession session)
    {
        // A learner whose connection was replaced or dropped since it asked gets nothing, as a dead handler would.
        if (!_sessions.TryGetValue(session.Id, out var current) || current != session) return;
        Context.SendPacket(session.Id, Channel.ToLearner, new QuorumPacket(PacketType.Sync, Zxid.Zero));
    }

    /// <summary>Sends a host packet (a REVALIDATE reply) to a learner in the broadcast phase, in stream order.</summary>
    public bool SendToLearner(ServerId learner, QuorumPacket packet)
    {
        if (!_sessions.TryGetValue(learner, out var session) || session.Phase != LearnerPhase.UpToDate) return false;
        Context.SendPacket(learner, Channel.ToLearner, packet);
        return true;
    }

    /// <summary>
    /// The connection to a learner broke: forget its session, as Apache's LearnerHandler ends with its socket. If that
    /// leaves no quorum, the next tick steps down.
    /// </summary>
    public override void OnDisconnected(ServerId peer) => _sessions.Remove(peer);

    public override void OnTick()
    {
        foreach (var session in _sessions.Values.ToList())
        {
            // A learner that acked NEWLEADER says nothing more until UPTODATE (Apache's learner ignores PINGs until
            // then), which waits for the quorum of acks within initLimit; only after it does syncLimit apply.
            int limit = session.Phase >= LearnerPhase.UpToDate ? Context.Options.SyncLimitTicks : Context.Options.InitLimitTicks;
            if (Context.Now - session.LastHeardTick > limit)
            {
                _sessions.Remove(session.Id);
                Context.LearnerClosed(session.Id);
                continue;
            }
            // Apache pings a learner only once its sending thread runs, that is from NEWLEADER on; Apache learners
            // ignore PINGs while synchronising.
            if (session.Phase >= LearnerPhase.Syncing)
            {
                Context.SendPacket(session.Id, Channel.ToLearner, new QuorumPacket(PacketType.Ping, Context.Log.LastZxid));
            }
        }
        if (!_established)
        {
            if (Context.Now - _startTick > Context.Options.InitLimitTicks) StepDown();
            return;
        }
        int inTouch = 1 + _sessions.Values.Count(s => !s.IsObserver && Context.IsVoterId(s.Id) && s.Phase >= LearnerPhase.Synced);
        if (inTouch < Context.QuorumSize) StepDown();
    }

    private void DropSession(LearnerSession session, string reason)
    {
        _sessions.Remove(session.Id);
        Context.NoteLearnerDropped(reason);
        Context.LearnerClosed(session.Id);
    }
}
