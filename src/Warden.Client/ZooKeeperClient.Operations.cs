using Warden.Protocol;

namespace Warden.Client;

public sealed partial class ZooKeeperClient
{
    /// <summary>
    /// Creates a node and returns its actual path (sequential modes add a suffix) and its Stat. TTL modes need
    /// <paramref name="ttl"/> and a server with extended types enabled. <paramref name="acl"/> defaults to open.
    /// </summary>
    public Task<CreatedNode> CreateAsync(string path, byte[]? data, CreateMode mode = CreateMode.Persistent,
        IReadOnlyList<Acl>? acl = null, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        string serverPath = ServerPath(path, CreateModes.IsSequential(mode));
        long ttlMs = CreateRequests.TtlMs(mode, ttl);
        var request = new CreateRequest(serverPath, data, AclList.OrOpen(acl), (int)mode, ttlMs);
        var (op, body) = mode switch
        {
            CreateMode.Container => (OpCode.CreateContainer, (IJuteRecord)request),
            CreateMode.PersistentWithTtl or CreateMode.PersistentSequentialWithTtl => (OpCode.CreateTtl, new CreateTtlBody(request)),
            _ => (OpCode.Create2, request),
        };
        return SendAsync(op, path, body, ReadCreated, null, cancellationToken);
    }

    /// <summary>Deletes a node if its data version is <paramref name="version"/> (−1: any version).</summary>
    public Task DeleteAsync(string path, int version = -1, CancellationToken cancellationToken = default) =>
        SendAsync(OpCode.Delete, path, new DeleteRequest(ServerPath(path), version), static (ref JuteReader _) => true, null, cancellationToken);

    /// <summary>The node's Stat, or null when it does not exist.</summary>
    public Task<Stat?> ExistsAsync(string path, CancellationToken cancellationToken = default) =>
        ExistsCoreAsync(path, null, cancellationToken);

    /// <summary>
    /// The node's Stat or null, leaving a one-shot watch that fires when the node is created, changed or deleted.
    /// </summary>
    public Task<Stat?> ExistsAsync(string path, Action<WatchedEvent> watcher, CancellationToken cancellationToken = default) =>
        ExistsCoreAsync(path, new CallbackWatchSink(watcher, _dispatcher), cancellationToken);

    /// <summary>Like <see cref="ExistsAsync(string, CancellationToken)"/>, with the watch as a task.</summary>
    public async Task<Watched<Stat?>> ExistsAndWatchAsync(string path, CancellationToken cancellationToken = default)
    {
        var sink = new TaskWatchSink();
        return new Watched<Stat?>(await ExistsCoreAsync(path, sink, cancellationToken).ConfigureAwait(false), sink.Task);
    }

    private async Task<Stat?> ExistsCoreAsync(string path, WatchSink? sink, CancellationToken cancellationToken)
    {
        var watch = sink is null ? null : new WatchRegistration(_watches, path, sink, WatchKind.Data, WatchKind.Exist);
        try
        {
            return await SendAsync<Stat?>(OpCode.Exists, path, new PathWatchRequest(ServerPath(path), sink is not null),
                static (ref JuteReader reader) => Stat.Read(ref reader), watch, cancellationToken).ConfigureAwait(false);
        }
        catch (ZooKeeperException error) when (error.Code == ErrorCode.NoNode)
        {
            return null;
        }
    }

    /// <summary>The node's data and Stat.</summary>
    public Task<NodeData> GetDataAsync(string path, CancellationToken cancellationToken = default) =>
        GetDataCoreAsync(path, null, cancellationToken);

    /// <summary>The node's data and Stat, leaving a one-shot watch for its change or deletion.</summary>
    public Task<NodeData> GetDataAsync(string path, Action<WatchedEvent> watcher, CancellationToken cancellationToken = default) =>
        GetDataCoreAsync(path, new CallbackWatchSink(watcher, _dispatcher), cancellationToken);

    public async Task<Watched<NodeData>> GetDataAndWatchAsync(string path, CancellationToken cancellationToken = default)
    {
        var sink = new TaskWatchSink();
        return new Watched<NodeData>(await GetDataCoreAsync(path, sink, cancellationToken).ConfigureAwait(false), sink.Task);
    }

    private Task<NodeData> GetDataCoreAsync(string path, WatchSink? sink, CancellationToken cancellationToken)
    {
        var watch = sink is null ? null : new WatchRegistration(_watches, path, sink, WatchKind.Data, null);
        return SendAsync(OpCode.GetData, path, new PathWatchRequest(ServerPath(path), sink is not null), ReadNodeData, watch, cancellationToken);
    }

    /// <summary>
    /// The ensemble's configuration (the node /zookeeper/config, read outside any chroot), optionally leaving a
    /// one-shot watch for its next change.
    /// </summary>
    public Task<NodeData> GetConfigAsync(Action<WatchedEvent>? watcher = null, CancellationToken cancellationToken = default)
    {
        const string configPath = "/zookeeper/config";
        var watch = watcher is null ? null
            : new WatchRegistration(_watches, _connectString.ToClientPath(configPath), new CallbackWatchSink(watcher, _dispatcher), WatchKind.Data, null);
        return SendAsync(OpCode.GetData, configPath, new PathWatchRequest(configPath, watcher is not null), ReadNodeData, watch, cancellationToken);
    }

    /// <summary>
    /// Asks the ensemble to change its membership: incrementally (<paramref name="joining"/> server lines and
    /// <paramref name="leaving"/> server ids, comma separated) or as a whole (<paramref name="members"/>), only if
    /// the current configuration is <paramref name="fromConfig"/> (−1: any). Returns the new configuration.
    /// Servers without reconfigEnabled answer ReconfigDisabled.
    /// </summary>
    public Task<NodeData> ReconfigAsync(string? joining, string? leaving, string? members, long fromConfig = -1,
        CancellationToken cancellationToken = default) =>
        SendAsync(OpCode.Reconfig, null, new ReconfigRequest(joining, leaving, members, fromConfig), ReadNodeData, null, cancellationToken);

    /// <summary>Sets the node's data if its version is <paramref name="version"/> (−1: any) and returns the new Stat.</summary>
    public Task<Stat> SetDataAsync(string path, byte[]? data, int version = -1, CancellationToken cancellationToken = default) =>
        SendAsync(OpCode.SetData, path, new SetDataRequest(ServerPath(path), data, version),
            static (ref JuteReader reader) => Stat.Read(ref reader), null, cancellationToken);

    /// <summary>The node's children (names, unordered as the server gives them) and its Stat.</summary>
    public Task<NodeChildren> GetChildrenAsync(string path, CancellationToken cancellationToken = default) =>
        GetChildrenCoreAsync(path, null, cancellationToken);

    /// <summary>The children and Stat, leaving a one-shot watch for a child's creation or deletion, or the node's.</summary>
    public Task<NodeChildren> GetChildrenAsync(string path, Action<WatchedEvent> watcher, CancellationToken cancellationToken = default) =>
        GetChildrenCoreAsync(path, new CallbackWatchSink(watcher, _dispatcher), cancellationToken);

    public async Task<Watched<NodeChildren>> GetChildrenAndWatchAsync(string path, CancellationToken cancellationToken = default)
    {
        var sink = new TaskWatchSink();
        return new Watched<NodeChildren>(await GetChildrenCoreAsync(path, sink, cancellationToken).ConfigureAwait(false), sink.Task);
    }

    private Task<NodeChildren> GetChildrenCoreAsync(string path, WatchSink? sink, CancellationToken cancellationToken)
    {
        var watch = sink is null ? null : new WatchRegistration(_watches, path, sink, WatchKind.Child, null);
        return SendAsync(OpCode.GetChildren2, path, new PathWatchRequest(ServerPath(path), sink is not null),
            static (ref JuteReader reader) =>
            {
                var response = GetChildren2Response.Read(ref reader);
                return new NodeChildren(response.Children, response.Stat);
            }, watch, cancellationToken);
    }

    public Task<NodeAcl> GetAclAsync(string path, CancellationToken cancellationToken = default) =>
        SendAsync(OpCode.GetAcl, path, new PathRequest(ServerPath(path)), static (ref JuteReader reader) =>
        {
            var response = GetAclResponse.Read(ref reader);
            return new NodeAcl(response.Acl, response.Stat);
        }, null, cancellationToken);

    /// <summary>Replaces the node's ACL if its ACL version is <paramref name="aclVersion"/> (−1: any).</summary>
    public Task<Stat> SetAclAsync(string path, IReadOnlyList<Acl> acl, int aclVersion = -1, CancellationToken cancellationToken = default) =>
        SendAsync(OpCode.SetAcl, path, new SetAclRequest(ServerPath(path), [.. acl], aclVersion),
            static (ref JuteReader reader) => Stat.Read(ref reader), null, cancellationToken);

    /// <summary>Waits until the server this client is connected to has every write the leader had when it was asked.</summary>
    public Task SyncAsync(string path, CancellationToken cancellationToken = default) =>
        SendAsync(OpCode.Sync, path, new PathRequest(ServerPath(path)), static (ref JuteReader reader) => reader.ReadString(), null, cancellationToken);

    /// <summary>The session's ephemeral nodes whose path starts with <paramref name="prefixPath"/>.</summary>
    public Task<IReadOnlyList<string>> GetEphemeralsAsync(string prefixPath = "/", CancellationToken cancellationToken = default) =>
        SendAsync<IReadOnlyList<string>>(OpCode.GetEphemerals, prefixPath, new PathRequest(ServerPath(prefixPath)),
            (ref JuteReader reader) => (reader.ReadStringVector() ?? []).Select(_connectString.ToClientPath).ToList(), null, cancellationToken);

    /// <summary>The number of descendants of the node (children, grandchildren, ...), not counting itself.</summary>
    public Task<int> GetAllChildrenNumberAsync(string path, CancellationToken cancellationToken = default) =>
        SendAsync(OpCode.GetAllChildrenNumber, path, new PathRequest(ServerPath(path)), static (ref JuteReader reader) => reader.ReadInt(), null, cancellationToken);

    /// <summary>The identities this session is authenticated as (ZooKeeper 3.7+).</summary>
    public Task<IReadOnlyList<ClientInfo>> WhoAmIAsync(CancellationToken cancellationToken = default) =>
        SendAsync<IReadOnlyList<ClientInfo>>(OpCode.WhoAmI, null, null, static (ref JuteReader reader) => WhoAmIResponse.Read(ref reader).ClientInfo, null, cancellationToken);

    /// <summary>
    /// Adds credentials to the session (e.g. scheme "digest", auth "user:password"). They are sent again
    /// on every reconnect. A refusal ends the session in <see cref="ConnectionState.AuthFailed"/>. A null
    /// <paramref name="auth"/> is sent as a null buffer, as Apache's client sends it.
    /// </summary>
    public async Task AddAuthAsync(string scheme, byte[]? auth, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(scheme);
        ThrowIfEnded();
        lock (_authInfo) _authInfo.Add((scheme, auth));
        var waiter = new AuthWaiter();
        _outgoing.Writer.TryWrite(new OutgoingPacket(Frame(Xids.Auth, OpCode.Auth, new AuthPacket(0, scheme, auth)), null, waiter));
        await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static CreatedNode ReadCreatedRaw(ref JuteReader reader)
    {
        var response = Create2Response.Read(ref reader);
        return new CreatedNode(response.Path, response.Stat);
    }

    private CreatedNode ReadCreated(ref JuteReader reader)
    {
        var created = ReadCreatedRaw(ref reader);
        return created with { Path = _connectString.ToClientPath(created.Path) };
    }

    private static NodeData ReadNodeData(ref JuteReader reader)
    {
        var response = GetDataResponse.Read(ref reader);
        return new NodeData(response.Data ?? [], response.Stat) { IsNull = response.Data is null };
    }

    /// <summary>Checks a client path as Apache's client does, before anything is sent, and adds the chroot.</summary>
    private string ServerPath(string path, bool isSequential = false)
    {
        if (PathValidation.Validate(path, isSequential) is { } reason)
        {
            throw new ArgumentException($"invalid path '{path}': {reason}", nameof(path));
        }
        return _connectString.ToServerPath(path);
    }

    private void ThrowIfEnded()
    {
        var state = State;
        if (state.IsTerminal()) throw TerminalError(state);
    }

    /// <summary>
    /// Queues one request and awaits its reply. Cancelling stops the wait; a request already written may
    /// still take effect on the server, as with any lost reply.
    /// </summary>
    private async Task<T> SendAsync<T>(OpCode op, string? clientPath, IJuteRecord? body, ResponseReader<T> reader,
        WatchRegistration? watch, CancellationToken cancellationToken)
    {
        ThrowIfEnded();
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        PendingRequest<T> request;
        try
        {
            request = new PendingRequest<T>(RequestFrame(op, body), op, clientPath, watch, _slots, reader);
        }
        catch
        {
            _slots.Release();
            throw;
        }
        if (!_outgoing.Writer.TryWrite(new OutgoingPacket(request.Frame, request, null)))
        {
            request.Fail(TerminalError(State));
        }
        else if (State.IsTerminal())
        {
            // The session ended between the check and the queueing; the queue may already have been drained.
            FailQueued(TerminalError(State));
        }
        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.Register(() => request.Cancel(cancellationToken))
            : default;
        return await request.Task.ConfigureAwait(false);
    }

    [ThreadStatic] private static JuteWriter? t_writer;

    private static byte[] RequestFrame(OpCode op, IJuteRecord? body)
    {
        var writer = t_writer ??= new JuteWriter(1024);
        writer.Reset();
        writer.BeginFrame();
        // The xid is a placeholder: the writer loop fills it in at the moment the frame goes on the wire.
        new RequestHeader(0, (int)op).Write(writer);
        body?.Write(writer);
        writer.EndFrame();
        return writer.ToArray();
    }

    /// <summary>createTTL's record: the create fields followed by the TTL.</summary>
    private sealed record CreateTtlBody(CreateRequest Request) : IJuteRecord
    {
        public void Write(JuteWriter writer) => Request.WriteWithTtl(writer);
    }
}
