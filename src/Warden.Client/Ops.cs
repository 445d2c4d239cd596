using Warden.Protocol;

namespace Warden.Client;

/// <summary>One operation of a <c>multi</c> transaction or a <c>multiRead</c>. Paths are client paths.</summary>
public abstract record Op(string Path)
{
    internal abstract OpCode Code { get; }
    internal abstract bool IsRead { get; }
    internal abstract void WriteBody(JuteWriter writer, string serverPath);
    internal virtual bool IsSequential => false;

    /// <summary>Creates a node. TTL modes need <paramref name="Ttl"/>; other modes must leave it null.</summary>
    public static Op Create(string path, byte[]? data, CreateMode mode = CreateMode.Persistent,
        IReadOnlyList<Acl>? acl = null, TimeSpan? ttl = null) => new CreateOp(path, data, mode, acl, ttl);

    public static Op Delete(string path, int version = -1) => new DeleteOp(path, version);
    public static Op SetData(string path, byte[]? data, int version = -1) => new SetDataOp(path, data, version);

    /// <summary>Fails the transaction unless the node's data version is <paramref name="version"/> (−1: any).</summary>
    public static Op Check(string path, int version) => new CheckOp(path, version);

    /// <summary>For <c>multiRead</c>: the node's data and Stat.</summary>
    public static Op GetData(string path) => new GetDataOp(path);

    /// <summary>For <c>multiRead</c>: the node's children.</summary>
    public static Op GetChildren(string path) => new GetChildrenOp(path);
}

public sealed record CreateOp(string Path, byte[]? Data, CreateMode Mode, IReadOnlyList<Acl>? Acl, TimeSpan? Ttl) : Op(Path)
{
    // The opcodes the Java client picks for each mode, so a server sees the same transaction either way.
    internal override OpCode Code => Mode switch
    {
        CreateMode.Container => OpCode.CreateContainer,
        CreateMode.PersistentWithTtl or CreateMode.PersistentSequentialWithTtl => OpCode.CreateTtl,
        _ => OpCode.Create,
    };

    internal override bool IsRead => false;
    internal override bool IsSequential => CreateModes.IsSequential(Mode);

    internal override void WriteBody(JuteWriter writer, string serverPath)
    {
        var request = new CreateRequest(serverPath, Data, AclList.OrOpen(Acl), (int)Mode, CreateRequests.TtlMs(Mode, Ttl));
        if (Code == OpCode.CreateTtl) request.WriteWithTtl(writer);
        else request.Write(writer);
    }
}

public sealed record DeleteOp(string Path, int Version) : Op(Path)
{
    internal override OpCode Code => OpCode.Delete;
    internal override bool IsRead => false;
    internal override void WriteBody(JuteWriter writer, string serverPath) => new DeleteRequest(serverPath, Version).Write(writer);
}

public sealed record SetDataOp(string Path, byte[]? Data, int Version) : Op(Path)
{
    internal override OpCode Code => OpCode.SetData;
    internal override bool IsRead => false;
    internal override void WriteBody(JuteWriter writer, string serverPath) => new SetDataRequest(serverPath, Data, Version).Write(writer);
}

public sealed record CheckOp(string Path, int Version) : Op(Path)
{
    internal override OpCode Code => OpCode.Check;
    internal override bool IsRead => false;
    internal override void WriteBody(JuteWriter writer, string serverPath) => new CheckVersionRequest(serverPath, Version).Write(writer);
}

public sealed record GetDataOp(string Path) : Op(Path)
{
    internal override OpCode Code => OpCode.GetData;
    internal override bool IsRead => true;
    internal override void WriteBody(JuteWriter writer, string serverPath) => new PathWatchRequest(serverPath, false).Write(writer);
}

public sealed record GetChildrenOp(string Path) : Op(Path)
{
    internal override OpCode Code => OpCode.GetChildren;
    internal override bool IsRead => true;
    internal override void WriteBody(JuteWriter writer, string serverPath) => new PathWatchRequest(serverPath, false).Write(writer);
}

/// <summary>The outcome of one operation of a multi or multiRead.</summary>
public abstract record OpResult
{
    public sealed record Create(string Path, Stat? Stat) : OpResult;
    public sealed record Delete : OpResult;
    public sealed record SetData(Stat Stat) : OpResult;
    public sealed record Check : OpResult;
    public sealed record GetData(byte[] Data, Stat Stat) : OpResult;
    public sealed record GetChildren(IReadOnlyList<string> Children) : OpResult;

    /// <summary>
    /// The operation failed, or (code Ok or RuntimeInconsistency) was not applied because another one failed.
    /// </summary>
    public sealed record Error(ErrorCode Code) : OpResult;
}

internal static class AclList
{
    public static List<Acl> OrOpen(IReadOnlyList<Acl>? acl) => acl is null ? [.. Acl.OpenUnsafe] : [.. acl];
}

internal static class CreateRequests
{
    /// <summary>Apache's limit for a TTL: it must fit in the low 40 bits of ephemeralOwner.</summary>
    public const long MaxTtlMs = 0xFFFFFFFFFFL;

    public static long TtlMs(CreateMode mode, TimeSpan? ttl)
    {
        if (CreateModes.IsTtl(mode))
        {
            if (ttl is null) throw new ArgumentException($"create mode {mode} needs a TTL");
            long ms = (long)ttl.Value.TotalMilliseconds;
            if (ms <= 0 || ms > MaxTtlMs) throw new ArgumentOutOfRangeException(nameof(ttl), $"TTL must be 1..{MaxTtlMs} ms");
            return ms;
        }
        if (ttl is not null) throw new ArgumentException($"create mode {mode} takes no TTL; use a *WithTtl mode");
        return -1;
    }
}
