using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Warden.Data;
using Warden.Protocol;
using Warden.Server.Replication;
using Warden.Server.Sessions;

namespace Warden.Server.Processing;

/// <summary>
/// The state-machine loop: one task that owns the data tree, the sessions and the pending writes, and takes
/// every connect, request, commit and tick from a single queue. Owning the state from one task keeps the
/// ordering rules of docs/ARCHITECTURE.md simple to enforce: committed txns are applied in zxid order as the commit stream
/// delivers them (rule 1); a connection's replies are produced in request order, because a read waits behind its
/// session's earlier writes and a session's writes commit in order (rules 2 and 3), while a write behind a waiting
/// read is logged at once and only its reply waits (rule 6, in ServerCore.Dispatch); watch events are queued while
/// the change is applied, before the reply is built (rule 4); nothing is applied before the replicator delivers
/// it, which it does only once a quorum has it on stable storage (rule 5). Connections do the I/O on their own
/// tasks and never touch this state.
/// The stages live in their own files: sessions (ServerCore.Sessions), authentication (ServerCore.Auth),
/// dispatch of requests (ServerCore.Dispatch), and the commit stream with the replies (ServerCore.Commit).
/// </summary>
public sealed partial class ServerCore
{
    private readonly Channel<WorkItem> _work = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly AwaitingCommits _awaiting = new();
    private readonly Dictionary<long, IClientConnection> _connections = new();
    private readonly IReplicator _replicator;
    private readonly ServerSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    // Node data in replies is referenced, not copied: a node's data array is replaced on setData, never changed.
    private readonly JuteWriter _writer = new(4096) { ShareBuffersFromBytes = 4096 };
    private RequestPreparer _preparer;
    private ReadHandler _reads;
    private long _lastProposedZxid;

    public ServerCore(ServerSettings settings, IReplicator replicator, TimeProvider time, ILogger log, DataTree? tree = null,
        ServingMode mode = ServingMode.Standalone)
    {
        _settings = settings;
        _replicator = replicator;
        _time = time;
        _log = log;
        Mode = mode;
        Tree = tree ?? new DataTree();
        (_preparer, _reads) = Attach(Tree);
        _lastProposedZxid = Tree.LastProcessedZxid;
        Sessions = new SessionTracker(settings.TickTimeMs, settings.ServerId, NowMs);
        LocalSessions = NewLocalSessionTracker();
        _replicator.Start(txn => Post(new CommitWork(txn)));
    }

    public DataTree Tree { get; private set; }
    public SessionTracker Sessions { get; private set; }
    public ServerStats Stats { get; } = new();
    public ServerSettings Settings => _settings;
    public IReadOnlyCollection<IClientConnection> Connections => _connections.Values;
    public int OutstandingRequests => _awaiting.Count;

    /// <summary>Whether work is queued for the loop and not yet taken: requests, commits, ticks, queries.</summary>
    public bool HasQueuedWork => _work.Reader.TryPeek(out _);

    /// <summary>The replicator behind this loop, for the figures it keeps (flush times, proposal sizes).</summary>
    public IReplicator Replicator => _replicator;

    /// <summary>An ensemble member's quorum figures for mntr; null on a standalone server. Read from any thread.</summary>
    public Func<EnsembleStatus>? EnsembleStatus { get; set; }

    /// <summary>On the leader of an ensemble: its synchronised followers, for reconfig's quorum check. Read from the loop.</summary>
    public Func<QuorumView?>? QuorumView { get; set; }

    /// <summary>What this server does with clients now; changed only on the loop.</summary>
    public ServingMode Mode { get; private set; }

    private string? _configText;

    /// <summary>The configuration in force as /zookeeper/config holds it (server lines, version=), once set; any thread.</summary>
    public string? ConfigText => Volatile.Read(ref _configText);

    /// <summary>On the loop's clock, when this server last became leader; null while it does not lead.</summary>
    private long? _leadingSinceMs;

    /// <summary>How long this server has led (Apache's leader_uptime, in ms); null unless it leads. On the loop.</summary>
    public long? LeaderUptimeMs => _leadingSinceMs is { } since ? NowMs - since : null;

    private long NowMs => SessionTracker.MonotonicMs(_time);

    /// <summary>The wall-clock time of a moment on the loop's monotonic clock, for reports.</summary>
    public DateTimeOffset WallClockOf(long monotonicMs) => _time.GetUtcNow().AddMilliseconds(monotonicMs - NowMs);

    /// <summary>The loop's clock, for connections to stamp when a request arrived.</summary>
    public long MonotonicNowMs => NowMs;
    private long WallClockMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Wires a tree to this loop: events only for connections that may read the node, and the handlers.</summary>
    private (RequestPreparer, ReadHandler) Attach(DataTree tree)
    {
        // Events go only to connections that may read the node (Apache with the CVE-2024-23944 fix).
        Func<IWatcher, IReadOnlyList<Acl>, bool> mayRead = (watcher, acl) =>
            watcher is not IClientConnection connection || Security.AclPolicy.Allows(acl, Perms.Read, connection.State.AuthInfo, _settings.Authentication);
        tree.DataWatches.MayRead = mayRead;
        tree.ChildWatches.MayRead = mayRead;
        var preparer = new RequestPreparer(tree, _settings, () => QuorumView?.Invoke())
        {
            EphemeralOwnerRefusal = _settings.LocalSessionsEnabled ? EphemeralOwnerRefusal : null,
        };
        return (preparer, new ReadHandler(tree, _settings.Authentication));
    }

    /// <summary>
    /// An exact in-memory copy of the applied tree and the sessions, for a SNAP to a learner, which must hold exactly
    /// the txns up to its zxid; call on the loop. It pauses the loop for the whole tree: snapshot files use
    /// <see cref="CaptureFuzzySnapshotAsync"/>.
    /// </summary>
    public Storage.SnapshotImage CaptureSnapshotImage() =>
        Storage.SnapshotImage.Capture(Tree, Sessions.Sessions.ToDictionary(s => s.Id, s => s.TimeoutMs), Tree.LastProcessedZxid);

    /// <summary>
    /// Nodes a fuzzy snapshot copies per turn of the loop: the longest pause it adds between two requests, whatever
    /// the size of the tree (a few milliseconds at most).
    /// </summary>
    public int SnapshotSliceNodes { get; set; } = 4096;

    /// <summary>
    /// A fuzzy image of the tree for a snapshot file, taken a slice at a time between the loop's other work, so
    /// that writes and reads go on while it is taken (see <see cref="Storage.FuzzyCapture"/>). Call from any thread.
    /// </summary>
    public Task<Storage.SnapshotImage> CaptureFuzzySnapshotAsync()
    {
        var completion = new TaskCompletionSource<Storage.SnapshotImage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_work.Writer.TryWrite(new SnapshotSliceWork(completion))) completion.TrySetCanceled();
        return completion.Task;
    }

    /// <summary>Copies one slice of a fuzzy snapshot and queues the next behind the work that arrived meanwhile.</summary>
    private void OnSnapshotSlice(SnapshotSliceWork work)
    {
        var capture = work.Capture ?? new Storage.FuzzyCapture(Tree, Sessions.Sessions.ToDictionary(s => s.Id, s => s.TimeoutMs));
        if (!ReferenceEquals(capture.Tree, Tree))
        {
            work.Completion.TrySetException(new InvalidOperationException("the tree was replaced by the leader's while a snapshot was being taken"));
            return;
        }
        if (capture.Step(SnapshotSliceNodes))
        {
            work.Completion.TrySetResult(capture.Finish());
            return;
        }
        if (!_work.Writer.TryWrite(work with { Capture = capture })) work.Completion.TrySetCanceled();
    }

    /// <summary>Sessions recovered from disk: they expire unless their clients come back in time.</summary>
    public void RestoreSessions(IReadOnlyDictionary<long, int> sessionTimeoutsMs)
    {
        foreach (var (sessionId, timeoutMs) in sessionTimeoutsMs) Sessions.Add(sessionId, timeoutMs, NowMs);
    }

    public void Post(WorkItem item)
    {
        if (!_work.Writer.TryWrite(item)) _log.LogDebug("work item dropped after shutdown: {Item}", item.GetType().Name);
    }

    /// <summary>Runs code on the loop and returns its result; for four-letter words and tests.</summary>
    public Task<T> QueryAsync<T>(Func<T> query)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new QueryWork(() =>
        {
            try { completion.SetResult(query()); }
            catch (Exception e) { completion.SetException(e); }
        }));
        return completion.Task;
    }

    public void Complete() => _work.Writer.TryComplete();

    public async Task RunAsync(CancellationToken cancellation)
    {
        var reader = _work.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellation).ConfigureAwait(false))
            {
                while (reader.TryRead(out var item)) Handle(item);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Handles every work item queued so far and returns how many there were: the synchronous step that lets a
    /// test or a simulator drive the loop without threads.
    /// </summary>
    public int RunPending()
    {
        int handled = 0;
        while (_work.Reader.TryRead(out var item))
        {
            Handle(item);
            handled++;
        }
        return handled;
    }

    private void Handle(WorkItem item)
    {
        switch (item)
        {
            case RequestWork request:
                OnRequestWork(request);
                break;
            case CommitWork commit:
                OnCommit(commit.Txn);
                break;
            case ConnectWork connect:
                Guarded(connect.Connection, () => OnConnect(connect));
                break;
            case DisconnectWork disconnect:
                OnDisconnect(disconnect.Connection);
                break;
            case TickWork:
                OnTick();
                break;
            case QueryWork query:
                query.Action();
                break;
            case DeleteContainerWork deleteContainer:
                ProposeDeleteContainer(deleteContainer.Path);
                break;
            case ModeWork mode:
                ChangeMode(mode.Mode, mode.Epoch);
                break;
            case ForwardedRequestWork forwarded:
                OnForwardedRequest(forwarded);
                break;
            case RevalidateWork revalidate:
                OnRevalidate(revalidate);
                break;
            case RevalidatedWork revalidated:
                OnRevalidated(revalidated);
                break;
            case TouchSessionsWork touches:
                foreach (var (sessionId, timeoutMs) in touches.Sessions) Sessions.Touch(sessionId, timeoutMs, NowMs);
                break;
            case SyncedWork:
                OnSynced();
                break;
            case ResetStateWork reset:
                ResetState(reset.Tree, reset.SessionTimeoutsMs);
                break;
            case ConfigNodeWork config:
                SetConfigNode(config.Text, config.Version);
                break;
            case SnapshotSliceWork slice:
                OnSnapshotSlice(slice);
                break;
        }
        if (_throttled.Count > 0) DrainRequestThrottle();
    }

    /// <summary>A fault while serving one connection's packet closes that connection, never the server.</summary>
    private void Guarded(IClientConnection connection, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is not InvariantViolationException)
        {
            _log.LogError(e, "Closing connection from {Remote} after an unexpected error", connection.RemoteAddress);
            CloseConnection(connection, "unexpected server error");
        }
    }

    private void OnDisconnect(IClientConnection connection)
    {
        var state = connection.State;
        if (!_connections.Remove(connection.ConnectionId) && state.Closed) return;
        state.Closed = true;
        ForgetInProcess(state);
        Tree.RemoveWatcher(connection);
        if (state.Session is { } session && ReferenceEquals(session.Owner, connection)) session.Owner = null;
    }

    private void CloseConnection(IClientConnection connection, string reason)
    {
        if (connection.State.Closed) return;
        connection.Close(reason);
        OnDisconnect(connection);
    }

    private bool PreparesWrites => Mode is ServingMode.Standalone or ServingMode.Leader;

    private bool Serving => Mode != ServingMode.NotServing;

    /// <summary>
    /// The server's part in the ensemble changed. A server that stops serving drops every client, as Apache
    /// shuts its ZooKeeperServer down: their requests in flight may still commit under the next leader, and the
    /// clients learn the outcome from another server. A new leader mints zxids in its own epoch from counter 1.
    /// </summary>
    private void ChangeMode(ServingMode mode, int epoch)
    {
        var previous = Mode;
        Mode = mode;
        // Local sessions live only as long as this server serves in one mode (Apache makes a new server, with a new
        // tracker, at each change); their connections are closed below or were never open.
        if (previous != mode) LocalSessions = NewLocalSessionTracker();
        if (mode != ServingMode.Leader) _leadingSinceMs = null;
        else if (previous != ServingMode.Leader) _leadingSinceMs = NowMs;
        if (previous != ServingMode.NotServing && previous != mode)
        {
            foreach (var connection in _connections.Values.ToList()) CloseConnection(connection, $"the server stopped serving as {previous}");
            _awaiting.Clear();
            _pendingSyncs.Clear();
            _revalidating.Clear();
            (_preparer, _reads) = Attach(Tree);
        }
        if (mode == ServingMode.Leader)
        {
            _lastProposedZxid = (long)epoch << 32;
            // The leader now owns every session's clock; each gets its whole timeout from here, as after a restart.
            // Nobody owns a session under a new leader until a server's client uses it again.
            foreach (var session in Sessions.Sessions.ToList())
            {
                Sessions.Touch(session, NowMs);
                session.OwnerServerId = 0;
            }
        }
        _log.LogDebug("Serving mode {Previous} -> {Mode} (epoch {Epoch})", previous, mode, epoch);
    }

    /// <summary>
    /// Apache's ZKDatabase.initConfigInZKDatabase: the configuration goes into /zookeeper/config outside the txn stream,
    /// with the version as mzxid, dataVersion -1 and the wall clock as mtime; watchers of the node hear of it.
    /// </summary>
    private void SetConfigNode(byte[] text, long version)
    {
        Volatile.Write(ref _configText, System.Text.Encoding.UTF8.GetString(text));
        Tree.SetOutsideTxns(DataTree.ConfigPath, text, version, WallClockMs);
    }

    /// <summary>A learner took a whole new state from its leader: nobody is connected while that happens.</summary>
    private void ResetState(DataTree tree, IReadOnlyDictionary<long, int> sessionTimeoutsMs)
    {
        foreach (var connection in _connections.Values.ToList()) CloseConnection(connection, "the server is being resynchronised");
        _awaiting.Clear();
        Tree = tree;
        (_preparer, _reads) = Attach(tree);
        _lastProposedZxid = tree.LastProcessedZxid;
        Sessions = new SessionTracker(_settings.TickTimeMs, _settings.ServerId, NowMs);
        LocalSessions = NewLocalSessionTracker();
        RestoreSessions(sessionTimeoutsMs);
    }

    private void OnTick()
    {
        // Only a standalone server or the leader expires global sessions; learners report their clients' activity to
        // it. Every member expires its own local sessions.
        if (!PreparesWrites && LocalSessions.Count == 0) return;
        // Count what the network heard while the loop was busy, before expiring anyone: a session must not
        // expire because the server was too slow to read its pings.
        foreach (var connection in _connections.Values)
        {
            if (connection.State.Session is not { IsClosing: false } live || !ReferenceEquals(live.Owner, connection)) continue;
            if (!live.IsLocal && !PreparesWrites) continue;
            long heardAtMs = connection.LastHeardAtMs;
            if (heardAtMs + live.TimeoutMs >= live.ExpiresAtMs) (live.IsLocal ? LocalSessions : Sessions).Touch(live, heardAtMs);
        }
        ExpireLocalSessions();
        if (!PreparesWrites) return;
        foreach (var session in Sessions.TakeExpired(NowMs))
        {
            _log.LogInformation("Expiring session {Session}, timeout of {TimeoutMs}ms exceeded", session, session.TimeoutMs);
            ProposeCloseSession(session, connection: null, xid: 0, receivedAtMs: NowMs);
        }
    }

    private long NextZxid() => ++_lastProposedZxid;

    /// <summary>
    /// Containers that have had children and have none left, and TTL nodes without children whose time since
    /// the last change is past their TTL, in the order Apache's ContainerManager would list them. Only a server
    /// that prepares writes looks (Apache runs the ContainerManager on the leader).
    /// </summary>
    public List<string> ContainerCandidates()
    {
        if (!PreparesWrites) return [];
        long now = WallClockMs;
        var candidates = new JavaOrderedSet(16);
        foreach (var path in Tree.Containers.Order(StringComparer.Ordinal))
        {
            var node = Tree.GetNode(path);
            if (node is null || node.ChildCount > 0) continue;
            long neverUsedLimit = _settings.ContainerMaxNeverUsedIntervalMs;
            if (node.Cversion > 0 || (neverUsedLimit != 0 && now - node.MtimeMs > neverUsedLimit)) candidates.Add(path);
        }
        foreach (var path in Tree.TtlNodes.Order(StringComparer.Ordinal))
        {
            var node = Tree.GetNode(path);
            if (node is null || node.ChildCount > 0) continue;
            long ttl = EphemeralOwner.TtlOf(node.EphemeralOwner);
            if (ttl != 0 && now - node.MtimeMs > ttl) candidates.Add(path);
        }
        return [.. candidates.Ordered()];
    }

    private void ProposeDeleteContainer(string path)
    {
        if (!PreparesWrites) return;
        // The candidates come from the applied tree, so a check that runs while an earlier deleteContainer of the
        // same node waits for its fsync lists it again. Apache's check interval hides that race behind its disk
        // speed; a second proposal would only fail (NONODE) and burn a zxid, so skip a node already being deleted.
        if (Tree.GetNode(path) is not null && _preparer.Pending.Get(path) is null) return;
        long zxid = NextZxid();
        var body = _preparer.PrepareDeleteContainer(path, zxid);
        var type = body is ErrorTxn ? OpCode.Error : OpCode.DeleteContainer;
        Propose(new TxnHeader(0, 0, zxid, WallClockMs, (int)type), body, connection: null, xid: 0, OpCode.DeleteContainer, NowMs);
    }

    /// <summary>Hands a prepared txn to the replicator; a local request waits for it on the commit stream.</summary>
    private void Propose(TxnHeader header, Txn? body, IClientConnection? connection, int xid, OpCode requestType, long receivedAtMs,
        QueuedRequest? entry = null)
    {
        var txn = new TxnHeaderAndBody(header, body);
        if (connection is not null)
        {
            _awaiting.Add(new Proposal(txn, connection, header.ClientId, xid, requestType, receivedAtMs, entry));
            if (entry is not null) entry.InFlight = true;
        }
        _replicator.Propose(txn);
    }
}
