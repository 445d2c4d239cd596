using Warden.Data;
using Warden.Protocol;
using Warden.Server.Security;

namespace Warden.Server.Processing;

/// <summary>
/// Answers the requests that change nothing in the tree (reads, watch management, whoAmI), from the tree as
/// it stands, in the checks' order Apache's FinalRequestProcessor uses. Watches are registered on the
/// connection, which is the watcher.
/// </summary>
public sealed class ReadHandler(DataTree tree, Security.AuthenticationConfig authentication)
{
    public static bool Handles(OpCode type) => type is OpCode.Exists or OpCode.GetData or OpCode.GetChildren
        or OpCode.GetChildren2 or OpCode.GetAcl or OpCode.Sync or OpCode.GetAllChildrenNumber or OpCode.GetEphemerals
        or OpCode.SetWatches or OpCode.SetWatches2 or OpCode.AddWatch or OpCode.CheckWatches or OpCode.RemoveWatches
        or OpCode.WhoAmI or OpCode.MultiRead;

    /// <summary>Runs one read; returns the reply body (null for none) or throws <see cref="KeeperException"/>.</summary>
    public IJuteRecord? Handle(OpCode type, ReadOnlySpan<byte> body, IClientConnection connection, long sessionId)
    {
        var reader = new JuteReader(body);
        var auth = connection.State.AuthInfo;
        switch (type)
        {
            case OpCode.Exists:
            {
                var request = PathWatchRequest.Read(ref reader);
                if (request.Path.Contains('\0')) throw new KeeperException(ErrorCode.BadArguments, request.Path);
                if (request.Watch) tree.DataWatches.Add(request.Path, connection);
                var node = tree.GetNode(request.Path) ?? throw new KeeperException(ErrorCode.NoNode, request.Path);
                return new StatResponse(node.ToStat());
            }
            case OpCode.GetData:
                return GetData(PathWatchRequest.Read(ref reader), connection, auth);
            case OpCode.GetChildren:
            {
                var (children, _) = GetChildren(PathWatchRequest.Read(ref reader), connection, auth);
                return new GetChildrenResponse(children);
            }
            case OpCode.GetChildren2:
            {
                var (children, stat) = GetChildren(PathWatchRequest.Read(ref reader), connection, auth);
                return new GetChildren2Response(children, stat);
            }
            case OpCode.GetAcl:
                return GetAcl(PathRequest.Read(ref reader).Path, auth);
            case OpCode.Sync:
                return new PathResponse(PathRequest.Read(ref reader).Path);
            case OpCode.GetAllChildrenNumber:
                return GetAllChildrenNumber(PathRequest.Read(ref reader).Path, auth);
            case OpCode.GetEphemerals:
                return GetEphemerals(PathRequest.Read(ref reader).Path, sessionId);
            case OpCode.SetWatches or OpCode.SetWatches2:
                SetWatches(SetWatchesRequest.Read(ref reader, type == OpCode.SetWatches2), connection);
                return null;
            case OpCode.AddWatch:
            {
                var request = AddWatchRequest.Read(ref reader);
                // Apache's WatcherMode.fromZooDef throws on any other mode, which FinalRequestProcessor answers
                // as MARSHALLINGERROR, keeping the connection.
                if (request.Mode is not ((int)AddWatchMode.Persistent or (int)AddWatchMode.PersistentRecursive))
                    throw new KeeperException(ErrorCode.MarshallingError, request.Path);
                var mode = request.Mode == (int)AddWatchMode.PersistentRecursive ? WatchMode.PersistentRecursive : WatchMode.Persistent;
                tree.AddPersistentWatch(request.Path, connection, mode);
                return new ErrorResponse(0);
            }
            case OpCode.CheckWatches or OpCode.RemoveWatches:
                CheckOrRemoveWatches(WatchesRequest.Read(ref reader), connection, remove: type == OpCode.RemoveWatches);
                return null;
            case OpCode.WhoAmI:
                return new WhoAmIResponse(auth.ConvertAll(ClientInfoOf));
            case OpCode.MultiRead:
                return MultiRead(ref reader, connection, auth);
            default:
                throw new KeeperException(ErrorCode.Unimplemented);
        }
    }

    private GetDataResponse GetData(PathWatchRequest request, IClientConnection connection, IReadOnlyList<Id> auth)
    {
        var node = tree.GetNode(request.Path) ?? throw new KeeperException(ErrorCode.NoNode, request.Path);
        if (!AclPolicy.Allows(node.Acl, Perms.Read, auth, authentication)) throw new KeeperException(ErrorCode.NoAuth, request.Path);
        if (request.Watch) tree.DataWatches.Add(request.Path, connection);
        return new GetDataResponse(node.Data, node.ToStat());
    }

    private (List<string> Children, Stat Stat) GetChildren(PathWatchRequest request, IClientConnection connection, IReadOnlyList<Id> auth)
    {
        var node = tree.GetNode(request.Path) ?? throw new KeeperException(ErrorCode.NoNode, request.Path);
        if (!AclPolicy.Allows(node.Acl, Perms.Read, auth, authentication)) throw new KeeperException(ErrorCode.NoAuth, request.Path);
        if (request.Watch) tree.ChildWatches.Add(request.Path, connection);
        return (new List<string>(node.Children), node.ToStat());
    }

    private GetAclResponse GetAcl(string path, IReadOnlyList<Id> auth)
    {
        var node = tree.GetNode(path) ?? throw new KeeperException(ErrorCode.NoNode, path);
        if (!AclPolicy.Allows(node.Acl, Perms.Read | Perms.Admin, auth, authentication)) throw new KeeperException(ErrorCode.NoAuth, path);
        var acl = new List<Acl>(node.Acl);
        if (!AclPolicy.Allows(node.Acl, Perms.Admin, auth, authentication))
        {
            // Without ADMIN, digest ids are shown with their hash masked, as Apache does.
            acl = acl.ConvertAll(a => a.Id.Scheme == "digest"
                ? a with { Id = a.Id with { Identity = a.Id.Identity.Split(':')[0] + ":x" } }
                : a);
        }
        return new GetAclResponse(acl, node.ToStat());
    }

    private GetAllChildrenNumberResponse GetAllChildrenNumber(string path, IReadOnlyList<Id> auth)
    {
        var node = tree.GetNode(path) ?? throw new KeeperException(ErrorCode.NoNode, path);
        if (!AclPolicy.Allows(node.Acl, Perms.Read, auth, authentication)) throw new KeeperException(ErrorCode.NoAuth, path);
        int count = 0;
        var stack = new Stack<(string Path, DataNode Node)>();
        stack.Push((path, node));
        while (stack.Count > 0)
        {
            var (currentPath, current) = stack.Pop();
            foreach (var child in current.Children)
            {
                string childPath = PathValidation.Join(currentPath, child);
                if (tree.GetNode(childPath) is { } childNode)
                {
                    count++;
                    stack.Push((childPath, childNode));
                }
            }
        }
        return new GetAllChildrenNumberResponse(count);
    }

    private GetEphemeralsResponse GetEphemerals(string prefix, long sessionId)
    {
        var all = tree.EphemeralsOf(sessionId);
        string trimmed = prefix?.Trim() ?? "";
        if (trimmed.Length == 0 || trimmed == "/") return new GetEphemeralsResponse(all);
        return new GetEphemeralsResponse(all.FindAll(p => p.StartsWith(prefix!, StringComparison.Ordinal)));
    }

    /// <summary>Re-registers a reconnecting client's watches, firing at once those whose change it missed.</summary>
    private void SetWatches(SetWatchesRequest request, IClientConnection connection)
    {
        long since = request.RelativeZxid;
        foreach (var path in request.DataWatches)
        {
            var node = tree.GetNode(path);
            if (node is null) connection.Process(new WatchedEvent(EventType.NodeDeleted, KeeperState.SyncConnected, path));
            else if (node.Mzxid > since) connection.Process(new WatchedEvent(EventType.NodeDataChanged, KeeperState.SyncConnected, path));
            else tree.DataWatches.Add(path, connection);
        }
        foreach (var path in request.ExistWatches)
        {
            if (tree.GetNode(path) is not null) connection.Process(new WatchedEvent(EventType.NodeCreated, KeeperState.SyncConnected, path));
            else tree.DataWatches.Add(path, connection);
        }
        foreach (var path in request.ChildWatches)
        {
            var node = tree.GetNode(path);
            if (node is null) connection.Process(new WatchedEvent(EventType.NodeDeleted, KeeperState.SyncConnected, path));
            else if (node.Pzxid > since) connection.Process(new WatchedEvent(EventType.NodeChildrenChanged, KeeperState.SyncConnected, path));
            else tree.ChildWatches.Add(path, connection);
        }
        foreach (var path in request.PersistentWatches) tree.AddPersistentWatch(path, connection, WatchMode.Persistent);
        foreach (var path in request.PersistentRecursiveWatches) tree.AddPersistentWatch(path, connection, WatchMode.PersistentRecursive);
    }

    private void CheckOrRemoveWatches(WatchesRequest request, IClientConnection connection, bool remove)
    {
        bool children = request.Type is (int)WatcherType.Children or (int)WatcherType.Any;
        bool data = request.Type is (int)WatcherType.Data or (int)WatcherType.Any;
        if (!children && !data) throw new KeeperException(ErrorCode.BadArguments, request.Path);
        bool found = false;
        // checkWatches answers as Apache's containsWatcher does: whether anyone watches exactly this path.
        if (children) found |= remove ? tree.ChildWatches.Remove(request.Path, connection) : tree.ChildWatches.AnyWatchOn(request.Path);
        if (data) found |= remove ? tree.DataWatches.Remove(request.Path, connection) : tree.DataWatches.AnyWatchOn(request.Path);
        if (!found) throw new KeeperException(ErrorCode.NoWatcher, request.Path);
    }

    private static ClientInfo ClientInfoOf(Id id) => id.Scheme switch
    {
        "digest" => new ClientInfo(id.Scheme, id.Identity.Split(':')[0]),
        _ => new ClientInfo(id.Scheme, id.Identity),
    };

    private MultiResponse MultiRead(ref JuteReader reader, IClientConnection connection, IReadOnlyList<Id> auth)
    {
        var ops = MultiOperation.Read(ref reader);
        var results = new List<(OpCode, IJuteRecord?)>(ops.Count);
        foreach (var op in ops)
        {
            // Only reads belong in a multiRead; Apache fails the request with MARSHALLINGERROR on any other op.
            if (op.Type is not (OpCode.GetData or OpCode.GetChildren)) throw new JuteException($"invalid op type {(int)op.Type} in a multiRead");
            var request = (PathWatchRequest)op.Request;
            try
            {
                if (op.Type == OpCode.GetData) results.Add((OpCode.GetData, GetData(request, connection, auth)));
                else results.Add((OpCode.GetChildren, new GetChildrenResponse(GetChildren(request, connection, auth).Children)));
            }
            catch (KeeperException e)
            {
                results.Add((OpCode.Error, new ErrorResponse((int)e.Code)));
            }
        }
        return new MultiResponse(results);
    }
}

/// <summary>A multi or multiRead reply: each result behind a MultiHeader, then the closing header.</summary>
public sealed record MultiResponse(List<(OpCode Type, IJuteRecord? Body)> Results) : IJuteRecord
{
    public void Write(JuteWriter writer)
    {
        foreach (var (type, body) in Results)
        {
            int err = body is ErrorResponse error ? error.Err : 0;
            new MultiHeader((int)type, false, err).Write(writer);
            body?.Write(writer);
        }
        new MultiHeader(-1, true, -1).Write(writer);
    }
}
