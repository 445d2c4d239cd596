using System.Globalization;
using Warden.Data;
using Warden.Protocol;
using Warden.Server.Security;

namespace Warden.Server.Processing;

/// <summary>
/// Turns a write request into the transaction to log and apply, checking it against the tree as pending writes
/// will leave it. The checks run in Apache's order, so the first one to fail decides the error code; a failed
/// write still becomes a transaction (an ErrorTxn) that takes a zxid, exactly as on Apache's server.
/// </summary>
public sealed partial class RequestPreparer(DataTree tree, ServerSettings settings, Func<QuorumView?>? quorumView = null)
{
    public PendingChanges Pending { get; } = new(tree);

    /// <summary>
    /// With local sessions: why a session may not own an ephemeral node, if it may not (Apache's checkGlobalSession:
    /// EPHEMERALONLOCALSESSION for this server's own local session, SESSIONEXPIRED for one no global tracker knows).
    /// </summary>
    public Func<long, ErrorCode?>? EphemeralOwnerRefusal { get; init; }

    /// <summary>Builds the txn for a write; on a failed check, the ErrorTxn carrying its code.</summary>
    public Txn Prepare(OpCode type, ReadOnlySpan<byte> body, long zxid, long timeMs, long sessionId, IReadOnlyList<Id> authInfo)
    {
        try
        {
            var reader = new JuteReader(body);
            if (type == OpCode.Multi) return PrepareMulti(ref reader, zxid, timeMs, sessionId, authInfo);
            var record = ReadRecord(type, ref reader);
            return PrepareOne(type, record, zxid, timeMs, sessionId, authInfo);
        }
        catch (KeeperException e)
        {
            return new ErrorTxn(e.Code);
        }
        catch (JuteException)
        {
            return new ErrorTxn(ErrorCode.MarshallingError);
        }
    }

    private static IJuteRecord ReadRecord(OpCode type, ref JuteReader reader) => type switch
    {
        OpCode.Create or OpCode.Create2 or OpCode.CreateContainer => CreateRequest.Read(ref reader, withTtl: false),
        OpCode.CreateTtl => CreateRequest.Read(ref reader, withTtl: true),
        OpCode.Delete => DeleteRequest.Read(ref reader),
        OpCode.SetData => SetDataRequest.Read(ref reader),
        OpCode.SetAcl => SetAclRequest.Read(ref reader),
        OpCode.Check => CheckVersionRequest.Read(ref reader),
        OpCode.Reconfig => ReconfigRequest.Read(ref reader),
        _ => throw new JuteException($"not a write: {type}"),
    };

    private Txn PrepareOne(OpCode type, IJuteRecord record, long zxid, long timeMs, long sessionId, IReadOnlyList<Id> authInfo) =>
        record switch
        {
            CreateRequest create => PrepareCreate(type, create, zxid, timeMs, sessionId, authInfo),
            DeleteRequest delete => PrepareDelete(delete, zxid, authInfo),
            SetDataRequest setData => PrepareSetData(setData, zxid, authInfo),
            SetAclRequest setAcl => PrepareSetAcl(setAcl, zxid, authInfo),
            CheckVersionRequest check => PrepareCheck(check, authInfo),
            ReconfigRequest reconfig => PrepareReconfig(reconfig, zxid, timeMs, authInfo),
            _ => throw new JuteException($"not a write record: {record.GetType().Name}"),
        };

    private Txn PrepareCreate(OpCode type, CreateRequest request, long zxid, long timeMs, long sessionId, IReadOnlyList<Id> authInfo)
    {
        if (!CreateModes.IsKnown(request.Flags)) throw new KeeperException(ErrorCode.BadArguments, request.Path);
        var mode = (CreateMode)request.Flags;
        // Apache 3.8.0 lets createTTL through with a non-TTL mode and a negative ttl, then fails to apply the
        // txn and stops (and stops again replaying its log). Warden refuses it up front, as a bad argument.
        if (type == OpCode.CreateTtl && !CreateModes.IsTtl(mode)) throw new KeeperException(ErrorCode.BadArguments, request.Path);
        ValidateCreateMode(mode, request.Ttl, request.Path);
        // Apache checks the session right after the mode, so this error comes before any about the path.
        if (mode is CreateMode.Ephemeral or CreateMode.EphemeralSequential && EphemeralOwnerRefusal?.Invoke(sessionId) is { } refusal)
        {
            throw new KeeperException(refusal, request.Path);
        }

        string path = request.Path;
        int lastSlash = path.LastIndexOf('/');
        if (lastSlash == -1 || path.Contains('\0')) throw new KeeperException(ErrorCode.BadArguments, path);
        string parentPath = lastSlash == 0 ? "/" : path[..lastSlash];

        var acl = AclPolicy.Fixup(request.Acl, authInfo, settings.Authentication) ?? throw new KeeperException(ErrorCode.InvalidAcl, path);
        var parent = Pending.GetExisting(parentPath);
        if (!AclPolicy.Allows(parent.Acl, Perms.Create, authInfo, settings.Authentication)) throw new KeeperException(ErrorCode.NoAuth, path);

        if (CreateModes.IsSequential(mode)) path += SequenceSuffix(parent.Cversion);
        if (!PathValidation.IsValid(path)) throw new KeeperException(ErrorCode.BadArguments, path);
        if (path == "/" || Pending.Get(path) is not null) throw new KeeperException(ErrorCode.NodeExists, path);
        if (EphemeralOwner.IsSession(parent.EphemeralOwner)) throw new KeeperException(ErrorCode.NoChildrenForEphemerals, path);

        int newCversion = parent.Cversion + 1;
        CheckQuota(path, request.Data?.Length ?? 0, 1);
        long owner = mode switch
        {
            CreateMode.Container => EphemeralOwner.Container,
            CreateMode.PersistentWithTtl or CreateMode.PersistentSequentialWithTtl => EphemeralOwner.ForTtl(request.Ttl),
            CreateMode.Ephemeral or CreateMode.EphemeralSequential => sessionId,
            _ => 0,
        };
        Pending.Add(parent with { Zxid = zxid, ChildCount = parent.ChildCount + 1, Cversion = newCversion });
        Pending.Add(new NodeRecord(zxid, path, true, 0, 0, 0, owner, 0, acl, zxid, request.Data?.Length ?? 0));

        return type switch
        {
            OpCode.CreateContainer => new CreateContainerTxn(path, request.Data, acl, newCversion),
            OpCode.CreateTtl => new CreateTtlTxn(path, request.Data, acl, newCversion, request.Ttl),
            _ => new CreateTxn(path, request.Data, acl, CreateModes.IsEphemeral(mode), newCversion,
                type == OpCode.Create2 ? OpCode.Create2 : OpCode.Create),
        };
    }

    /// <summary>TTL modes need extended types enabled and a TTL in range; other modes must carry none.</summary>
    private void ValidateCreateMode(CreateMode mode, long ttl, string path)
    {
        bool isTtl = CreateModes.IsTtl(mode);
        if (isTtl && !settings.ExtendedTypesEnabled) throw new KeeperException(ErrorCode.Unimplemented, path);
        if (isTtl ? ttl <= 0 || ttl > EphemeralOwner.MaxTtlMs : ttl >= 0) throw new KeeperException(ErrorCode.BadArguments, path);
    }

    /// <summary>Java's %010d: zero-padded to ten characters, the sign counted among them.</summary>
    public static string SequenceSuffix(int counter) =>
        counter >= 0 ? counter.ToString("D10", CultureInfo.InvariantCulture)
                     : "-" + (-(long)counter).ToString("D9", CultureInfo.InvariantCulture);

    private Txn PrepareDelete(DeleteRequest request, long zxid, IReadOnlyList<Id> authInfo)
    {
        string path = request.Path;
        string parentPath = ParentForModify(path);
        var parent = Pending.GetExisting(parentPath);
        if (!AclPolicy.Allows(parent.Acl, Perms.Delete, authInfo, settings.Authentication)) throw new KeeperException(ErrorCode.NoAuth, path);
        var node = Pending.GetExisting(path);
        CheckVersion(node.Version, request.Version, path);
        if (node.ChildCount > 0) throw new KeeperException(ErrorCode.NotEmpty, path);
        Pending.Add(parent with { Zxid = zxid, ChildCount = parent.ChildCount - 1 });
        Pending.Add(NodeRecord.Deleted(zxid, path));
        return new DeleteTxn(path);
    }

    /// <summary>Apache refuses to delete the root and its own nodes, and paths with no parent or a NUL.</summary>
    private static string ParentForModify(string path)
    {
        int lastSlash = path.LastIndexOf('/');
        if (lastSlash == -1 || path.Contains('\0') || path is "/" or DataTree.ZookeeperPath or DataTree.QuotaPath or DataTree.ConfigPath)
        {
            throw new KeeperException(ErrorCode.BadArguments, path);
        }
        return lastSlash == 0 ? "/" : path[..lastSlash];
    }

    private Txn PrepareSetData(SetDataRequest request, long zxid, IReadOnlyList<Id> authInfo)
    {
        string path = request.Path;
        if (!PathValidation.IsValid(path)) throw new KeeperException(ErrorCode.BadArguments, path);
        var node = Pending.GetExisting(path);
        if (!AclPolicy.Allows(node.Acl, Perms.Write, authInfo, settings.Authentication)) throw new KeeperException(ErrorCode.NoAuth, path);
        CheckQuota(path, (request.Data?.Length ?? 0) - node.DataLength, 0);
        int newVersion = CheckVersion(node.Version, request.Version, path);
        Pending.Add(node with { Zxid = zxid, Version = newVersion, DataLength = request.Data?.Length ?? 0 });
        return new SetDataTxn(path, request.Data, newVersion);
    }

    private Txn PrepareSetAcl(SetAclRequest request, long zxid, IReadOnlyList<Id> authInfo)
    {
        string path = request.Path;
        if (!PathValidation.IsValid(path)) throw new KeeperException(ErrorCode.BadArguments, path);
        var acl = AclPolicy.Fixup(request.Acl, authInfo, settings.Authentication) ?? throw new KeeperException(ErrorCode.InvalidAcl, path);
        var node = Pending.GetExisting(path);
        if (!AclPolicy.Allows(node.Acl, Perms.Admin, authInfo, settings.Authentication)) throw new KeeperException(ErrorCode.NoAuth, path);
        int newVersion = CheckVersion(node.Aversion, request.Version, path);
        Pending.Add(node with { Zxid = zxid, Aversion = newVersion, Acl = acl });
        return new SetAclTxn(path, acl, newVersion);
    }

    private Txn PrepareCheck(CheckVersionRequest request, IReadOnlyList<Id> authInfo)
    {
        string path = request.Path;
        if (!PathValidation.IsValid(path)) throw new KeeperException(ErrorCode.BadArguments, path);
        var node = Pending.GetExisting(path);
        if (!AclPolicy.Allows(node.Acl, Perms.Read, authInfo, settings.Authentication)) throw new KeeperException(ErrorCode.NoAuth, path);
        return new CheckVersionTxn(path, CheckVersion(node.Version, request.Version, path));
    }

    /// <summary>
    /// With enforceQuota on, a write that would take a quota'd subtree past a hard limit fails with QUOTAEXCEEDED;
    /// soft limits only log on Apache, and change nothing here. Usage is read from the tree as applied, as Apache does.
    /// </summary>
    private void CheckQuota(string path, long bytesDiff, long countDiff)
    {
        if (!settings.EnforceQuota) return;
        var prefix = tree.QuotaPrefixOf(path);
        if (prefix is null || tree.GetNode(QuotaPaths.LimitPath(prefix)) is not { } limitNode) return;
        var limits = new StatsTrack(limitNode.Data);
        bool checkCount = countDiff != 0 && (limits.Get(StatsTrack.Count) > -1 || limits.Get(StatsTrack.CountHardLimit) > -1);
        bool checkBytes = bytesDiff != 0 && (limits.Get(StatsTrack.Bytes) > -1 || limits.Get(StatsTrack.ByteHardLimit) > -1);
        if ((!checkCount && !checkBytes) || tree.GetNode(QuotaPaths.StatPath(prefix)) is not { } statNode) return;
        var usage = new StatsTrack(statNode.Data);
        long countHard = limits.Get(StatsTrack.CountHardLimit);
        if (checkCount && countHard > -1 && usage.Get(StatsTrack.Count) + countDiff > countHard)
        {
            throw new KeeperException(ErrorCode.QuotaExceeded, prefix);
        }
        long bytesHard = limits.Get(StatsTrack.ByteHardLimit);
        if (checkBytes && bytesHard > -1 && usage.Get(StatsTrack.Bytes) + bytesDiff > bytesHard)
        {
            throw new KeeperException(ErrorCode.QuotaExceeded, prefix);
        }
    }

    private static int CheckVersion(int current, int expected, string path)
    {
        if (expected != -1 && expected != current) throw new KeeperException(ErrorCode.BadVersion, path);
        return current + 1;
    }

    private Txn PrepareMulti(ref JuteReader reader, long zxid, long timeMs, long sessionId, IReadOnlyList<Id> authInfo)
    {
        var ops = MultiOperation.Read(ref reader);
        var touched = new List<string>();
        foreach (var op in ops)
        {
            string path = op.Request switch
            {
                CreateRequest c => c.Path, DeleteRequest d => d.Path, SetDataRequest s => s.Path,
                CheckVersionRequest k => k.Path, _ => "/",
            };
            touched.Add(path);
            touched.Add(PathValidation.Parent(path));
        }
        var saved = Pending.Save(touched);

        var txns = new List<Txn>(ops.Count);
        bool failed = false;
        foreach (var op in ops)
        {
            if (failed)
            {
                txns.Add(new ErrorTxn(ErrorCode.RuntimeInconsistency));
                continue;
            }
            try
            {
                txns.Add(PrepareOne(op.Type, op.Request, zxid, timeMs, sessionId, authInfo));
            }
            catch (KeeperException e)
            {
                failed = true;
                txns.Add(new ErrorTxn(e.Code));
                Pending.Rollback(zxid, saved);
            }
        }
        return new MultiTxn(txns);
    }

    /// <summary>deleteContainer, from the container manager: no ACL or version check, but never a session's node.</summary>
    public Txn PrepareDeleteContainer(string path, long zxid)
    {
        try
        {
            string parentPath = ParentForModify(path);
            var node = Pending.GetExisting(path);
            if (node.ChildCount > 0) throw new KeeperException(ErrorCode.NotEmpty, path);
            if (EphemeralOwner.IsSession(node.EphemeralOwner)) throw new KeeperException(ErrorCode.BadVersion, path);
            var parent = Pending.GetExisting(parentPath);
            Pending.Add(parent with { Zxid = zxid, ChildCount = parent.ChildCount - 1 });
            Pending.Add(NodeRecord.Deleted(zxid, path));
            return new DeleteTxn(path, OpCode.DeleteContainer);
        }
        catch (KeeperException e)
        {
            return new ErrorTxn(e.Code);
        }
    }

    /// <summary>closeSession: the session's ephemerals, as pending writes leave them, in Apache's HashSet order.</summary>
    public Txn PrepareCloseSession(long sessionId, long zxid)
    {
        var current = tree.EphemeralsOf(sessionId);
        var paths = new JavaOrderedSet(JavaHashOrder.CopyCapacity(current.Count));
        foreach (var path in current) paths.Add(path);
        foreach (var record in Pending.InOrder)
        {
            if (!record.Exists) paths.Remove(record.Path);
            else if (record.EphemeralOwner == sessionId) paths.Add(record.Path);
        }
        var ordered = paths.Ordered().ToList();
        foreach (var path in ordered) Pending.Add(NodeRecord.Deleted(zxid, path));
        return new CloseSessionTxn(ordered);
    }
}
