using Warden.Protocol;

namespace Warden.Data;

/// <summary>
/// The tree of znodes. It changes only by applying transactions, in zxid order, and fires watches as each change
/// lands, so that watch events are queued before the reply that reveals the change. Reads go straight to nodes.
/// It is not thread-safe: the server's single state-machine loop owns it.
/// </summary>
public sealed partial class DataTree
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
                int length = parentLength + 1 + _store.NameLength(child);
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
            // The name stays a slice of the path: the store copies it, so no string is made for it.
            var name = path.AsSpan(parentPath.Length == 1 ? 1 : parentPath.Length + 1);
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
            if (name.SequenceEqual(QuotaPaths.LimitNode) && path.StartsWith(QuotaPath + "/", StringComparison.Ordinal))
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
    private int AddNode(int parent, ReadOnlySpan<char> name, in StoredNode node)
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
}
