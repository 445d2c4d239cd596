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

// Applying transactions: each txn type's change to the store, the watches it fires and the quota and ephemeral
// bookkeeping it keeps, in zxid order.
public sealed partial class DataTree
{
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
                var entry = (child, PathValidation.Join(path, _store.NameOf(child)));
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
