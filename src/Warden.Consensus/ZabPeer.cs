using Warden.Consensus.Roles;
using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus;

/// <summary>
/// One server's ZAB state machine. The host feeds it ticks, messages and client proposals, then takes a
/// <see cref="Ready"/> batch, carries it out in the order the batch describes, and calls <see cref="Advance"/>.
/// It never blocks, reads a clock, touches a socket or a file, or draws a random number, so a simulator can run
/// it unchanged and replay any run from a seed.
/// </summary>
public sealed class ZabPeer
{
    private readonly PeerContext _context;

    public ZabPeer(PeerOptions options, RecoveredState recovered)
    {
        options.Validate();
        _context = new PeerContext(options, recovered);
        _context.ChangeRole(new Looking(_context));
    }

    public ServerId Id => _context.Id;
    public PeerState State => _context.Role.State;

    /// <summary>The leader this server follows or is; null while looking.</summary>
    public ServerId? Leader => _context.Role.LeaderId;

    /// <summary>True for a leader that a quorum has synchronised with, which alone may propose.</summary>
    public bool IsEstablishedLeader => _context.Role is Leader { IsEstablished: true };

    /// <summary>True while this server may serve clients: an established leader, or a learner after UPTODATE.</summary>
    public bool IsServing => _context.Role.IsServing;

    /// <summary>
    /// The zxid the next <see cref="Propose"/> will assign if it accepts, so that the host can build the txn header
    /// first; null when this server is not an established leader.
    /// </summary>
    public Zxid? NextProposalZxid => _context.Role is Leader leader ? leader.NextProposalZxid : null;

    /// <summary>On a leader, its learners and whether each is synchronised; empty otherwise.</summary>
    public IReadOnlyList<LearnerStatus> Learners => _context.Role is Leader leader ? leader.Learners : [];

    /// <summary>On a leader, learner syncs waiting for a commit.</summary>
    public int PendingSyncs => _context.Role is Leader leader ? leader.PendingSyncs : 0;

    public Zxid LastLoggedZxid => _context.Log.LastZxid;
    public Zxid CommittedZxid => _context.Log.Committed;
    public int AcceptedEpoch => _context.AcceptedEpoch;
    public int CurrentEpoch => _context.CurrentEpoch;
    public long ElectionEpoch => _context.ElectionEpoch;
    public int ProtocolErrors => _context.ProtocolErrors;

    /// <summary>The configuration in force: its voters, observers and version.</summary>
    public IReadOnlyList<ServerId> Voters => _context.Voters;
    public IReadOnlyList<ServerId> Observers => _context.Observers;
    public long ConfigVersion => _context.ConfigVersion;

    /// <summary>Learner connections this server dropped, as a leader, for breaking the protocol.</summary>
    public int LearnersDropped => _context.LearnersDropped;
    public string? LastProtocolError => _context.LastProtocolError;

    /// <summary>The txns this server holds in its log after its snapshot point, committed or not; for diagnostics and tests.</summary>
    public IEnumerable<Txn> LoggedTxns => _context.Log.Range(_context.Log.BaseZxid, _context.Log.LastZxid);

    public void Tick()
    {
        _context.Now++;
        _context.Role.OnTick();
        _context.Log.Compact(_context.Options.RetainedCommittedTxns);
    }

    /// <summary>Delivers one message addressed to this server.</summary>
    public void Step(Envelope envelope)
    {
        if (envelope.To != Id) throw new ArgumentException($"message for {envelope.To} delivered to {Id}");
        var from = envelope.From;
        // Servers outside the configuration are heard too, as Apache hears them: a server about to be added by a
        // reconfig finds the leader through the members' answers, and connects to it as a learner before it is added.
        if (from == Id) return;
        switch (envelope.Message)
        {
            case ElectionMessage election:
                _context.SilentPeers.Remove(from);
                _context.Role.OnNotification(from, election.Notification);
                break;
            // A leader reads only the connections learners opened to it, and a learner only the one it opened;
            // anything else is a stale connection from a former role (two servers can briefly each think the
            // other leads) and is dropped, as a closed socket would drop it.
            case PacketMessage packet:
                bool meantForThisRole = envelope.Channel switch
                {
                    Channel.ToLeader => _context.Role is Leader,
                    Channel.ToLearner => _context.Role is Learner,
                    _ => false,
                };
                if (meantForThisRole) _context.Role.OnPacket(from, packet);
                break;
        }
        _context.Log.Compact(_context.Options.RetainedCommittedTxns);
    }

    /// <summary>Offers a client txn. Only an established leader accepts, and only while in-flight proposals are bounded.</summary>
    public ProposeResult Propose(byte[] data) => _context.Role.Propose(data);

    /// <summary>
    /// On a learner in the broadcast phase, sends a REQUEST (a forwarded write or sync) or a REVALIDATE to the leader,
    /// in order with the learner's acks; false when not a learner or not yet past UPTODATE.
    /// </summary>
    public bool SendToLeader(QuorumPacket packet)
    {
        if (packet.Type is not (PacketType.Request or PacketType.Revalidate))
        {
            throw new ArgumentException($"the host sends only REQUEST and REVALIDATE to the leader, not {packet.Type}");
        }
        return _context.Role is Learner learner && learner.SendToLeader(packet);
    }

    /// <summary>
    /// On a leader, sends a REVALIDATE reply to a learner past UPTODATE, in order with its PROPOSALs and COMMITs;
    /// false when not leading or that learner is not in the broadcast phase.
    /// </summary>
    public bool SendToLearner(ServerId learner, QuorumPacket packet)
    {
        if (packet.Type != PacketType.Revalidate) throw new ArgumentException($"the host sends only REVALIDATE to a learner, not {packet.Type}");
        return _context.Role is Leader leader && leader.SendToLearner(learner, packet);
    }

    /// <summary>
    /// On an established leader, answers a learner's forwarded sync: SYNC goes to it at once when nothing proposed is
    /// uncommitted, else right after the COMMIT of the last proposal made before this call. False when not an
    /// established leader or that learner is not in the broadcast phase.
    /// </summary>
    public bool RequestSync(ServerId learner) => _context.Role is Leader leader && leader.RequestSync(learner);

    /// <summary>
    /// The host's quorum-port connection to <paramref name="peer"/> broke (not a failed dial: the core re-sends
    /// FOLLOWERINFO or OBSERVERINFO itself, and each one means a new connection). A learner that loses its leader goes
    /// LOOKING at once; a leader forgets that learner and steps down on its next tick if that leaves it no quorum.
    /// </summary>
    public void OnDisconnected(ServerId peer) => _context.Role.OnDisconnected(peer);

    /// <summary>
    /// The host's election link to <paramref name="peer"/> is down (it closed, or dialling failed): while looking, this
    /// server does not wait for that peer's vote before deciding, until a notification from it arrives again.
    /// </summary>
    public void OnElectionLinkDown(ServerId peer)
    {
        if (peer == Id) return;
        _context.SilentPeers.Add(peer);
        _context.Role.OnElectionLinkDown(peer);
    }

    /// <summary>An election timer the host armed (<see cref="Ready.ElectionTimer"/>) fired.</summary>
    public void OnElectionTimer(long token)
    {
        if (token == _context.ElectionTimerToken) _context.Role.OnElectionTimer();
    }

    public bool HasReady => _context.HasReady;

    public Ready TakeReady() => _context.TakeReady();

    /// <summary>Tells the core the host has carried out <paramref name="ready"/>: its writes are durable.</summary>
    public void Advance(Ready ready)
    {
        if (ready.LastAppended is null && ready.Persist.Count == 0) return;
        _context.DurableZxid = ready.LogEndAfterPersist;
        _context.Role.OnDurable();
    }
}
