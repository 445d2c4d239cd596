using Warden.Data;
using Warden.Protocol;

namespace Warden.Storage;

/// <summary>One node's persisted fields, copied out of the tree.</summary>
public readonly record struct NodeImage(
    string Path, byte[]? Data, IReadOnlyList<Acl> Acl, long Czxid, long Mzxid, long CtimeMs, long MtimeMs,
    int Version, int Cversion, int Aversion, long EphemeralOwner, long Pzxid)
{
    public static NodeImage Of((string Path, DataNode Node) entry)
    {
        var node = entry.Node;
        return new NodeImage(entry.Path, node.Data, node.Acl, node.Czxid, node.Mzxid, node.CtimeMs, node.MtimeMs,
            node.Version, node.Cversion, node.Aversion, node.EphemeralOwner, node.Pzxid);
    }
}

/// <summary>
/// A consistent copy of the tree and sessions at one zxid, cheap to take on the thread that owns the tree and
/// slow part (encoding, compressing, fsync) left to any other thread. Node data and ACL lists are shared, not
/// copied: the tree replaces them on setData and setACL rather than changing them in place.
/// Unlike Apache's fuzzy snapshot, the image holds exactly the txns up to <see cref="Zxid"/>.
/// </summary>
public sealed class SnapshotImage
{
    private SnapshotImage(long zxid, List<NodeImage> nodes, Dictionary<long, int> sessions)
    {
        Zxid = zxid;
        Nodes = nodes;
        SessionTimeoutsMs = sessions;
    }

    public long Zxid { get; }
    public IReadOnlyList<NodeImage> Nodes { get; }
    public IReadOnlyDictionary<long, int> SessionTimeoutsMs { get; }

    /// <summary>Copies the tree in snapshot order. Call it where no txn can be applied meanwhile.</summary>
    public static SnapshotImage Capture(DataTree tree, IReadOnlyDictionary<long, int> sessionTimeoutsMs, long zxid)
    {
        var nodes = new List<NodeImage>(tree.NodeCount);
        foreach (var entry in tree.PreOrder()) nodes.Add(NodeImage.Of(entry));
        return new SnapshotImage(zxid, nodes, new Dictionary<long, int>(sessionTimeoutsMs));
    }
}
