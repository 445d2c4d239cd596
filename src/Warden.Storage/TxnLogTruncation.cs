namespace Warden.Storage;

/// <summary>What a truncation removed.</summary>
/// <param name="DeletedFiles">Log files that held only txns above the zxid, newest first.</param>
/// <param name="CutFile">The file that held the zxid and was cut after it, or null when none needed cutting.</param>
/// <param name="CutAtOffset">Where that file now ends, or -1.</param>
/// <param name="LastKeptZxid">The last txn left in the log, or -1 when the scanned file kept none.</param>
public sealed record TxnLogTruncationResult(
    IReadOnlyList<string> DeletedFiles, string? CutFile, long CutAtOffset, long LastKeptZxid);

/// <summary>
/// Removes every logged txn above a zxid, as a learner does on TRUNC (Apache's FileTxnLog.truncate): log files
/// that start above it are deleted, and the file holding it is cut at the boundary of the first entry above it.
/// </summary>
/// <remarks>
/// Apache positions its iterator on the first txn at or above the zxid and cuts after that txn, so when the zxid
/// itself is not in the log it keeps one txn too many; Warden cuts exactly above the zxid.
/// Later files are deleted before the cut, newest first, so a crash part way leaves a shorter prefix of the same
/// history rather than a log with a hole in it. Run it again after such a crash to finish. The cut is fsynced;
/// deletions are durable once the directory is (.NET has no portable directory fsync; Apache does not do it either).
/// </remarks>
public static class TxnLogTruncation
{
    /// <summary>Leaves in <paramref name="logDirectory"/> only the txns with zxid at most <paramref name="zxid"/>.</summary>
    /// <exception cref="TxnLogCorruptException">The file to cut is damaged before the cut point.</exception>
    public static TxnLogTruncationResult TruncateAfter(string logDirectory, long zxid)
    {
        var logs = StorageFiles.List(logDirectory, StorageFiles.LogPrefix);
        var deleted = new List<string>();
        for (int i = logs.Count - 1; i >= 0 && logs[i].Zxid > zxid; i--)
        {
            File.Delete(logs[i].Path);
            deleted.Add(logs[i].Path);
        }
        var covering = logs.Take(logs.Count - deleted.Count).LastOrDefault();
        if (covering.Path is null) return new TxnLogTruncationResult(deleted, null, -1, -1);
        return Cut(covering.Path, zxid, deleted);
    }

    /// <summary>Cuts one file at the start of its first entry above <paramref name="zxid"/>, if it has one.</summary>
    private static TxnLogTruncationResult Cut(string path, long zxid, List<string> deleted)
    {
        long lastKept = -1;
        long cutAt = -1;
        // A torn tail is left for recovery to report and cut; only a valid entry above the zxid matters here.
        foreach (var logged in new TxnLogReader(Path.GetDirectoryName(path)!).ReadFile(path))
        {
            if (logged.Entry.Zxid > zxid)
            {
                cutAt = logged.Offset;
                break;
            }
            lastKept = logged.Entry.Zxid;
        }
        if (cutAt < 0) return new TxnLogTruncationResult(deleted, null, -1, lastKept);
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read))
        {
            file.SetLength(cutAt);
            file.Flush(flushToDisk: true);
        }
        return new TxnLogTruncationResult(deleted, path, cutAt, lastKept);
    }
}
