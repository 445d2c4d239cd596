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
/// A view of one znode in a <see cref="DataTree"/>: its data, ACL and persisted stat, read from the tree's store.
/// numChildren and dataLength are derived, and the cversion stored here counts child creations only; clients see
/// it through <see cref="ToStat"/>, as Apache computes it. A view is good until the node is deleted; read what
/// you need from it before applying more transactions.
/// </summary>
public sealed class DataNode
{
    private readonly NodeStore _store;
    private readonly AclCache _acls;
    private readonly int _index;

    internal DataNode(NodeStore store, AclCache acls, int index)
    {
        _store = store;
        _acls = acls;
        _index = index;
    }

    private ref NodeSlot Slot => ref _store[_index];

    public byte[]? Data => Slot.Data;
    public IReadOnlyList<Acl> Acl => _acls[Slot.AclIndex];
    public long Czxid => Slot.Czxid;
    public long Mzxid => Slot.Mzxid;
    public long CtimeMs => Slot.CtimeMs;
    public long MtimeMs => Slot.MtimeMs;
    public int Version => Slot.Version;
    public int Cversion => Slot.Cversion;
    public int Aversion => Slot.Aversion;
    public long EphemeralOwner => Slot.EphemeralOwner;
    public long Pzxid => Slot.Pzxid;

    public int ChildCount => Slot.ChildCount;

    /// <summary>Children in the order Apache ZooKeeper lists them; the list is never changed afterwards.</summary>
    public IReadOnlyList<string> Children => _store.OrderedChildren(_index);

    public bool HasChild(string name) => _store.FindChild(_index, name, JavaHashOrder.StringHash(name)) != NodeStore.None;

    /// <summary>The stat a client sees: cversion derived from child creations and the current child count.</summary>
    public Stat ToStat() => ToStat(ref Slot);

    internal static Stat ToStat(ref NodeSlot slot)
    {
        int numChildren = slot.ChildCount;
        return new Stat(slot.Czxid, slot.Mzxid, slot.CtimeMs, slot.MtimeMs, slot.Version, slot.Cversion * 2 - numChildren,
            slot.Aversion, Warden.Data.EphemeralOwner.ForClient(slot.EphemeralOwner), slot.Data?.Length ?? 0, numChildren,
            slot.Pzxid);
    }
}

/// <summary>A node's persisted fields as a snapshot stores them, for building a tree with <see cref="DataTree.Restore"/>.</summary>
public readonly record struct StoredNode(
    byte[]? Data, IReadOnlyList<Acl> Acl, long Czxid, long Mzxid, long CtimeMs, long MtimeMs,
    int Version, int Cversion, int Aversion, long EphemeralOwner, long Pzxid);
