using System.IO.Compression;
using Warden.Data;
using Warden.Protocol;

namespace Warden.Storage;

/// <summary>ZxidDigest{long zxid, int version, long digest}: the tree digest Apache 3.6+ appends after the seal.</summary>
public readonly record struct ZxidDigest(long Zxid, int Version, long Digest);

/// <summary>What a snapshot holds: the tree as of its zxid, the live sessions with their timeouts.</summary>
public sealed class Snapshot
{
    public required string File { get; init; }
    public required long Zxid { get; init; }
    public required DataTree Tree { get; init; }
    public required Dictionary<long, int> SessionTimeoutsMs { get; init; }
    public ZxidDigest? Digest { get; init; }
}

/// <summary>
/// Reads and writes one <c>snapshot.&lt;zxid&gt;</c> file.
/// <code>
/// FileHeader   int magic 'ZKSN' | int version 2 | long dbid -1
/// sessions     int count, then (long sessionId, int timeoutMs) * count
/// ACL cache    int count, then (long aclRef, vector&lt;ACL{int perms, ustring scheme, ustring id}&gt;) * count
/// nodes        (ustring path, buffer data, long aclRef, StatPersisted{long czxid, long mzxid, long ctime,
///              long mtime, int version, int cversion, int aversion, long ephemeralOwner, long pzxid}) *,
///              pre-order, the root as path "", then the path "/" as the end
/// seal         long adler32 of every byte above, ustring "/"
/// [digest]     ZxidDigest, then a second seal whose adler32 covers everything before it, first seal included
/// </code>
/// Apache 3.8 writes the digest section when zookeeper.digest.enabled (the default) and reads a file without it;
/// Warden writes none, since a digest it cannot compute the way Apache does would fail Apache's comparison.
/// A name ending in <c>.gz</c> is gzip-compressed around this layout; <c>.snappy</c> is not supported.
/// </summary>
public static class SnapshotFile
{
    /// <summary>Apache refers to the built-in open ACL by this id without storing it in the cache.</summary>
    public const long OpenAclRef = -1;

    private const string EndPath = "/";

    /// <summary>
    /// Longest node data accepted while reading, so a garbled length cannot exhaust memory. Far above any
    /// jute.maxbuffer a server would run with; Apache has no such bound.
    /// </summary>
    public const int DefaultMaxFieldBytes = 256 * 1024 * 1024;

    /// <summary>Reads a whole snapshot; any damage is an <see cref="InvalidDataException"/> naming the file.</summary>
    public static Snapshot Read(string path, Action<long>? onNodesRead = null, int maxFieldBytes = DefaultMaxFieldBytes)
    {
        long zxid = StorageFiles.ZxidFromName(Path.GetFileName(path), StorageFiles.SnapshotPrefix);
        if (zxid < 0) throw new InvalidDataException($"{path} is not named snapshot.<hex zxid>");
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var stream = OpenForRead(path, file);
        try
        {
            return Read(stream, path, zxid, onNodesRead, maxFieldBytes);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or JuteException)
        {
            throw new InvalidDataException($"{path} is not a valid snapshot: {e.Message}", e);
        }
    }

    private static Stream OpenForRead(string path, FileStream file) => Path.GetExtension(path) switch
    {
        ".gz" => new BufferedStream(new GZipStream(file, CompressionMode.Decompress, leaveOpen: true), 1 << 16),
        ".snappy" => throw new InvalidDataException($"{path} is snappy-compressed, which Warden does not read"),
        _ => file,
    };

    private static Snapshot Read(Stream stream, string path, long zxid, Action<long>? onNodesRead, int maxFieldBytes)
    {
        var reader = new ChecksummedReader(stream, maxFieldBytes);
        ReadFileHeader(reader);
        var sessions = ReadSessions(reader);
        var acls = ReadAclCache(reader);
        var nodes = ReadNodes(reader, acls, onNodesRead);
        CheckSeal(reader, "first");
        ZxidDigest? digest = null;
        if (reader.TryReadLong(out long digestZxid))
        {
            digest = new ZxidDigest(digestZxid, reader.ReadInt(), reader.ReadLong());
            CheckSeal(reader, "second");
        }
        return new Snapshot
        {
            File = path, Zxid = zxid, Tree = DataTree.Restore(nodes, zxid), SessionTimeoutsMs = sessions, Digest = digest,
        };
    }

    private static void ReadFileHeader(ChecksummedReader reader)
    {
        int magic = reader.ReadInt();
        int version = reader.ReadInt();
        reader.ReadLong();
        if (magic != StorageFiles.SnapshotMagic)
        {
            throw new InvalidDataException($"magic 0x{magic:x8}, expected 0x{StorageFiles.SnapshotMagic:x8} ('ZKSN')");
        }
        if (version != StorageFiles.FormatVersion) throw new InvalidDataException($"format version {version}, expected 2");
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

    private static List<(string Path, DataNode Node)> ReadNodes(
        ChecksummedReader reader, Dictionary<long, IReadOnlyList<Acl>> acls, Action<long>? onNodesRead)
    {
        var nodes = new List<(string, DataNode)>();
        for (string path = reader.ReadString(); path != EndPath; path = reader.ReadString())
        {
            byte[]? data = reader.ReadBuffer();
            long aclRef = reader.ReadLong();
            if (!acls.TryGetValue(aclRef, out var acl)) throw new InvalidDataException($"node {path} refers to unknown ACL {aclRef}");
            long czxid = reader.ReadLong(), mzxid = reader.ReadLong(), ctime = reader.ReadLong(), mtime = reader.ReadLong();
            int version = reader.ReadInt(), cversion = reader.ReadInt(), aversion = reader.ReadInt();
            long owner = reader.ReadLong(), pzxid = reader.ReadLong();
            var node = new DataNode(data, acl, czxid, ctime, owner)
            {
                Mzxid = mzxid, MtimeMs = mtime, Version = version, Cversion = cversion, Aversion = aversion, Pzxid = pzxid,
            };
            // Apache stores the root as "" (its children then join as "" + "/" + name).
            nodes.Add((path.Length == 0 ? "/" : path, node));
            if (onNodesRead is not null && nodes.Count % 10_000 == 0) onNodesRead(nodes.Count);
        }
        return nodes;
    }

    private static void CheckSeal(ChecksummedReader reader, string which)
    {
        long expected = reader.Checksum;
        long stored = reader.ReadLong();
        reader.ReadString();
        if (stored != expected)
        {
            throw new InvalidDataException($"{which} seal checksum 0x{stored:x} does not match the content's 0x{expected:x}");
        }
    }

    /// <summary>Writes a snapshot body to a stream straight from the tree, which must not change meanwhile.</summary>
    public static void Write(Stream stream, DataTree tree, IReadOnlyDictionary<long, int> sessionTimeoutsMs) =>
        Write(stream, sessionTimeoutsMs, () => tree.PreOrder().Select(NodeImage.Of));

    /// <summary>Writes a snapshot body from an image captured earlier; safe on any thread.</summary>
    public static void Write(Stream stream, SnapshotImage image) => Write(stream, image.SessionTimeoutsMs, () => image.Nodes);

    /// <summary>Nodes are walked twice: once to build the ACL cache that precedes them, once to write them.</summary>
    private static void Write(Stream stream, IReadOnlyDictionary<long, int> sessionTimeoutsMs, Func<IEnumerable<NodeImage>> nodes)
    {
        var writer = new ChecksummedWriter(stream);
        writer.WriteInt(StorageFiles.SnapshotMagic);
        writer.WriteInt(StorageFiles.FormatVersion);
        writer.WriteLong(StorageFiles.SnapshotDbId);
        writer.WriteInt(sessionTimeoutsMs.Count);
        foreach (var (sessionId, timeoutMs) in sessionTimeoutsMs)
        {
            writer.WriteLong(sessionId);
            writer.WriteInt(timeoutMs);
        }
        var aclRefs = WriteAclCache(writer, nodes());
        foreach (var node in nodes()) WriteNode(writer, node, aclRefs[node.Acl]);
        writer.WriteString(EndPath);
        writer.WriteLong(writer.Checksum);
        writer.WriteString(EndPath);
        writer.Complete();
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
