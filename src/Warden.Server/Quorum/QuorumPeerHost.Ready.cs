using Microsoft.Extensions.Logging;
using Warden.Consensus;
using Warden.Consensus.Wire;
using Warden.Protocol;
using Warden.Server.Processing;
using Warden.Storage;

namespace Warden.Server.Quorum;

// Carrying out a Ready batch, and acting on the peer's role changes.
public sealed partial class QuorumPeerHost : IStateMachineSnapshots
{
    private long _lastTroubleLogTick;
    private RoleChange _connectionsRole = new(PeerState.Looking, null, 0, false);
    private long _ticks;

    // readonlymode.enabled: the tick since which this member has looked for a leader (-1 while it has one), and
    // whether it has gone read-only.
    private long _lookingSinceTick;
    private bool _readOnly;

    private void Carry(Ready ready)
    {
        // 0. Connections follow the role first: a learner that changed leader (or left and came back to the same one)
        // must dial anew before its FOLLOWERINFO goes out, and a new leader must listen before learners dial it.
        foreach (var change in ready.RoleChanges) ChangeConnections(change);

        // 1. What may leave before anything is durable. A PING reply carries the sessions this server's clients
        // kept alive (an Apache leader reads the table from every reply, and fails on a reply without one).
        ready.AttachPingReplies(() => LearnerPackets.TouchTable(_core!.TakeTouchedSessions()));
        foreach (var envelope in ready.SendNow) _transport.Send(envelope);
        if (ready.ElectionTimer is { } timer) ArmElectionTimer(timer);

        // 2. Persist in order, then one fsync for the batch (group commit).
        bool appended = false;
        foreach (var op in ready.Persist)
        {
            switch (op)
            {
                case AppendTxn append:
                    _storage.Append(append.Txn.Data);
                    appended = true;
                    break;
                case TruncateLog truncate:
                    _storage.TruncateAfter(truncate.LastKept.Value);
                    break;
                case SaveSnapshot snapshot:
                    _storage.SaveSnapshot(snapshot.Zxid.Value, snapshot.Snapshot);
                    break;
                case SaveAcceptedEpoch accepted:
                    _storage.SaveAcceptedEpoch(accepted.Epoch);
                    break;
                case SaveCurrentEpoch current:
                    _storage.SaveCurrentEpoch(current.Epoch);
                    break;
            }
        }
        if (appended) Fsync.Time(_storage.Flush);

        // 3. The commit stream: committed txns to the request loop, in zxid order. A snapshot for a learner that
        // needs SNAP is captured on the loop between the commits, exactly at the SNAP's zxid: later txns of this
        // batch follow the SNAP on the learner's stream and must not be in the image too.
        var snapshotsWanted = SnapshotsWanted(ready);
        int nextSnapshot = 0;
        foreach (var update in ready.StateMachine)
        {
            switch (update)
            {
                case ApplyTxn apply:
                    while (nextSnapshot < snapshotsWanted.Count && snapshotsWanted[nextSnapshot] < apply.Txn.Zxid.Value)
                    {
                        CaptureSnapshot(snapshotsWanted[nextSnapshot++]);
                    }
                    var committed = DecodeTxn(apply.Txn.Data);
                    _onCommitted!(committed);
                    if (committed.Header.OpCode == OpCode.Reconfig) OnReconfigCommitted(committed);
                    break;
                case LeaderPacket leader:
                    OnLeaderPacket(leader.Packet);
                    break;
                case RestoreSnapshot restore:
                    var decoded = SnapStream.Read(restore.Snapshot, restore.Zxid.Value);
                    _core!.Post(new ResetStateWork(decoded.Tree, decoded.SessionTimeoutsMs));
                    break;
            }
        }
        while (nextSnapshot < snapshotsWanted.Count) CaptureSnapshot(snapshotsWanted[nextSnapshot++]);
        // After the batch's commits and any SNAP's new tree, so that the configuration taken lands in the tree kept.
        foreach (var config in ready.ConfigChanges) OnConfigAdopted(config);
        if (_storage.SnapshotDue()) _ = _storage.TakeSnapshotAsync(_core!);

        // 4. What waited for the disk, with snapshots for SNAP and the touch table in PING replies.
        ready.AttachSnapshots(this);
        _snapshotCaptures.Clear();
        foreach (var sync in ready.Syncs) LogSync(sync);
        foreach (var envelope in ready.SendAfterPersist) _transport.Send(envelope);

        // Server business the peer handed over, in stream order.
        foreach (var (from, packet) in ready.FromLearners) OnLearnerPacket(from, packet);

        foreach (var learner in ready.ClosedLearners) _transport.CloseLearnerConnection(learner);

        // 5. Done; the request loop learns of the new role after the commits that came before it.
        _peer.Advance(ready);
        if (LearnersChanged(ready)) NoteQuorumView(_peer.Learners);
        if (ready.RoleChanged)
        {
            NoteServing(ready.RoleChanges[^1]);
            NoteStatus();
        }
    }

    private readonly Dictionary<long, Task<SnapshotImage>> _snapshotCaptures = [];
    private ITimer? _electionTimer;

    /// <summary>finalizeWait's timer: one at a time, a newer one replacing the older; it fires into the inbox.</summary>
    private void ArmElectionTimer(ElectionTimer timer)
    {
        _electionTimer?.Dispose();
        _electionTimer = _time.CreateTimer(_ => _inbox.Writer.TryWrite(new ElectionTimerFired(timer.Token)), null,
            TimeSpan.FromMilliseconds(timer.DelayMs), Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// One line per synchronisation, on both ends, as Apache's LearnerHandler ("Sending DIFF zxid=...") and Learner
    /// ("Getting a diff from the leader ...") log them: which of DIFF, TRUNC and SNAP, and the zxids it spans.
    /// </summary>
    private void LogSync(SyncReport sync)
    {
        string kind = sync.Kind.ToString().ToUpperInvariant();
        if (!sync.Sent)
        {
            string meaning = sync.Kind switch
            {
                PacketType.Diff => "the leader's last committed zxid",
                PacketType.Trunc => "truncating our log after",
                _ => "its snapshot at",
            };
            _log.LogInformation("Synchronising with leader server.{Leader} by {Kind}: {Meaning} 0x{Zxid:x}, our last zxid 0x{Ours:x}",
                sync.Peer.Value, kind, meaning, sync.Zxid.Value, sync.LearnerLastZxid.Value);
            return;
        }
        string txns = sync.Txns == 0
            ? "no txns follow"
            : $"then {sync.Txns} txns 0x{sync.FirstTxn!.Value.Value:x} to 0x{sync.LastTxn!.Value.Value:x}" + sync.Source switch
            {
                SyncSource.TxnLog => ", read from the txn log on disk and the committed txns in memory",
                SyncSource.Snapshot => " after the snapshot",
                _ => " from the committed txns in memory",
            };
        _log.LogInformation("Synchronising server.{Learner} (last zxid 0x{Last:x}) by {Kind} 0x{Zxid:x}; {Txns}",
            sync.Peer.Value, sync.LearnerLastZxid.Value, kind, sync.Zxid.Value, txns);
    }

    /// <summary>The zxids of the SNAPs in this batch that still need their snapshot, in order.</summary>
    private static List<long> SnapshotsWanted(Ready ready) => ready.SendAfterPersist
        .Select(envelope => envelope.Message)
        .OfType<PacketMessage>()
        .Where(message => message.Packet.Type == PacketType.Snap && message.Snapshot is null)
        .Select(message => message.Packet.Zxid.Value)
        .Distinct()
        .Order()
        .ToList();

    /// <summary>Queues a capture of the tree on the request loop, behind the commits posted so far.</summary>
    private void CaptureSnapshot(long zxid)
    {
        _snapshotCaptures[zxid] = _core!.QueryAsync(_core.CaptureSnapshotImage);
    }

    /// <summary>A leader's snapshot for a learner that needs SNAP, as captured at the SNAP's zxid.</summary>
    public byte[] Take(Zxid appliedZxid)
    {
        if (!_snapshotCaptures.TryGetValue(appliedZxid.Value, out var capture))
        {
            throw new InvariantViolationException($"SNAP at {appliedZxid} has no snapshot captured for it");
        }
        var image = capture.GetAwaiter().GetResult();
        if (image.Zxid != appliedZxid.Value)
        {
            throw new InvariantViolationException($"SNAP at {appliedZxid} but the tree captured for it is at 0x{image.Zxid:x}");
        }
        return SnapStream.ToBytes(image);
    }

    private void OnLearnerPacket(ServerId from, QuorumPacket packet)
    {
        try
        {
            switch (packet.Type)
            {
                case PacketType.Request:
                    var request = LearnerPackets.ReadRequest(packet);
                    if (request.Type == OpCode.Sync)
                    {
                        _peer.RequestSync(from);
                        return;
                    }
                    _core!.Post(new ForwardedRequestWork(from.Value, request.SessionId, request.Cxid, request.Type, request.Body,
                        packet.AuthInfo ?? []));
                    return;
                case PacketType.Revalidate:
                    var (sessionId, timeoutMs) = LearnerPackets.ReadRevalidate(packet);
                    _core!.Post(new RevalidateWork(from.Value, sessionId, timeoutMs,
                        valid => _inbox.Writer.TryWrite(new ToLearner(from, LearnerPackets.RevalidateAnswer(sessionId, valid)))));
                    return;
                case PacketType.Ping:
                    var touched = LearnerPackets.ReadTouchTable(packet.Data);
                    if (touched.Count > 0) _core!.Post(new TouchSessionsWork(touched));
                    return;
            }
        }
        catch (JuteException e)
        {
            _log.LogWarning("Ignoring a malformed {Type} from server {Learner}: {Reason}", packet.Type, from.Value, e.Message);
        }
    }

    private void OnLeaderPacket(QuorumPacket packet)
    {
        try
        {
            switch (packet.Type)
            {
                case PacketType.Revalidate:
                    var (sessionId, valid) = LearnerPackets.ReadRevalidateAnswer(packet);
                    _core!.Post(new RevalidatedWork(sessionId, valid));
                    return;
                case PacketType.Sync:
                    _core!.Post(new SyncedWork());
                    return;
            }
        }
        catch (JuteException e)
        {
            _log.LogWarning("Ignoring a malformed {Type} from the leader: {Reason}", packet.Type, e.Message);
        }
    }

    /// <summary>Only a leader listens on the quorum port; a learner that leaves its leader closes the connection.</summary>
    private void ChangeConnections(RoleChange change)
    {
        var before = _connectionsRole;
        if (before.State == PeerState.Leading && change.State != PeerState.Leading) _transport.StopLeading();
        if (before.State is PeerState.Following or PeerState.Observing && (change.State != before.State || change.Leader != before.Leader))
        {
            _transport.CloseLeaderConnection();
        }
        if (change.State == PeerState.Leading && before.State != PeerState.Leading)
        {
            try
            {
                _transport.StartLeading();
            }
            catch (InvalidOperationException e)
            {
                throw new QuorumPortException(e.Message, e);
            }
        }
        _connectionsRole = change;
    }

    /// <summary>The request loop serves clients only as an established leader or a synchronised learner.</summary>
    private void NoteServing(RoleChange change)
    {
        var before = _role;
        var mode = !change.Serving ? ServingMode.NotServing : change.State switch
        {
            PeerState.Leading => ServingMode.Leader,
            PeerState.Following => ServingMode.Follower,
            PeerState.Observing => ServingMode.Observer,
            _ => ServingMode.NotServing,
        };
        if (change.Serving != before.Serving || (change.Serving && change.State != before.State) || change.Leader != before.Leader)
        {
            _core!.Post(new ModeWork(mode, change.Epoch));
            LogRole(change.State, change.Leader, change.Serving, change.Epoch);
            // Whatever the new role, a read-only spell is over: the mode just posted closed its clients.
            _readOnly = false;
        }
        if (change.State != PeerState.Looking) _lookingSinceTick = -1;
        else if (_lookingSinceTick < 0) _lookingSinceTick = _ticks;
        Volatile.Write(ref _role, new RoleView(change.State, change.Leader, change.Serving, change.Epoch));
    }

    private void LogRole(PeerState state, ServerId? leader, bool serving, int epoch)
    {
        if (!serving)
        {
            if (state == PeerState.Looking) _log.LogInformation("Looking for a leader (election round {Round})", _peer.ElectionEpoch);
            return;
        }
        if (state == PeerState.Leading)
        {
            // The learners that synchronised with this leader: its quorum, and any that were quick enough to join it.
            var learners = string.Join(", ", _peer.Learners.Where(l => l.Synced).Select(l => l.Id.Value).Order());
            _log.LogInformation("Leading epoch {Epoch} with servers {Learners}; serving clients on {Endpoint}",
                epoch, learners, _settings.ClientEndpoint);
            return;
        }
        var member = _ensemble.Members.FirstOrDefault(m => m.Id == leader?.Value);
        _log.LogInformation("{Role} {Leader} at {Host}:{Port} in epoch {Epoch}; serving clients on {Endpoint}",
            state == PeerState.Observing ? "Observing" : "Following", leader?.Value, member?.Host, member?.QuorumPort,
            epoch, _settings.ClientEndpoint);
    }

    /// <summary>
    /// Apache's grace before a member that looks for a leader starts its read-only server: max(2 s, tickTime), so that
    /// an ordinary election does not flap clients between modes.
    /// </summary>
    private void NoteReadOnly()
    {
        if (!_settings.ReadOnlyModeEnabled || _readOnly || _lookingSinceTick < 0 || _peer.State != PeerState.Looking) return;
        int graceMs = Math.Max(2000, _settings.TickTimeMs);
        long graceTicks = (graceMs * (long)TicksPerTickTime + _settings.TickTimeMs - 1) / _settings.TickTimeMs;
        if (_ticks - _lookingSinceTick < graceTicks) return;
        _readOnly = true;
        _core!.Post(new ModeWork(ServingMode.ReadOnly, 0));
        _log.LogWarning("No quorum for {Grace} ms: read-only mode on {Endpoint} (readonlymode.enabled=true) until a leader is found; as in Apache 3.8 it refuses read-write clients and global sessions",
            graceMs, _settings.ClientEndpoint);
    }

    /// <summary>
    /// A server that cannot find a quorum says so once per initLimit, naming each peer it cannot reach and why,
    /// instead of a stack trace per attempt.
    /// </summary>
    private void NoteQuorumTrouble()
    {
        _ticks++;
        NoteReadOnly();
        if (_peer.State != PeerState.Looking) return;
        long interval = _ensemble.InitLimitTicks * TicksPerTickTime;
        if (_ticks - _lastTroubleLogTick < interval) return;
        _lastTroubleLogTick = _ticks;
        var problems = _transport.ElectionLinkProblems;
        if (problems.Count == 0) return;
        var described = string.Join("; ", problems.OrderBy(p => p.Key.Value).Select(p =>
        {
            var member = _ensemble.Members.FirstOrDefault(m => m.Id == p.Key.Value);
            return $"server.{p.Key.Value} at {member?.Host}:{member?.ElectionPort}: {p.Value}";
        }));
        _log.LogWarning("No quorum yet: cannot reach {Described}", described);
        _transport.ConnectAll();
    }
}
