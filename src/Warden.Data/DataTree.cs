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

    private readonly NodeStore _store = new();
    private readonly AclCache _acls = new();
    private readonly Dictionary<long, JavaOrderedSet> _ephemeralsBySession = new();
    private readonly HashSet<string> _containers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ttlNodes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _quotaPaths = new(StringComparer.Ordinal);

    public DataTree()
    {
        FillSlot(NodeStore.Root, new StoredNode([], Acl.OpenUnsafe, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        int zookeeper = AddNode(NodeStore.Root, "zookeeper", new StoredNode([], Acl.OpenUnsafe, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        AddNode(zookeeper, "quota", new StoredNode([], Acl.OpenUnsafe, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        // Apache sets the config node's ACL with version -1 as it builds the tree, which leaves aversion at -1.
        AddNode(zookeeper, "config", new StoredNode([], ReadAclUnsafe, 0, 0, 0, 0, 0, 0, -1, 0, 0));
    }

    public WatchManager DataWatches { get; } = new();
    public WatchManager ChildWatches { get; } = new();

    /// <summary>The distinct ACL lists of the tree's nodes, each counted by the nodes that use it.</summary>
    public AclCache Acls => _acls;

    /// <summary>The zxid of the last transaction applied.</summary>
    public long LastProcessedZxid { get; private set; }

    /// <summary>The node count Apache reports: it stores the root twice (as "" and "/"), so one more than the nodes.</summary>
    public int NodeCountAsReported => _store.Count + 1;

    public int NodeCount => _store.Count;

    public IReadOnlyCollection<string> Containers => _containers;
    public IReadOnlyCollection<string> TtlNodes => _ttlNodes;
    public IEnumerable<string> Paths => PreOrder().Select(static entry => entry.Path);

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
        // Paths are not stored; each node's path length is its parent's, plus a slash and its name.
        long total = 1 + (_store[NodeStore.Root].Data?.Length ?? 0);
        var stack = new Stack<(int Index, int PathLength)>();
        stack.Push((NodeStore.Root, 0));
        while (stack.Count > 0)
        {
            var (parent, parentLength) = stack.Pop();
            foreach (int child in _store.ChildrenOf(parent))
            {
                ref var slot = ref _store[child];
                int length = parentLength + 1 + slot.Name!.Length;
                total += length + (slot.Data?.Length ?? 0);
                if (slot.ChildCount > 0) stack.Push((child, length));
            }
        }
        return total;
    }

    public DataNode? GetNode(string path)
    {
        int index = _store.Find(path);
        return index == NodeStore.None ? null : new DataNode(_store, _acls, index);
    }

    public bool TryGetNode(string path, out DataNode node)
    {
        node = GetNode(path)!;
        return node is not null;
    }

    /// <summary>A session's ephemeral paths in the order a copy of Apache's HashSet would list them.</summary>
    public List<string> EphemeralsOf(long sessionId) =>
        _ephemeralsBySession.TryGetValue(sessionId, out var set) ? set.CopyOrder() : [];

    public IEnumerable<long> SessionsWithEphemerals => _ephemeralsBySession.Keys;

    /// <summary>
    /// Every node, parents before children and children in the order Apache lists them: the order a snapshot
    /// stores them in. The tree must not change while the walk goes on.
    /// </summary>
    public IEnumerable<(string Path, DataNode Node)> PreOrder()
    {
        var stack = new Stack<(string Path, int Index)>();
        stack.Push(("/", NodeStore.Root));
        while (stack.Count > 0)
        {
            var (path, index) = stack.Pop();
            yield return (path, new DataNode(_store, _acls, index));
            var children = _store.OrderedChildren(index);
            for (int i = children.Length - 1; i >= 0; i--)
            {
                string name = children[i];
                int child = _store.FindChild(index, name, JavaHashOrder.StringHash(name));
                stack.Push((PathValidation.Join(path, name), child));
            }
        }
    }

    /// <summary>The fields a snapshot stores for a node of this tree.</summary>
    public static StoredNode ToStored(DataNode node) => new(node.Data, node.Acl, node.Czxid, node.Mzxid, node.CtimeMs,
        node.MtimeMs, node.Version, node.Cversion, node.Aversion, node.EphemeralOwner, node.Pzxid);

    /// <summary>Builds a tree from another tree's nodes, as <see cref="Restore(IEnumerable{ValueTuple{string, StoredNode}}, long)"/>.</summary>
    public static DataTree Restore(IEnumerable<(string Path, DataNode Node)> nodes, long lastProcessedZxid) =>
        Restore(nodes.Select(static entry => (entry.Path, ToStored(entry.Node))), lastProcessedZxid);

    /// <summary>
    /// Builds a tree from stored nodes (a snapshot), parents before children. Children are linked in the order
    /// given; ephemeral, container and TTL bookkeeping is rebuilt from each node's owner field.
    /// </summary>
    public static DataTree Restore(IEnumerable<(string Path, StoredNode Node)> nodes, long lastProcessedZxid)
    {
        var tree = new DataTree();
        // A snapshot lists siblings one after another, so the parent of the last node is usually the next one's too.
        string lastParentPath = "/";
        int lastParent = NodeStore.Root;
        foreach (var (path, node) in nodes)
        {
            if (path == "/")
            {
                // The stored root replaces the built-in nodes; the snapshot carries its own /zookeeper subtree.
                tree.ClearToRoot();
                tree.ReplaceFields(NodeStore.Root, node);
                continue;
            }
            if (path.Length == 0 || path[0] != '/') throw new InvalidDataException($"stored node {path} is not an absolute path");
            var parentPath = ParentOf(path);
            int parent = parentPath.SequenceEqual(lastParentPath) ? lastParent : tree._store.Find(parentPath);
            if (parent == NodeStore.None)
            {
                throw new InvalidDataException($"stored node {path} comes before its parent {parentPath}");
            }
            if (parent != lastParent)
            {
                lastParent = parent;
                lastParentPath = parentPath.ToString();
            }
            string name = path[(parentPath.Length == 1 ? 1 : parentPath.Length + 1)..];
            if (name.Length == 0) throw new InvalidDataException($"stored node {path} has an empty name");
            int existing = tree._store.FindChild(parent, name, JavaHashOrder.StringHash(name));
            if (existing != NodeStore.None)
            {
                // A node stored twice (or a built-in one a snapshot without a root carries) keeps the last fields.
                tree.UntrackOwner(path, tree._store[existing].EphemeralOwner);
                tree.ReplaceFields(existing, node);
            }
            else
            {
                tree.AddNode(parent, name, node);
            }
            tree.TrackOwner(path, node.EphemeralOwner);
            if (name == QuotaPaths.LimitNode && path.StartsWith(QuotaPath + "/", StringComparison.Ordinal))
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

    /// <summary>Drops every node but the root, leaving the root's own fields as they are.</summary>
    private void ClearToRoot()
    {
        var order = new List<int>();
        var stack = new Stack<int>();
        stack.Push(NodeStore.Root);
        while (stack.Count > 0)
        {
            int index = stack.Pop();
            order.Add(index);
            foreach (int child in _store.ChildrenOf(index)) stack.Push(child);
        }
        // Children before parents, so each node is childless when it goes.
        for (int i = order.Count - 1; i > 0; i--) FreeSlot(order[i]);
        _containers.Clear();
        _ttlNodes.Clear();
        _ephemeralsBySession.Clear();
        _quotaPaths.Clear();
    }

    /// <summary>Adds a node under a parent that has no child of that name.</summary>
    private int AddNode(int parent, string name, in StoredNode node)
    {
        int index = _store.AddChild(parent, name);
        FillSlot(index, node);
        return index;
    }

    private void FillSlot(int index, in StoredNode node)
    {
        int aclIndex = _acls.AddReference(node.Acl);
        ref var slot = ref _store[index];
        slot.Data = node.Data;
        slot.AclIndex = aclIndex;
        slot.Czxid = node.Czxid;
        slot.Mzxid = node.Mzxid;
        slot.CtimeMs = node.CtimeMs;
        slot.MtimeMs = node.MtimeMs;
        slot.Version = node.Version;
        slot.Cversion = node.Cversion;
        slot.Aversion = node.Aversion;
        slot.EphemeralOwner = node.EphemeralOwner;
        slot.Pzxid = node.Pzxid;
    }

    private void ReplaceFields(int index, in StoredNode node)
    {
        _acls.RemoveReference(_store[index].AclIndex);
        FillSlot(index, node);
    }

    /// <summary>The parent part of a path ("/" for a child of the root), without making a string of it.</summary>
    private static ReadOnlySpan<char> ParentOf(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path.AsSpan(0, slash);
    }

    /// <summary>Releases a childless node's ACL and slot.</summary>
    private void FreeSlot(int index)
    {
        _acls.RemoveReference(_store[index].AclIndex);
        _store.Remove(index);
    }

    /// <summary>Sets a quota's usage record to the count and bytes of its subtree as it stands.</summary>
    private void RecountQuota(string quotaPath)
    {
        int statIndex = _store.Find(QuotaPaths.StatPath(quotaPath));
        if (statIndex == NodeStore.None) return;
        var (count, bytes) = CountSubtree(_store.Find(quotaPath));
        ref var statSlot = ref _store[statIndex];
        var usage = new StatsTrack(statSlot.Data);
        if (usage.Get(StatsTrack.Count) == count && usage.Get(StatsTrack.Bytes) == bytes) return;
        usage.Set(StatsTrack.Count, count);
        usage.Set(StatsTrack.Bytes, bytes);
        statSlot.Data = usage.ToBytes();
    }

    /// <summary>The nodes of a subtree (itself included) and the bytes of their data; zero for no node.</summary>
    private (long Count, long Bytes) CountSubtree(int top)
    {
        long count = 0, bytes = 0;
        if (top == NodeStore.None) return (0, 0);
        var stack = new Stack<int>();
        stack.Push(top);
        while (stack.Count > 0)
        {
            int index = stack.Pop();
            count++;
            bytes += _store[index].Data?.Length ?? 0;
            foreach (int child in _store.ChildrenOf(index)) stack.Push(child);
        }
        return (count, bytes);
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

    private void UntrackOwner(string path, long owner)
    {
        if (EphemeralOwner.IsContainer(owner)) _containers.Remove(path);
        else if (EphemeralOwner.IsTtl(owner)) _ttlNodes.Remove(path);
        else if (owner != 0 && _ephemeralsBySession.TryGetValue(owner, out var set)) set.Remove(path);
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
        if (prefix is null) return;
        int statIndex = _store.Find(QuotaPaths.StatPath(prefix));
        if (statIndex == NodeStore.None) return;
        ref var statSlot = ref _store[statIndex];
        var usage = new StatsTrack(statSlot.Data);
        usage.Set(StatsTrack.Count, usage.Get(StatsTrack.Count) + countDiff);
        usage.Set(StatsTrack.Bytes, usage.Get(StatsTrack.Bytes) + bytesDiff);
        statSlot.Data = usage.ToBytes();
    }

    /// <summary>A zookeeper_limits node appearing or going under /zookeeper/quota turns a quota on or off.</summary>
    private void OnQuotaNodeChanged(string parentPath, string name, int index, bool created)
    {
        if (!parentPath.StartsWith(QuotaPath, StringComparison.Ordinal)) return;
        string quotaPath = parentPath[QuotaPath.Length..];
        if (name == QuotaPaths.LimitNode)
        {
            if (created) _quotaPaths.Add(quotaPath);
            else _quotaPaths.Remove(quotaPath);
        }
        else if (name == QuotaPaths.StatNode && created)
        {
            // A new usage record starts from the subtree as it stands.
            var (count, bytes) = CountSubtree(_store.Find(quotaPath));
            var usage = new StatsTrack();
            usage.Set(StatsTrack.Count, count);
            usage.Set(StatsTrack.Bytes, bytes);
            _store[index].Data = usage.ToBytes();
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
        int parent = _store.Find(parentPath);
        if (parent == NodeStore.None)
        {
            return new ApplyResult { Type = type, Path = path, Error = ErrorCode.NoNode };
        }
        if (_store.FindChild(parent, name, JavaHashOrder.StringHash(name)) != NodeStore.None)
        {
            // Replaying a create whose node survived in a fuzzy snapshot: keep the parent's counters moving.
            SetCversionPzxid(ref _store[parent], parentCversion, header.Zxid);
            return new ApplyResult { Type = type, Path = path, Error = ErrorCode.NodeExists };
        }
        if (parentCversion == -1) parentCversion = _store[parent].Cversion + 1;
        SetCversionPzxid(ref _store[parent], parentCversion, header.Zxid);

        int index = AddNode(parent, name,
            new StoredNode(data, acl, header.Zxid, header.Zxid, header.TimeMs, header.TimeMs, 0, 0, 0, ephemeralOwner, header.Zxid));
        TrackOwner(path, ephemeralOwner);
        OnQuotaNodeChanged(parentPath, name, index, created: true);
        UpdateQuotaUsage(path, data?.Length ?? 0, 1);
        var stat = DataNode.ToStat(ref _store[index]);
        DataWatches.Trigger(path, EventType.NodeCreated, _acls[_store[index].AclIndex]);
        ChildWatches.Trigger(parentPath, EventType.NodeChildrenChanged, _acls[_store[parent].AclIndex]);
        return new ApplyResult { Type = type, Path = path, Stat = stat };
    }

    private static void SetCversionPzxid(ref NodeSlot node, int cversion, long zxid)
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
        int parent = _store.Find(parentPath);
        if (parent == NodeStore.None) return ErrorCode.NoNode;
        string name = PathValidation.Name(path);
        int index = _store.FindChild(parent, name, JavaHashOrder.StringHash(name));
        ref var parentSlot = ref _store[parent];
        if (zxid > parentSlot.Pzxid) parentSlot.Pzxid = zxid;
        if (index == NodeStore.None) return ErrorCode.NoNode;

        var acl = _acls[_store[index].AclIndex];
        var parentAcl = _acls[parentSlot.AclIndex];
        long owner = _store[index].EphemeralOwner;
        long dataLength = _store[index].Data?.Length ?? 0;
        // Prep never deletes a node with children. Should a replay do so anyway, the descendants go with it:
        // Apache would keep them reachable by path but not listed, which a store without full paths cannot.
        if (_store[index].ChildCount > 0) RemoveDescendants(index, path);
        FreeSlot(index);

        UntrackOwner(path, owner);
        OnQuotaNodeChanged(parentPath, name, NodeStore.None, created: false);
        UpdateQuotaUsage(path, -dataLength, -1);

        var processed = DataWatches.Trigger(path, EventType.NodeDeleted, acl);
        ChildWatches.Trigger(path, EventType.NodeDeleted, acl, processed);
        ChildWatches.Trigger(parentPath, EventType.NodeChildrenChanged, parentAcl);
        return ErrorCode.Ok;
    }

    private void RemoveDescendants(int top, string topPath)
    {
        var order = new List<(int Index, string Path)>();
        var stack = new Stack<(int Index, string Path)>();
        stack.Push((top, topPath));
        while (stack.Count > 0)
        {
            var (index, path) = stack.Pop();
            foreach (int child in _store.ChildrenOf(index))
            {
                var entry = (child, PathValidation.Join(path, _store[child].Name!));
                order.Add(entry);
                stack.Push(entry);
            }
        }
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var (index, path) = order[i];
            UntrackOwner(path, _store[index].EphemeralOwner);
            FreeSlot(index);
        }
    }

    private ApplyResult SetData(TxnHeader header, SetDataTxn txn)
    {
        int index = _store.Find(txn.Path);
        if (index == NodeStore.None)
        {
            return new ApplyResult { Type = header.OpCode, Path = txn.Path, Error = ErrorCode.NoNode };
        }
        ref var node = ref _store[index];
        long bytesDiff = (txn.Data?.Length ?? 0) - (node.Data?.Length ?? 0);
        node.Data = txn.Data;
        node.MtimeMs = header.TimeMs;
        node.Mzxid = header.Zxid;
        node.Version = txn.Version;
        var stat = DataNode.ToStat(ref node);
        UpdateQuotaUsage(txn.Path, bytesDiff, 0);
        DataWatches.Trigger(txn.Path, EventType.NodeDataChanged, _acls[_store[index].AclIndex]);
        return new ApplyResult { Type = header.OpCode, Path = txn.Path, Stat = stat };
    }

    /// <summary>
    /// Sets a node's data outside the txn stream, as Apache's ZKDatabase.initConfigInZKDatabase sets /zookeeper/config:
    /// the given mzxid and mtime, dataVersion -1, and a NodeDataChanged event for its watchers. Returns false when the
    /// node is missing or already holds exactly this data at this mzxid.
    /// </summary>
    public bool SetOutsideTxns(string path, byte[] data, long mzxid, long mtimeMs)
    {
        int index = _store.Find(path);
        if (index == NodeStore.None) return false;
        ref var node = ref _store[index];
        if (node.Data is { } old && old.AsSpan().SequenceEqual(data) && node.Mzxid == mzxid) return false;
        node.Data = data;
        node.Mzxid = mzxid;
        node.Version = -1;
        node.MtimeMs = mtimeMs;
        DataWatches.Trigger(path, EventType.NodeDataChanged, _acls[node.AclIndex]);
        return true;
    }

    private ApplyResult SetAcl(TxnHeader header, SetAclTxn txn)
    {
        int index = _store.Find(txn.Path);
        if (index == NodeStore.None)
        {
            return new ApplyResult { Type = OpCode.SetAcl, Path = txn.Path, Error = ErrorCode.NoNode };
        }
        // The new list is counted before the old one is let go, so a list set again on its only node stays interned.
        int aclIndex = _acls.AddReference(txn.Acl);
        ref var node = ref _store[index];
        _acls.RemoveReference(node.AclIndex);
        node.AclIndex = aclIndex;
        node.Aversion = txn.Version;
        return new ApplyResult { Type = OpCode.SetAcl, Path = txn.Path, Stat = DataNode.ToStat(ref node) };
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
