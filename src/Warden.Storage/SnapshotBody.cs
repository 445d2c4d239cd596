using Warden.Data;
using Warden.Protocol;

namespace Warden.Storage;

/// <summary>
/// The records Apache's SerializeUtils.serializeSnapshot writes: the sessions, then DataTree.serialize (the ACL
/// cache, then the nodes ended by the path "/"). They are the body of a snapshot file between its header and its
/// seal, and the whole of the SNAP stream a leader sends a learner, so both use this one codec.
/// <code>
/// sessions     int count, then (long sessionId, int timeoutMs) * count
/// ACL cache    int count, then (long aclRef, vector&lt;ACL{int perms, ustring scheme, ustring id}&gt;) * count
/// nodes        (ustring path, buffer data, long aclRef, StatPersisted{long czxid, long mzxid, long ctime,
///              long mtime, int version, int cversion, int aversion, long ephemeralOwner, long pzxid}) *,
///              pre-order, the root as path "", then the path "/" as the end
/// </code>
/// </summary>
internal static class SnapshotBody
{
    /// <summary>Apache refers to the built-in open ACL by this id without storing it in the cache.</summary>
    public const long OpenAclRef = -1;

    public const string EndPath = "/";

    /// <summary>
    /// Reads the sessions and the tree, up to and including the "/" that ends the nodes. Each node goes into the tree
    /// as it is read, so a million nodes never wait in a list of their own beside the tree they make.
    /// </summary>
    public static (Dictionary<long, int> Sessions, DataTree Tree) Read(ChecksummedReader reader, long zxid, Action<long>? onNodesRead)
    {
        var sessions = ReadSessions(reader);
        var acls = ReadAclCache(reader);
        return (sessions, DataTree.Restore(ReadNodes(reader, acls, onNodesRead), zxid));
    }

    /// <summary>Writes sessions and tree. Nodes are walked twice: once to build the ACL cache that precedes them, once to write them.</summary>
    public static void Write(ChecksummedWriter writer, IReadOnlyDictionary<long, int> sessionTimeoutsMs,
        Func<IEnumerable<NodeImage>> nodes)
    {
        writer.WriteInt(sessionTimeoutsMs.Count);
        foreach (var (sessionId, timeoutMs) in sessionTimeoutsMs)
        {
            writer.WriteLong(sessionId);
            writer.WriteInt(timeoutMs);
        }
        var aclRefs = WriteAclCache(writer, nodes());
        foreach (var node in nodes()) WriteNode(writer, node, aclRefs[node.Acl]);
        writer.WriteString(EndPath);
    }

    private static Dictionary<long, int> ReadSessions(ChecksummedReader reader)
    {
        int count = reader.ReadInt();
        if (count < 0) throw new InvalidDataException($"negative session count {count}");
        var sessions = new Dictionary<long, int>();
        for (int i = 0; i < count; i++) sessions[reader.ReadLong()] = reader.ReadInt();
        return sessions;
    }

    private static Dictionary<long, IReadOnlyList<Acl>> ReadAclCache(ChecksummedReader reader)
    {
        int count = reader.ReadInt();
        if (count < 0) throw new InvalidDataException($"negative ACL cache size {count}");
        var acls = new Dictionary<long, IReadOnlyList<Acl>> { [OpenAclRef] = Acl.OpenUnsafe };
        for (int i = 0; i < count; i++)
        {
            long aclRef = reader.ReadLong();
            acls[aclRef] = reader.ReadAcls();
        }
        return acls;
    }

    private static IEnumerable<(string Path, StoredNode Node)> ReadNodes(
        ChecksummedReader reader, Dictionary<long, IReadOnlyList<Acl>> acls, Action<long>? onNodesRead)
    {
        long count = 0;
        for (string path = reader.ReadString(); path != EndPath; path = reader.ReadString())
        {
            byte[]? data = reader.ReadBuffer();
            long aclRef = reader.ReadLong();
            if (!acls.TryGetValue(aclRef, out var acl)) throw new InvalidDataException($"node {path} refers to unknown ACL {aclRef}");
            long czxid = reader.ReadLong(), mzxid = reader.ReadLong(), ctime = reader.ReadLong(), mtime = reader.ReadLong();
            int version = reader.ReadInt(), cversion = reader.ReadInt(), aversion = reader.ReadInt();
            long owner = reader.ReadLong(), pzxid = reader.ReadLong();
            // Apache stores the root as "" (its children then join as "" + "/" + name).
            yield return (path.Length == 0 ? "/" : path,
                new StoredNode(data, acl, czxid, mzxid, ctime, mtime, version, cversion, aversion, owner, pzxid));
            count++;
            if (onNodesRead is not null && count % 10_000 == 0) onNodesRead(count);
        }
    }

    /// <summary>Gives each distinct ACL list an id from 1, as Apache's ACL cache does, and writes the cache.</summary>
    private static Dictionary<IReadOnlyList<Acl>, long> WriteAclCache(ChecksummedWriter writer, IEnumerable<NodeImage> nodes)
    {
        var aclRefs = new Dictionary<IReadOnlyList<Acl>, long>(AclListComparer.Instance);
        foreach (var node in nodes)
        {
            if (!aclRefs.ContainsKey(node.Acl)) aclRefs[node.Acl] = aclRefs.Count + 1;
        }
        writer.WriteInt(aclRefs.Count);
        foreach (var (acl, aclRef) in aclRefs)
        {
            writer.WriteLong(aclRef);
            writer.WriteAcls(acl);
        }
        return aclRefs;
    }

    private static void WriteNode(ChecksummedWriter writer, NodeImage node, long aclRef)
    {
        // Apache stores the root as "" so that its children's paths are "" + "/" + name.
        writer.WriteString(node.Path == "/" ? "" : node.Path);
        writer.WriteBuffer(node.Data);
        writer.WriteLong(aclRef);
        writer.WriteLong(node.Czxid);
        writer.WriteLong(node.Mzxid);
        writer.WriteLong(node.CtimeMs);
        writer.WriteLong(node.MtimeMs);
        writer.WriteInt(node.Version);
        writer.WriteInt(node.Cversion);
        writer.WriteInt(node.Aversion);
        writer.WriteLong(node.EphemeralOwner);
        writer.WriteLong(node.Pzxid);
    }

    private sealed class AclListComparer : IEqualityComparer<IReadOnlyList<Acl>>
    {
        public static readonly AclListComparer Instance = new();

        public bool Equals(IReadOnlyList<Acl>? x, IReadOnlyList<Acl>? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && x.SequenceEqual(y));

        public int GetHashCode(IReadOnlyList<Acl> acls)
        {
            var hash = new HashCode();
            foreach (var acl in acls) hash.Add(acl);
            return hash.ToHashCode();
        }
    }
}
