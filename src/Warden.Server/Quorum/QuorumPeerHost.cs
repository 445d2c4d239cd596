using Microsoft.Extensions.Logging;
using Warden.Consensus;
using Warden.Consensus.Wire;
using Warden.Data;
using Warden.Protocol;
using Warden.Server.Processing;
using Warden.Server.Quorum.Transport;
using Warden.Server.Replication;
using Warden.Storage;

namespace Warden.Server.Quorum;

/// <summary>
/// The host of one ensemble member's <see cref="ZabPeer"/>: one thread owns the peer, takes everything that happens
/// to it from one queue (messages from the transport, broken connections, ticks, proposals and forwarded requests
/// from the request loop), and carries out each <see cref="Ready"/> in the order it prescribes: send, persist and
/// fsync, hand committed txns to the request loop (the commit stream), send what had to wait for the disk, then
/// advance. Persisting on this thread makes group commit natural: whatever arrives during an fsync is logged by the
/// next one. The request loop never waits for this thread; this thread waits for the request loop only to capture
/// a snapshot for a learner that needs SNAP.
/// </summary>
public sealed partial class QuorumPeerHost : IReplicator, ILeaderLink
{
    /// <summary>The core is ticked twice per tickTime, so the leader PINGs every tickTime/2 as Apache's does.</summary>
    public const int TicksPerTickTime = 2;

    /// <summary>Apache's FastLeaderElection.finalizeWait, a constant there too.</summary>
    public const int FinalizeWaitMs = 200;

    /// <summary>The most inbox items folded into one Ready, and so into one fsync.</summary>
    private const int MaxItemsPerBatch = 2000;

    private readonly System.Threading.Channels.Channel<object> _inbox = System.Threading.Channels.Channel.CreateUnbounded<object>(new System.Threading.Channels.UnboundedChannelOptions { SingleReader = true });
    private readonly EnsembleSettings _ensemble;
    private readonly ServerSettings _settings;
    private readonly ZabPeer _peer;
    private readonly QuorumTransport _transport;
    private readonly QuorumTransportOptions _transportOptions;
    private readonly EnsembleStorage _storage;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource<Exception> _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Action<TxnHeaderAndBody>? _onCommitted;
    private ServerCore? _core;
    private Thread? _thread;
    private Task? _clock;
    private RoleView _role = new(PeerState.Looking, null, false);
    private EnsembleStatus _status = new("looking - election", 0, 0, 0, 0);

    public QuorumPeerHost(ServerSettings settings, EnsembleStorage storage, ILogger log, TimeProvider? time = null)
    {
        _settings = settings;
        _ensemble = settings.Ensemble ?? throw new ArgumentException("a quorum peer needs ensemble settings");
        _storage = storage;
        _log = log;
        _time = time ?? TimeProvider.System;
        var members = _ensemble.Members;
        var options = new PeerOptions
        {
            Id = new ServerId(_ensemble.MyId),
            Voters = members.Where(m => !m.IsObserver).Select(m => new ServerId(m.Id)).ToList(),
            Observers = members.Where(m => m.IsObserver).Select(m => new ServerId(m.Id)).ToList(),
            InitLimitTicks = _ensemble.InitLimitTicks * TicksPerTickTime,
            SyncLimitTicks = _ensemble.SyncLimitTicks * TicksPerTickTime,
            ElectionResendTicks = TicksPerTickTime,
            FinalizeWaitMs = FinalizeWaitMs,
            // A learner sends FOLLOWERINFO once per connection, as Apache's does; a connection that fails or breaks
            // sends it back to LOOKING (OnDisconnected), and a leader that never answers is left after initLimit.
            ConnectRetryTicks = (_ensemble.InitLimitTicks * TicksPerTickTime) + 1,
            RetainedCommittedTxns = _ensemble.CommitLogCount,
            MaxInFlightProposals = 50_000,
            ConfigText = System.Text.Encoding.UTF8.GetBytes(_ensemble.ConfigText()),
            VersionConfigOnLead = settings.ReconfigEnabled,
            ReconfigOf = ReconfigText,
            LoggedTxnsFrom = storage.LoggedTxnsFrom,
        };
        _peer = new ZabPeer(options, storage.Recovered);
        _transportOptions = new QuorumTransportOptions
        {
            Self = options.Id,
            Peers = members.Select(m => new QuorumPeerAddress(new ServerId(m.Id), m.Host, m.QuorumPort, m.ElectionPort)).ToList(),
            TickTimeMs = settings.TickTimeMs,
            InitLimitTicks = _ensemble.InitLimitTicks,
            SyncLimitTicks = _ensemble.SyncLimitTicks,
            ConnectTimeoutMs = _ensemble.ConnectTimeoutMs,
            ListenOnAllIPs = _ensemble.ListenOnAllIPs,
            Security = QuorumChannelSecurity.Create(_ensemble.SslQuorum, _ensemble.PortUnification, _ensemble.QuorumTls,
                _ensemble.HandshakeDetectionTimeoutMs, log),
            ReadSnapshot = (stream, cancellation) => SnapStream.ReadRawAsync(stream, SnapshotFile.DefaultMaxFieldBytes, cancellation),
        };
        _transport = new QuorumTransport(_transportOptions, log);
        _transport.Received += envelope => _inbox.Writer.TryWrite(envelope);
        _transport.Disconnected += peer => _inbox.Writer.TryWrite(new PeerDisconnected(peer));
        _transport.ElectionLinkDown += peer => _inbox.Writer.TryWrite(new ElectionLinkDown(peer));
    }

    /// <summary>Completes when this member cannot go on (its log cannot be written, or an invariant broke).</summary>
    public Task<Exception> Failed => _failed.Task;

    /// <summary>What the peer is doing now, for srvr, mntr and the log; read from any thread.</summary>
    public RoleView Role => Volatile.Read(ref _role);

    public ServerId Id => _peer.Id;

    /// <summary>The request loop this host feeds; set before <see cref="Run"/>.</summary>
    public void Attach(ServerCore core)
    {
        _core = core;
        core.EnsembleStatus = () => Volatile.Read(ref _status);
        AttachReconfiguration(core);
    }

    public void Start(Action<TxnHeaderAndBody> onCommitted) => _onCommitted = onCommitted;

    /// <summary>Binds the election port and starts the peer's thread and clock.</summary>
    public void Run()
    {
        if (_core is null) throw new InvalidOperationException("attach the request loop first");
        _transport.Start();
        _thread = new Thread(Loop) { IsBackground = true, Name = $"warden-quorum-{_ensemble.MyId}" };
        _thread.Start();
        _clock = RunClockAsync(_stopping.Token);
    }

    private async Task RunClockAsync(CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_settings.TickTimeMs / (double)TicksPerTickTime), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellation).ConfigureAwait(false)) _inbox.Writer.TryWrite(Tick.Instance);
        }
        catch (OperationCanceledException)
        {
        }
    }

    // The request loop's side: proposals on the leader, forwarded requests and revalidation on a learner.

    public void Propose(TxnHeaderAndBody txn) => _inbox.Writer.TryWrite(txn);

    public bool Forward(long sessionId, int cxid, OpCode type, byte[] body, IReadOnlyList<Id> authInfo)
    {
        _inbox.Writer.TryWrite(new ToLeader(LearnerPackets.Request(sessionId, cxid, type, body, authInfo)));
        return true;
    }

    public bool Revalidate(long sessionId, int timeoutMs)
    {
        _inbox.Writer.TryWrite(new ToLeader(LearnerPackets.Revalidate(sessionId, timeoutMs)));
        return true;
    }

    private void Loop()
    {
        var reader = _inbox.Reader;
        try
        {
            while (reader.WaitToReadAsync(_stopping.Token).AsTask().GetAwaiter().GetResult())
            {
                // Group commit: take everything that has arrived (up to a bound, so commits keep flowing under a
                // flood) before carrying out the batch, so that one fsync covers every proposal and PROPOSAL in it.
                int taken = 0;
                while (taken < MaxItemsPerBatch && reader.TryRead(out var item))
                {
                    Handle(item);
                    taken++;
                }
                while (_peer.HasReady) Carry(_peer.TakeReady());
                NoteProtocolErrors();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (InvariantViolationException e)
        {
            _log.LogCritical("Stopping: {Reason}", e.Message);
            _failed.TrySetResult(e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogCritical("Cannot write this server's data: {Reason}; stopping (nothing unwritten was acknowledged)", e.Message);
            _failed.TrySetResult(e);
        }
        catch (QuorumPortException e)
        {
            _failed.TrySetResult(e);
        }
    }

    private void Handle(object item)
    {
        switch (item)
        {
            case Envelope envelope:
                _peer.Step(envelope);
                break;
            case PeerDisconnected disconnected:
                _peer.OnDisconnected(disconnected.Peer);
                break;
            case ElectionLinkDown down:
                _peer.OnElectionLinkDown(down.Peer);
                break;
            case ElectionTimerFired fired:
                _peer.OnElectionTimer(fired.Token);
                break;
            case Tick:
                _peer.Tick();
                NoteQuorumTrouble();
                NoteStatus();
                break;
            case TxnHeaderAndBody txn:
                ProposeOnPeer(txn);
                break;
            case ToLeader forward:
                if (!_peer.SendToLeader(forward.Packet))
                {
                    _log.LogDebug("Dropped a {Type} for the leader: not following anyone now", forward.Packet.Type);
                }
                break;
            case ToLearner answer:
                _peer.SendToLearner(answer.Learner, answer.Packet);
                break;
        }
    }

    private int _protocolErrorsLogged;
    private int _learnersDroppedLogged;

    /// <summary>A peer that broke the protocol made this server drop a role or a learner: say what it was.</summary>
    private void NoteProtocolErrors()
    {
        if (_peer.ProtocolErrors == _protocolErrorsLogged && _peer.LearnersDropped == _learnersDroppedLogged) return;
        _protocolErrorsLogged = _peer.ProtocolErrors;
        _learnersDroppedLogged = _peer.LearnersDropped;
        _log.LogWarning("Quorum protocol: {Problem}", _peer.LastProtocolError);
    }

    /// <summary>Refreshes the figures mntr reports; on each tick, so that they cost nothing per message.</summary>
    private void NoteStatus()
    {
        var learners = _peer.Learners;
        string state = _peer.State.ToString().ToLowerInvariant() + (_peer.IsServing ? " - broadcast" : _peer.State == PeerState.Looking ? " - election" : " - synchronization");
        Volatile.Write(ref _status, new EnsembleStatus(state, learners.Count,
            learners.Count(l => l.Synced && !l.IsObserver), learners.Count(l => l.Synced && l.IsObserver), _peer.PendingSyncs,
            _peer.Leader?.Value ?? 0));
        NoteQuorumView(learners);
    }

    /// <summary>Flush timings of this member's txn log.</summary>
    public FsyncStats Fsync { get; } = new();

    /// <summary>Sizes of the proposals this member made as leader (Apache's proposal_stats).</summary>
    public ProposalSizes Proposals { get; } = new();

    private void ProposeOnPeer(TxnHeaderAndBody txn)
    {
        var data = EncodeTxn(txn);
        Proposals.Record(data.Length);
        var result = _peer.Propose(data);
        if (!result.Accepted)
        {
            // The request loop believed this server leads; it no longer does (or is overloaded). The role change that
            // follows stops the loop serving, and the client hears of the outcome from another server.
            _log.LogWarning("Proposal 0x{Zxid:x} not accepted: {Outcome}", txn.Header.Zxid, result.Outcome);
            return;
        }
        if (result.Zxid.Value != txn.Header.Zxid)
        {
            throw new InvariantViolationException(
                $"the request loop prepared zxid 0x{txn.Header.Zxid:x} but the leader assigned {result.Zxid}");
        }
    }

    internal static byte[] EncodeTxn(TxnHeaderAndBody txn)
    {
        using var writer = new JuteWriter();
        new TxnLogEntry(txn.Header, txn.Body).WriteBuffer(writer);
        return writer.ToArray();
    }

    internal static TxnHeaderAndBody DecodeTxn(byte[] data)
    {
        var entry = TxnLogEntry.Parse(data);
        return new TxnHeaderAndBody(entry.Header, entry.Txn);
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _electionTimer?.Dispose();
        _inbox.Writer.TryComplete();
        _thread?.Join();
        if (_clock is not null) await _clock.ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
        _storage.Dispose();
    }

    private sealed record PeerDisconnected(ServerId Peer);

    private sealed record ElectionLinkDown(ServerId Peer);

    private sealed record ElectionTimerFired(long Token);

    private sealed record ToLeader(QuorumPacket Packet);

    private sealed record ToLearner(ServerId Learner, QuorumPacket Packet);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}

/// <summary>This server was elected but cannot listen on its quorum port; it cannot lead, so it stops and says why.</summary>
public sealed class QuorumPortException(string message, Exception inner) : Exception(message, inner);

/// <summary>What a peer is doing, as others see it: its state, its leader, and whether it serves clients.</summary>
public sealed record RoleView(PeerState State, ServerId? Leader, bool Serving, int Epoch = 0, long LastZxid = 0,
    IReadOnlyList<ServerId>? Learners = null);
