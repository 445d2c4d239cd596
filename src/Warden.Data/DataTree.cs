using Warden.Protocol;

namespace Warden.Data;

/// <summary>What applying one transaction did: its error code, path and stat, and each op's result for a multi.</summary>
public sealed class ApplyResult
{
    public required OpCode Type { get; init; }
    public ErrorCode Error { get; set; }
    public string? Path { get; init; }
    public Stat? Stat { get; init; }
    public List<ApplyResult>? MultiResults { get; init; }
}

/// <summary>
/// The tree of znodes. It changes only by applying transactions, in zxid order, and fires watches as each change
/// lands, so that watch events are queued before the reply that reveals the change. Reads go straight to nodes.
/// It is not thread-safe: the server's single state-machine loop owns it.
/// </summary>
public sealed class DataTree
{
    public const string ZookeeperPath = "/zookeeper";
    public const string QuotaPath = "/zookeeper/quota";
    public const string ConfigPath = "/zookeeper/config";

    private static readonly IReadOnlyList<Acl> ReadAclUnsafe = [new(Perms.Read, Id.Anyone)];

    private readonly Dictionary<string, DataNode> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<long, JavaOrderedSet> _ephemeralsBySession = new();
    private readonly HashSet<string> _containers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ttlNodes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _quotaPaths = new(StringComparer.Ordinal);

    public DataTree()
    {
        var root = new DataNode([], Acl.OpenUnsafe, 0, 0, 0);
        _nodes["/"] = root;
        var zookeeper = new DataNode([], Acl.OpenUnsafe, 0, 0, 0);
        root.AddChild("zookeeper");
        _nodes[ZookeeperPath] = zookeeper;
        zookeeper.AddChild("quota");
        _nodes[QuotaPath] = new DataNode([], Acl.OpenUnsafe, 0, 0, 0);
        zookeeper.AddChild("config");
        // Apache sets the config node's ACL with version -1 as it builds the tree, which leaves aversion at -1.
        _nodes[ConfigPath] = new DataNode([], ReadAclUnsafe, 0, 0, 0) { Aversion = -1 };
    }

    public WatchManager DataWatches { get; } = new();
    public WatchManager ChildWatches { get; } = new();

    /// <summary>The zxid of the last transaction applied.</summary>
    public long LastProcessedZxid { get; private set; }

    /// <summary>The node count Apache reports: it stores the root twice (as "" and "/"), so one more than the nodes.</summary>
    public int NodeCountAsReported => _nodes.Count + 1;

    public int NodeCount => _nodes.Count;

    public IReadOnlyCollection<string> Containers => _containers;
    public IReadOnlyCollection<string> TtlNodes => _ttlNodes;
    public IEnumerable<string> Paths => _nodes.Keys;

    public int EphemeralCount
    {
        get
        {
            int count = 0;
            foreach (var set in _ephemeralsBySession.Values) count += set.Count;
            return count;
        }
    }

    /// <summary>Apache's approximate data size: the length of every path and every node's data.</summary>
    public long ApproximateDataSize()
    {
        long total = 0;
        foreach (var (path, node) in _nodes) total += (path == "/" ? 1 : path.Length) + (node.Data?.Length ?? 0);
        return total;
    }

    public DataNode? GetNode(string path) => _nodes.GetValueOrDefault(path);

    public bool TryGetNode(string path, out DataNode node) => _nodes.TryGetValue(path, out node!);

    /// <summary>A session's ephemeral paths in the order a copy of Apache's HashSet would list them.</summary>
    public List<string> EphemeralsOf(long sessionId) =>
        _ephemeralsBySession.TryGetValue(sessionId, out var set) ? set.CopyOrder() : [];

    public IEnumerable<long> SessionsWithEphemerals => _ephemeralsBySession.Keys;

    /// <summary>
    /// Every node, parents before children and children in the order Apache lists them: the order a snapshot
    /// stores them in.
    /// </summary>
    public IEnumerable<(string Path, DataNode Node)> PreOrder()
    {
        var stack = new Stack<string>();
        stack.Push("/");
        while (stack.Count > 0)
        {
            string path = stack.Pop();
            if (!_nodes.TryGetValue(path, out var node)) continue;
            yield return (path, node);
            var children = node.Children;
            for (int i = children.Count - 1; i >= 0; i--) stack.Push(PathValidation.Join(path, children[i]));
        }
    }

    /// <summary>
    /// Builds a tree from stored nodes (a snapshot), parents before children. Children are linked in the order
    /// given; ephemeral, container and TTL bookkeeping is rebuilt from each node's owner field.
    /// </summary>
    public static DataTree Restore(IEnumerable<(string Path, DataNode Node)> nodes, long lastProcessedZxid)
    {
        var tree = new DataTree();
        foreach (var (path, node) in nodes)
        {
            if (path == "/")
            {
                // The stored root replaces the built-in nodes; the snapshot carries its own /zookeeper subtree.
                tree._nodes.Clear();
                tree._nodes["/"] = node;
                continue;
            }
            string parentPath = PathValidation.Parent(path);
            if (!tree._nodes.TryGetValue(parentPath, out var parent))
            {
                throw new InvalidDataException($"stored node {path} comes before its parent {parentPath}");
            }
            parent.AddChild(PathValidation.Name(path));
            tree._nodes[path] = node;
            tree.TrackOwner(path, node.EphemeralOwner);
        }
        foreach (var path in tree._nodes.Keys)
        {
            if (path.StartsWith(QuotaPath + "/", StringComparison.Ordinal) && path.EndsWith("/" + QuotaPaths.LimitNode, StringComparison.Ordinal))
            {
                tree._quotaPaths.Add(PathValidation.Parent(path)[QuotaPath.Length..]);
            }
        }
        // Usage records are counted again from the restored subtrees, as Apache's setupQuota does on load: a fuzzy
        // snapshot may hold a usage record read before or after some of the nodes it counts.
        foreach (var quotaPath in tree._quotaPaths) tree.RecountQuota(quotaPath);
        tree.LastProcessedZxid = lastProcessedZxid;
        return tree;
    }

    /// <summary>Sets a quota's usage record to the count and bytes of its subtree as it stands.</summary>
    private void RecountQuota(string quotaPath)
    {
        if (!_nodes.TryGetValue(QuotaPaths.StatPath(quotaPath), out var statNode)) return;
        long count = 0, bytes = 0;
        foreach (var (_, node) in SubtreeOf(quotaPath))
        {
            count++;
            bytes += node.Data?.Length ?? 0;
        }
        var usage = new StatsTrack(statNode.Data);
        if (usage.Get(StatsTrack.Count) == count && usage.Get(StatsTrack.Bytes) == bytes) return;
        usage.Set(StatsTrack.Count, count);
        usage.Set(StatsTrack.Bytes, bytes);
        statNode.Data = usage.ToBytes();
    }

    private void TrackOwner(string path, long owner)
    {
        if (EphemeralOwner.IsContainer(owner)) _containers.Add(path);
        else if (EphemeralOwner.IsTtl(owner)) _ttlNodes.Add(path);
        else if (owner != 0)
        {
            if (!_ephemeralsBySession.TryGetValue(owner, out var set))
            {
                set = new JavaOrderedSet(16);
                _ephemeralsBySession[owner] = set;
            }
            set.Add(path);
        }
    }

    /// <summary>
    /// The deepest path with a quota that is this path or one of its ancestors, or null (the root never has one).
    /// </summary>
    public string? QuotaPrefixOf(string path)
    {
        if (_quotaPaths.Count == 0) return null;
        for (string current = path; current != "/"; current = PathValidation.Parent(current))
        {
            if (_quotaPaths.Contains(current)) return current;
        }
        return null;
    }

    /// <summary>Keeps a quota's usage record current, changing its data in place as Apache does (no new zxid).</summary>
    private void UpdateQuotaUsage(string path, long bytesDiff, int countDiff)
    {
        var prefix = QuotaPrefixOf(path);
        if (prefix is null || !_nodes.TryGetValue(QuotaPaths.StatPath(prefix), out var statNode)) return;
        var usage = new StatsTrack(statNode.Data);
        usage.Set(StatsTrack.Count, usage.Get(StatsTrack.Count) + countDiff);
        usage.Set(StatsTrack.Bytes, usage.Get(StatsTrack.Bytes) + bytesDiff);
        statNode.Data = usage.ToBytes();
    }

    /// <summary>A zookeeper_limits node appearing or going under /zookeeper/quota turns a quota on or off.</summary>
    private void OnQuotaNodeChanged(string parentPath, string name, bool created)
    {
        if (!parentPath.StartsWith(QuotaPath, StringComparison.Ordinal)) return;
        string quotaPath = parentPath[QuotaPath.Length..];
        if (name == QuotaPaths.LimitNode)
        {
            if (created) _quotaPaths.Add(quotaPath);
            else _quotaPaths.Remove(quotaPath);
        }
        else if (name == QuotaPaths.StatNode && created && _nodes.TryGetValue(parentPath + "/" + name, out var statNode))
        {
            // A new usage record starts from the subtree as it stands.
            long count = 0, bytes = 0;
            foreach (var (_, node) in SubtreeOf(quotaPath))
            {
                count++;
                bytes += node.Data?.Length ?? 0;
            }
            var usage = new StatsTrack();
            usage.Set(StatsTrack.Count, count);
            usage.Set(StatsTrack.Bytes, bytes);
            statNode.Data = usage.ToBytes();
        }
    }

    private IEnumerable<(string Path, DataNode Node)> SubtreeOf(string path)
    {
        if (!_nodes.TryGetValue(path, out var top)) yield break;
        var stack = new Stack<(string, DataNode)>();
        stack.Push((path, top));
        while (stack.Count > 0)
        {
            var (current, node) = stack.Pop();
            yield return (current, node);
            foreach (var child in node.Children)
            {
                string childPath = PathValidation.Join(current, child);
                if (_nodes.TryGetValue(childPath, out var childNode)) stack.Push((childPath, childNode));
            }
        }
    }

    /// <summary>Removes every watch of a closed connection.</summary>
    public void RemoveWatcher(IWatcher watcher)
    {
        DataWatches.RemoveWatcher(watcher);
        ChildWatches.RemoveWatcher(watcher);
    }

    /// <summary>addWatch: a persistent watch lives in both tables, as in Apache.</summary>
    public void AddPersistentWatch(string path, IWatcher watcher, WatchMode mode)
    {
        DataWatches.Add(path, watcher, mode);
        ChildWatches.Add(path, watcher, mode);
    }

    /// <summary>Applies one transaction. The zxid must rise: anything else is a broken invariant, not bad input.</summary>
    public ApplyResult Apply(TxnHeader header, Txn? txn)
    {
        if (header.Zxid <= LastProcessedZxid && header.Zxid != 0)
        {
            throw new InvariantViolationException(
                $"transactions must be applied in zxid order: 0x{header.Zxid:x} after 0x{LastProcessedZxid:x}");
        }
        var result = ApplyOne(header, txn);
        if (header.Zxid > LastProcessedZxid) LastProcessedZxid = header.Zxid;
        return result;
    }

    private ApplyResult ApplyOne(TxnHeader header, Txn? txn)
    {
        switch (txn)
        {
            case CreateTxn create:
                return Create(header, create.Path, create.Data, create.Acl, create.Ephemeral ? header.ClientId : 0,
                    create.ParentCversion, header.OpCode);
            case CreateContainerTxn container:
                return Create(header, container.Path, container.Data, container.Acl, EphemeralOwner.Container,
                    container.ParentCversion, OpCode.CreateContainer);
            case CreateTtlTxn ttl:
                return Create(header, ttl.Path, ttl.Data, ttl.Acl, EphemeralOwner.ForTtl(ttl.TtlMs), ttl.ParentCversion,
                    OpCode.CreateTtl);
            case DeleteTxn delete:
                return new ApplyResult { Type = header.OpCode, Path = delete.Path, Error = DeleteNode(delete.Path, header.Zxid) };
            case SetDataTxn setData:
                return SetData(header, setData);
            case SetAclTxn setAcl:
                return SetAcl(header, setAcl);
            case CheckVersionTxn check:
                return new ApplyResult { Type = OpCode.Check, Path = check.Path };
            case ErrorTxn error:
                return new ApplyResult { Type = OpCode.Error, Error = error.Error };
            case CloseSessionTxn close:
                KillSession(header.ClientId, header.Zxid, close.PathsToDelete);
                return new ApplyResult { Type = OpCode.CloseSession };
            case MultiTxn multi:
                return ApplyMulti(header, multi);
            default:
                // createSession and other bodiless types change nothing in the tree.
                return new ApplyResult { Type = header.OpCode };
        }
    }

    private ApplyResult ApplyMulti(TxnHeader header, MultiTxn multi)
    {
        bool failed = multi.Txns.Exists(static t => t is ErrorTxn);
        bool pastFailure = false;
        var results = new List<ApplyResult>(multi.Txns.Count);
        var combined = new ApplyResult { Type = OpCode.Multi, MultiResults = results };
        foreach (var sub in multi.Txns)
        {
            Txn effective = sub;
            if (sub is ErrorTxn) pastFailure = true;
            else if (failed)
            {
                // A failed multi applies nothing: ops before the failure report OK, ops after it
                // RUNTIMEINCONSISTENCY, as Apache reports them.
                effective = new ErrorTxn(pastFailure ? ErrorCode.RuntimeInconsistency : ErrorCode.Ok);
            }
            var subHeader = header with { Type = (int)effective.Type };
            var subResult = ApplyOne(subHeader, effective);
            results.Add(subResult);
            if (subResult.Error != ErrorCode.Ok && combined.Error == ErrorCode.Ok) combined.Error = subResult.Error;
        }
        return combined;
    }

    private ApplyResult Create(TxnHeader header, string path, byte[]? data, List<Acl> acl, long ephemeralOwner,
        int parentCversion, OpCode type)
    {
        string parentPath = PathValidation.Parent(path);
        string name = PathValidation.Name(path);
        if (!_nodes.TryGetValue(parentPath, out var parent))
        {
            return new ApplyResult { Type = type, Path = path, Error = ErrorCode.NoNode };
        }
        if (parent.HasChild(name))
        {
            // Replaying a create whose node survived in a fuzzy snapshot: keep the parent's counters moving.
            SetCversionPzxid(parent, parentCversion, header.Zxid);
            return new ApplyResult { Type = type, Path = path, Error = ErrorCode.NodeExists };
        }
        if (parentCversion == -1) parentCversion = parent.Cversion + 1;
        SetCversionPzxid(parent, parentCversion, header.Zxid);

        var node = new DataNode(data, acl, header.Zxid, header.TimeMs, ephemeralOwner);
        parent.AddChild(name);
        _nodes[path] = node;
        TrackOwner(path, ephemeralOwner);
        OnQuotaNodeChanged(parentPath, name, created: true);
        UpdateQuotaUsage(path, data?.Length ?? 0, 1);
        var stat = node.ToStat();
        DataWatches.Trigger(path, EventType.NodeCreated, node.Acl);
        ChildWatches.Trigger(parentPath, EventType.NodeChildrenChanged, parent.Acl);
        return new ApplyResult { Type = type, Path = path, Stat = stat };
    }

    private static void SetCversionPzxid(DataNode node, int cversion, long zxid)
    {
        if (cversion == -1) cversion = node.Cversion + 1;
        if (cversion > node.Cversion)
        {
            node.Cversion = cversion;
            node.Pzxid = zxid;
        }
    }

    private ErrorCode DeleteNode(string path, long zxid)
    {
        string parentPath = PathValidation.Parent(path);
        if (!_nodes.TryGetValue(parentPath, out var parent)) return ErrorCode.NoNode;
        parent.RemoveChild(PathValidation.Name(path));
        if (zxid > parent.Pzxid) parent.Pzxid = zxid;
        if (!_nodes.Remove(path, out var node)) return ErrorCode.NoNode;

        long owner = node.EphemeralOwner;
        if (EphemeralOwner.IsContainer(owner)) _containers.Remove(path);
        else if (EphemeralOwner.IsTtl(owner)) _ttlNodes.Remove(path);
        else if (owner != 0 && _ephemeralsBySession.TryGetValue(owner, out var set)) set.Remove(path);
        OnQuotaNodeChanged(parentPath, PathValidation.Name(path), created: false);
        UpdateQuotaUsage(path, -(node.Data?.Length ?? 0), -1);

        var processed = DataWatches.Trigger(path, EventType.NodeDeleted, node.Acl);
        ChildWatches.Trigger(path, EventType.NodeDeleted, node.Acl, processed);
        ChildWatches.Trigger(parentPath, EventType.NodeChildrenChanged, parent.Acl);
        return ErrorCode.Ok;
    }

    private ApplyResult SetData(TxnHeader header, SetDataTxn txn)
    {
        if (!_nodes.TryGetValue(txn.Path, out var node))
        {
            return new ApplyResult { Type = header.OpCode, Path = txn.Path, Error = ErrorCode.NoNode };
        }
        long bytesDiff = (txn.Data?.Length ?? 0) - (node.Data?.Length ?? 0);
        node.Data = txn.Data;
        node.MtimeMs = header.TimeMs;
        node.Mzxid = header.Zxid;
        node.Version = txn.Version;
        var stat = node.ToStat();
        UpdateQuotaUsage(txn.Path, bytesDiff, 0);
        DataWatches.Trigger(txn.Path, EventType.NodeDataChanged, node.Acl);
        return new ApplyResult { Type = header.OpCode, Path = txn.Path, Stat = stat };
    }

    private ApplyResult SetAcl(TxnHeader header, SetAclTxn txn)
    {
        if (!_nodes.TryGetValue(txn.Path, out var node))
        {
            return new ApplyResult { Type = OpCode.SetAcl, Path = txn.Path, Error = ErrorCode.NoNode };
        }
        node.Aversion = txn.Version;
        node.Acl = txn.Acl;
        return new ApplyResult { Type = OpCode.SetAcl, Path = txn.Path, Stat = node.ToStat() };
    }

    /// <summary>Deletes a closed session's ephemerals: those the txn lists, in its order, then any stragglers.</summary>
    private void KillSession(long sessionId, long zxid, List<string>? pathsInTxn)
    {
        // A session can own hundreds of thousands of nodes, and this runs on the loop that serves everyone, so
        // the work stays linear: one pass over the txn's list, one over the stragglers, each path looked up once.
        _ephemeralsBySession.Remove(sessionId, out var local);
        if (pathsInTxn is not null)
        {
            foreach (var path in pathsInTxn)
            {
                DeleteNode(path, zxid);
                local?.Remove(path);
            }
        }
        if (local is null || local.Count == 0) return;
        foreach (var path in local.CopyOrder()) DeleteNode(path, zxid);
    }
}
