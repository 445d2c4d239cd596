using Warden.Protocol;

namespace Warden.Data;

/// <summary>How a node's ephemeralOwner field is read (Apache's EphemeralType).</summary>
public static class EphemeralOwner
{
    public const long Container = unchecked((long)0x8000000000000000UL);
    private const long TtlMask = unchecked((long)0xFF00000000000000UL);
    public const long MaxTtlMs = 0xFFFFFFFFFFL;

    public static bool IsContainer(long owner) => owner == Container;
    public static bool IsTtl(long owner) => owner != Container && (owner & TtlMask) == TtlMask;
    public static bool IsSession(long owner) => owner != 0 && !IsContainer(owner) && !IsTtl(owner);
    public static long ForTtl(long ttlMs) => TtlMask | ttlMs;
    public static long TtlOf(long owner) => owner & ~TtlMask;

    /// <summary>Clients see 0 for containers and TTL nodes; only sessions show as owners.</summary>
    public static long ForClient(long owner) => IsSession(owner) ? owner : 0;
}

/// <summary>
/// One znode: its data, ACL and persisted stat. numChildren and dataLength are derived, and the cversion
/// stored here counts child creations only; clients see it through <see cref="ToStat"/>, as Apache computes it.
/// </summary>
public sealed class DataNode
{
    private JavaOrderedSet? _children;

    public DataNode(byte[]? data, IReadOnlyList<Acl> acl, long czxid, long ctimeMs, long ephemeralOwner)
    {
        Data = data;
        Acl = acl;
        Czxid = czxid;
        Mzxid = czxid;
        Pzxid = czxid;
        CtimeMs = ctimeMs;
        MtimeMs = ctimeMs;
        EphemeralOwner = ephemeralOwner;
    }

    public byte[]? Data { get; set; }
    public IReadOnlyList<Acl> Acl { get; set; }
    public long Czxid { get; set; }
    public long Mzxid { get; set; }
    public long CtimeMs { get; set; }
    public long MtimeMs { get; set; }
    public int Version { get; set; }
    public int Cversion { get; set; }
    public int Aversion { get; set; }
    public long EphemeralOwner { get; set; }
    public long Pzxid { get; set; }

    public int ChildCount => _children?.Count ?? 0;

    /// <summary>Children in the order Apache ZooKeeper lists them.</summary>
    public IReadOnlyList<string> Children => _children is null ? [] : _children.Ordered();

    public bool HasChild(string name) => _children?.Contains(name) ?? false;

    public bool AddChild(string name) => (_children ??= new JavaOrderedSet(8)).Add(name);

    public bool RemoveChild(string name) => _children?.Remove(name) ?? false;

    /// <summary>The stat a client sees: cversion derived from child creations and the current child count.</summary>
    public Stat ToStat()
    {
        int numChildren = ChildCount;
        return new Stat(Czxid, Mzxid, CtimeMs, MtimeMs, Version, Cversion * 2 - numChildren, Aversion,
            Warden.Data.EphemeralOwner.ForClient(EphemeralOwner), Data?.Length ?? 0, numChildren, Pzxid);
    }
}
