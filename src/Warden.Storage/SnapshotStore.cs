using System.IO.Compression;
using Warden.Data;

namespace Warden.Storage;

/// <summary>A snapshot that could not be used, and why.</summary>
public sealed record SkippedSnapshot(string File, string Reason);

/// <summary>The snapshots of one <c>version-2</c> directory: taking a new one durably, finding the newest good one.</summary>
public static class SnapshotStore
{
    /// <summary>
    /// Writes <c>snapshot.&lt;zxid&gt;</c> (with <c>.gz</c> when <paramref name="gzip"/>) through a temporary file,
    /// fsyncs it and renames it into place, so a crash leaves either no snapshot or a whole one. The temporary
    /// name starts with "tmp." so Apache, which parses any name starting "snapshot.", never takes it for one.
    /// </summary>
    public static string Write(string snapshotDirectory, DataTree tree, IReadOnlyDictionary<long, int> sessionTimeoutsMs,
        long zxid, bool gzip = false) =>
        Write(snapshotDirectory, zxid, gzip, stream => SnapshotFile.Write(stream, tree, sessionTimeoutsMs));

    /// <summary>Writes a captured image durably, as above; meant for a thread other than the tree's owner.</summary>
    public static string Write(string snapshotDirectory, SnapshotImage image, bool gzip = false) =>
        Write(snapshotDirectory, image.Zxid, gzip, stream => SnapshotFile.Write(stream, image));

    /// <summary>Writes a snapshot durably, as above, around a body already encoded (a SNAP stream's).</summary>
    public static string Write(string snapshotDirectory, long zxid, ReadOnlyMemory<byte> encodedBody, bool gzip = false) =>
        Write(snapshotDirectory, zxid, gzip, stream => SnapshotFile.Write(stream, encodedBody.Span));

    /// <summary>
    /// Deletes the snapshots named with a zxid above <paramref name="zxid"/>: after a TRUNC or a SNAP they hold
    /// txns the leader discarded, and loading would otherwise prefer them as the newest.
    /// </summary>
    public static List<string> DeleteNewerThan(string snapshotDirectory, long zxid)
    {
        var deleted = new List<string>();
        foreach (var (path, snapshotZxid) in NewestFirst(snapshotDirectory))
        {
            if (snapshotZxid <= zxid) break;
            File.Delete(path);
            deleted.Add(path);
        }
        return deleted;
    }

    private static string Write(string snapshotDirectory, long zxid, bool gzip, Action<Stream> writeBody)
    {
        Directory.CreateDirectory(snapshotDirectory);
        string name = StorageFiles.SnapshotName(zxid) + (gzip ? ".gz" : "");
        string finalPath = Path.Combine(snapshotDirectory, name);
        string tempPath = Path.Combine(snapshotDirectory, "tmp." + name);
        try
        {
            using (var file = new FileStream(tempPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                if (gzip)
                {
                    using var compressed = new GZipStream(file, CompressionLevel.Fastest, leaveOpen: true);
                    using var buffered = new BufferedStream(compressed, 1 << 16);
                    writeBody(buffered);
                }
                else
                {
                    writeBody(file);
                }
                file.Flush(flushToDisk: true);
            }
            File.Move(tempPath, finalPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(tempPath)) File.Delete(tempPath);
        }
        return finalPath;
    }

    /// <summary>Snapshot files, newest first.</summary>
    public static List<(string Path, long Zxid)> NewestFirst(string snapshotDirectory)
    {
        var snapshots = StorageFiles.List(snapshotDirectory, StorageFiles.SnapshotPrefix);
        snapshots.Reverse();
        return snapshots;
    }

    /// <summary>
    /// Reads the newest snapshot that passes its checksums, falling back to older ones (Apache tries up to 100);
    /// null when there is none at all. Each unusable file is reported through <paramref name="skipped"/>.
    /// Throws when snapshots exist but none is readable: starting empty would silently drop the whole tree.
    /// </summary>
    public static Snapshot? ReadNewestValid(string snapshotDirectory, Action<SkippedSnapshot>? skipped = null,
        Action<long>? onNodesRead = null)
    {
        var candidates = NewestFirst(snapshotDirectory);
        if (candidates.Count == 0) return null;
        var reasons = new List<SkippedSnapshot>();
        foreach (var (path, _) in candidates.Take(100))
        {
            try
            {
                return SnapshotFile.Read(path, onNodesRead);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                var skip = new SkippedSnapshot(path, e.Message);
                reasons.Add(skip);
                skipped?.Invoke(skip);
            }
        }
        throw new InvalidDataException(
            $"no valid snapshot in {snapshotDirectory}: " + string.Join("; ", reasons.Select(r => r.Reason)));
    }
}
