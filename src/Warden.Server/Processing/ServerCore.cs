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
/// ordering rules of DESIGN.md simple to enforce: writes are applied in zxid order as the replicator reports
/// them (rule 1); a connection's replies are produced in request order, because a read waits behind its
/// session's pending writes and writes commit in order (rules 2 and 3); watch events are queued while the
/// change is applied, before the reply is built (rule 4); nothing is applied before the replicator has it on
/// stable storage (rule 5). Connections do the I/O on their own tasks and never touch this state.
/// </summary>
public sealed partial class ServerCore
{
    private readonly Channel<WorkItem> _work = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Queue<Proposal> _inFlight = new();
    private readonly Dictionary<long, IClientConnection> _connections = new();
    private readonly RequestPreparer _preparer;
    private readonly ReadHandler _reads;
    private readonly IReplicator _replicator;
    private readonly ServerSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    // Node data in replies is referenced, not copied: a node's data array is replaced on setData, never changed.
    private readonly JuteWriter _writer = new(4096) { ShareBuffersFromBytes = 4096 };
    private long _lastProposedZxid;

    public ServerCore(ServerSettings settings, IReplicator replicator, TimeProvider time, ILogger log, DataTree? tree = null)
    {
        _settings = settings;
        _replicator = replicator;
        _time = time;
        _log = log;
        Tree = tree ?? new DataTree();
        // Events go only to connections that may read the node (Apache with the CVE-2024-23944 fix).
        Func<IWatcher, IReadOnlyList<Acl>, bool> mayRead = (watcher, acl) =>
            watcher is not IClientConnection connection || Security.AclPolicy.Allows(acl, Perms.Read, connection.State.AuthInfo);
        Tree.DataWatches.MayRead = mayRead;
        Tree.ChildWatches.MayRead = mayRead;
        _lastProposedZxid = Tree.LastProcessedZxid;
        Sessions = new SessionTracker(settings.TickTimeMs, settings.ServerId, NowMs);
        _preparer = new RequestPreparer(Tree, settings);
        _reads = new ReadHandler(Tree);
        _replicator.Start(zxid => Post(new CommitWork(zxid)));
    }

    public DataTree Tree { get; }
    public SessionTracker Sessions { get; }
    public ServerStats Stats { get; } = new();
    public ServerSettings Settings => _settings;
    public IReadOnlyCollection<IClientConnection> Connections => _connections.Values;
    public int OutstandingRequests => _inFlight.Count;

    private long NowMs => SessionTracker.MonotonicMs(_time);

    /// <summary>The wall-clock time of a moment on the loop's monotonic clock, for reports.</summary>
    public DateTimeOffset WallClockOf(long monotonicMs) => _time.GetUtcNow().AddMilliseconds(monotonicMs - NowMs);

    /// <summary>The loop's clock, for connections to stamp when a request arrived.</summary>
    public long MonotonicNowMs => NowMs;
    private long WallClockMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

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

    private void Handle(WorkItem item)
    {
        switch (item)
        {
            case RequestWork request:
                Guarded(request.Connection, () => OnRequest(request));
                break;
            case CommitWork commit:
                OnCommit(commit.Zxid);
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
        }
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
        Tree.RemoveWatcher(connection);
        if (state.Session is { } session && ReferenceEquals(session.Owner, connection)) session.Owner = null;
    }

    private void CloseConnection(IClientConnection connection, string reason)
    {
        if (connection.State.Closed) return;
        connection.Close(reason);
        OnDisconnect(connection);
    }

    private void OnTick()
    {
        // Count what the network heard while the loop was busy, before expiring anyone: a session must not
        // expire because the server was too slow to read its pings.
        foreach (var connection in _connections.Values)
        {
            if (connection.State.Session is not { IsClosing: false } live || !ReferenceEquals(live.Owner, connection)) continue;
            long heardAtMs = connection.LastHeardAtMs;
            if (heardAtMs + live.TimeoutMs >= live.ExpiresAtMs) Sessions.Touch(live, heardAtMs);
        }
        foreach (var session in Sessions.TakeExpired(NowMs))
        {
            _log.LogInformation("Expiring session {Session}, timeout of {TimeoutMs}ms exceeded", session, session.TimeoutMs);
            ProposeCloseSession(session, connection: null, xid: 0, receivedAtMs: NowMs);
        }
    }

    private long NextZxid() => ++_lastProposedZxid;

    /// <summary>
    /// Containers that have had children and have none left, and TTL nodes without children whose time since
    /// the last change is past their TTL, in the order Apache's ContainerManager would list them.
    /// </summary>
    public List<string> ContainerCandidates()
    {
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
        // The candidates come from the applied tree, so a check that runs while an earlier deleteContainer of the
        // same node waits for its fsync lists it again. Apache's check interval hides that race behind its disk
        // speed; a second proposal would only fail (NONODE) and burn a zxid, so skip a node already being deleted.
        if (Tree.GetNode(path) is not null && _preparer.Pending.Get(path) is null) return;
        long zxid = NextZxid();
        var body = _preparer.PrepareDeleteContainer(path, zxid);
        var type = body is ErrorTxn ? OpCode.Error : OpCode.DeleteContainer;
        Propose(new TxnHeader(0, 0, zxid, WallClockMs, (int)type), body, connection: null, xid: 0, OpCode.DeleteContainer, NowMs);
    }

    private void Propose(TxnHeader header, Txn? body, IClientConnection? connection, int xid, OpCode requestType, long receivedAtMs)
    {
        var txn = new TxnHeaderAndBody(header, body);
        _inFlight.Enqueue(new Proposal(txn, connection, xid, requestType, receivedAtMs));
        if (connection is not null && requestType != OpCode.CreateSession) connection.State.PendingWrites++;
        _replicator.Propose(txn);
    }

    private void ProposeCloseSession(Session session, IClientConnection? connection, int xid, long receivedAtMs)
    {
        Sessions.MarkClosing(session);
        long zxid = NextZxid();
        var body = _preparer.PrepareCloseSession(session.Id, zxid);
        var header = new TxnHeader(session.Id, xid, zxid, WallClockMs, (int)OpCode.CloseSession);
        Propose(header, body, connection, xid, OpCode.CloseSession, receivedAtMs);
    }
}
