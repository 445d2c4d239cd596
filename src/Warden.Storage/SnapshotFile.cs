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
/// body         sessions, ACL cache, nodes ended by "/" (drawn on <see cref="SnapshotBody"/>; the SNAP stream too)
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
    public const long OpenAclRef = SnapshotBody.OpenAclRef;

    private const string EndPath = SnapshotBody.EndPath;

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
        var (sessions, tree) = SnapshotBody.Read(reader, zxid, onNodesRead);
        CheckSeal(reader, "first");
        ZxidDigest? digest = null;
        if (reader.TryReadLong(out long digestZxid))
        {
            digest = new ZxidDigest(digestZxid, reader.ReadInt(), reader.ReadLong());
            CheckSeal(reader, "second");
        }
        return new Snapshot
        {
            File = path, Zxid = zxid, Tree = tree, SessionTimeoutsMs = sessions, Digest = digest,
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

    /// <summary>
    /// Writes a snapshot around a body already encoded, such as a SNAP stream without its signature, so a learner
    /// stores the leader's bytes as they came.
    /// </summary>
    public static void Write(Stream stream, ReadOnlySpan<byte> encodedBody)
    {
        var writer = StartFile(stream);
        writer.WriteRaw(encodedBody);
        Seal(writer);
    }

    private static void Write(Stream stream, IReadOnlyDictionary<long, int> sessionTimeoutsMs, Func<IEnumerable<NodeImage>> nodes)
    {
        var writer = StartFile(stream);
        SnapshotBody.Write(writer, sessionTimeoutsMs, nodes);
        Seal(writer);
    }

    private static ChecksummedWriter StartFile(Stream stream)
    {
        var writer = new ChecksummedWriter(stream);
        writer.WriteInt(StorageFiles.SnapshotMagic);
        writer.WriteInt(StorageFiles.FormatVersion);
        writer.WriteLong(StorageFiles.SnapshotDbId);
        return writer;
    }

    private static void Seal(ChecksummedWriter writer)
    {
        writer.WriteLong(writer.Checksum);
        writer.WriteString(EndPath);
        writer.Complete();
    }
}
