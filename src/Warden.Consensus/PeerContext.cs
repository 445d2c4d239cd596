using Warden.Consensus.Roles;
using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus;

/// <summary>
/// The state every role shares: identity and limits, the durable epochs and log, the election clock, the current
/// role, and the batch of output being built. Every change to durable state goes through here so that it is
/// checked and recorded for the host in one place.
/// </summary>
internal sealed class PeerContext
{
    private Ready _ready = new();
    private readonly HashSet<ServerId> _waitingForPersist = [];

    public PeerContext(PeerOptions options, RecoveredState recovered)
    {
        Options = options;
        Invariant.Require(recovered.CurrentEpoch <= recovered.AcceptedEpoch,
            $"recovered currentEpoch {recovered.CurrentEpoch} is above acceptedEpoch {recovered.AcceptedEpoch}");
        AcceptedEpoch = recovered.AcceptedEpoch;
        CurrentEpoch = recovered.CurrentEpoch;
        Log = new ReplicaLog(recovered.SnapshotZxid, recovered.Log);
        DurableZxid = Log.LastZxid;
        CurrentVote = new Vote(options.Id, Log.LastZxid, 0, CurrentEpoch);
        ConfigText = options.ConfigText;
        ConfigVersion = ConfigTexts.VersionOf(ConfigText);
        Voters = [.. options.Voters];
        Observers = [.. options.Observers];
    }

    /// <summary>The servers whose acks and votes count under the configuration in force.</summary>
    public IReadOnlyList<ServerId> Voters { get; private set; }

    /// <summary>The servers that learn the history without voting, under the configuration in force.</summary>
    public IReadOnlyList<ServerId> Observers { get; private set; }

    public bool IsVoterId(ServerId id) => Voters.Contains(id);

    public bool IsObserverId(ServerId id) => Observers.Contains(id);

    public bool IsMember => IsVoterId(Id) || IsObserverId(Id);

    public int QuorumSize => Voters.Count / 2 + 1;

    /// <summary>Every member but this server, to send notifications to.</summary>
    public IEnumerable<ServerId> OtherMembers => Voters.Concat(Observers).Where(p => p != Id);

    /// <summary>
    /// Puts a configuration in force (a committed reconfig, Apache's processReconfig): its members from here on, and its
    /// text in notifications and NEWLEADER. The host hears of it in <see cref="Ready.ConfigChanges"/>.
    /// </summary>
    public void Activate(byte[] text)
    {
        long version = ConfigTexts.VersionOf(text);
        if (version <= ConfigVersion || ConfigTexts.Members(text) is not { } members) return;
        Voters = members.Voters;
        Observers = members.Observers;
        ConfigText = text;
        ConfigVersion = version;
        _ready.ConfigChanges.Add(new ConfigChange(text, version));
    }

    /// <summary>The configuration this server sends in notifications and NEWLEADER: Apache's text, with its version.</summary>
    public byte[] ConfigText { get; private set; }

    /// <summary>The version at the end of <see cref="ConfigText"/>.</summary>
    public long ConfigVersion { get; private set; }

    /// <summary>Takes a newer configuration text and tells the host, which records it (dynamic file, /zookeeper/config).</summary>
    public void AdoptConfig(byte[] text)
    {
        long version = ConfigTexts.VersionOf(text);
        if (version <= ConfigVersion) return;
        if (ConfigTexts.Members(text) is { } members)
        {
            Voters = members.Voters;
            Observers = members.Observers;
        }
        ConfigText = text;
        ConfigVersion = version;
        _ready.ConfigChanges.Add(new ConfigChange(text, version));
    }

    public PeerOptions Options { get; }
    public ServerId Id => Options.Id;
    public bool IsVoter => IsVoterId(Id);
    public ReplicaLog Log { get; }
    public int AcceptedEpoch { get; private set; }
    public int CurrentEpoch { get; private set; }

    /// <summary>The last zxid the host has reported durable; a leader counts its own ack only up to here.</summary>
    public Zxid DurableZxid { get; set; }

    /// <summary>The election round (Apache's logical clock); kept in memory only, as Apache does.</summary>
    public long ElectionEpoch { get; set; }

    /// <summary>The vote this server stands by, sent in reply to servers that are looking.</summary>
    public Vote CurrentVote { get; set; }

    /// <summary>Ticks since this core was created.</summary>
    public long Now { get; set; }

    public Role Role { get; private set; } = null!;

    /// <summary>Packets from peers that broke the protocol and made this server drop its role; for tests and metrics.</summary>
    public int ProtocolErrors { get; private set; }
    public string? LastProtocolError { get; private set; }

    /// <summary>Learner connections the leader dropped for breaking the protocol.</summary>
    public int LearnersDropped { get; private set; }

    /// <summary>Peers whose election link the host reported down, until a notification from them arrives.</summary>
    public HashSet<ServerId> SilentPeers { get; } = [];

    /// <summary>The token of the latest election timer armed; older timers that fire are ignored.</summary>
    public long ElectionTimerToken { get; private set; }

    /// <summary>Asks the host for a timer in <paramref name="delayMs"/> ms, replacing any armed before.</summary>
    public void ArmElectionTimer(int delayMs) => _ready.ElectionTimer = new ElectionTimer(++ElectionTimerToken, delayMs);

    /// <summary>Makes any armed timer stale, so that it does nothing when it fires.</summary>
    public void CancelElectionTimer() => ElectionTimerToken++;

    /// <summary>Records a synchronisation chosen or received, for the host's log.</summary>
    public void NoteSync(SyncReport report) => _ready.Syncs.Add(report);

    public void NoteLearnerDropped(string reason)
    {
        LearnersDropped++;
        LastProtocolError = reason;
    }

    public Vote SelfVote => new(Id, Log.LastZxid, ElectionEpoch, CurrentEpoch);

    public void ChangeRole(Role next)
    {
        Role = next;
        // Reported before the new role acts, so that a role that hands over at once still shows in the order taken.
        NoteRoleChange();
        next.Enter();
    }

    private (PeerState State, ServerId? Leader, bool Serving)? _lastReportedRole;

    /// <summary>Records a change of state, leader or serving for the host; called whenever any of them may have changed.</summary>
    public void NoteRoleChange()
    {
        var now = (Role.State, Role.LeaderId, Role.IsServing);
        if (_lastReportedRole == now) return;
        _lastReportedRole = now;
        _ready.RoleChanges.Add(new RoleChange(now.State, now.LeaderId, CurrentEpoch, now.IsServing));
    }

    public void LearnerClosed(ServerId learner) => _ready.ClosedLearners.Add(learner);

    public void FromLearner(ServerId from, QuorumPacket packet) => _ready.FromLearners.Add((from, packet));

    public void FromLeader(QuorumPacket packet) => _ready.StateMachine.Add(new LeaderPacket(packet));

    /// <summary>A peer sent something the protocol does not allow here; drop the role and look for a leader again.</summary>
    public void ProtocolError(string message)
    {
        ProtocolErrors++;
        LastProtocolError = message;
        ChangeRole(new Looking(this));
    }

    public void Send(ServerId to, Channel channel, Message message, bool afterPersist = false)
    {
        // A stream to one peer must stay in order: once a message to it waits for the disk, every later
        // message to it in this batch waits too, or the host would send them ahead of it.
        if (afterPersist || _waitingForPersist.Contains(to))
        {
            _waitingForPersist.Add(to);
            _ready.SendAfterPersist.Add(new Envelope(Id, to, channel, message));
            return;
        }
        _ready.SendNow.Add(new Envelope(Id, to, channel, message));
    }

    public void SendPacket(ServerId to, Channel channel, QuorumPacket packet, bool afterPersist = false) =>
        Send(to, channel, new PacketMessage(packet), afterPersist);

    public void AppendTxn(Txn txn)
    {
        Log.Append(txn);
        _ready.Persist.Add(new AppendTxn(txn));
        _ready.LastAppended = txn.Zxid;
    }

    public void TruncateLog(Zxid lastKept)
    {
        Log.TruncateAfter(lastKept);
        _ready.Persist.Add(new TruncateLog(lastKept));
        if (DurableZxid > lastKept) DurableZxid = lastKept;
    }

    public void InstallSnapshot(Zxid zxid, byte[] snapshot)
    {
        Log.ResetToSnapshot(zxid);
        _ready.Persist.Add(new SaveSnapshot(zxid, snapshot));
        _ready.StateMachine.Add(new RestoreSnapshot(zxid, snapshot));
        DurableZxid = Zxid.Zero;
    }

    public void SetAcceptedEpoch(int epoch)
    {
        Invariant.Require(epoch > AcceptedEpoch, $"acceptedEpoch must rise: {epoch} after {AcceptedEpoch}");
        AcceptedEpoch = epoch;
        _ready.Persist.Add(new SaveAcceptedEpoch(epoch));
    }

    public void SetCurrentEpoch(int epoch)
    {
        Invariant.Require(epoch <= AcceptedEpoch, $"currentEpoch {epoch} would pass acceptedEpoch {AcceptedEpoch}");
        Invariant.Require(epoch >= CurrentEpoch, $"currentEpoch must not fall: {epoch} after {CurrentEpoch}");
        CurrentEpoch = epoch;
        _ready.Persist.Add(new SaveCurrentEpoch(epoch));
    }

    /// <summary>Commits up to <paramref name="zxid"/> and returns the txns that became committed.</summary>
    public List<Txn> CommitUpTo(Zxid zxid)
    {
        var committed = Log.CommitUpTo(zxid);
        foreach (var txn in committed)
        {
            _ready.StateMachine.Add(new ApplyTxn(txn));
            // Whoever commits a reconfig puts it in force at that point of the history: the leader, a follower at
            // COMMITANDACTIVATE, an observer at INFORMANDACTIVATE, a learner that synced past it, a new leader.
            if (Options.ReconfigOf(txn.Data) is { } config) Activate(config);
        }
        return committed;
    }

    public bool HasReady => !_ready.IsEmpty;

    public Ready TakeReady()
    {
        var ready = _ready;
        ready.LogEndAfterPersist = Log.LastZxid;
        _ready = new Ready();
        _waitingForPersist.Clear();
        return ready;
    }
}
