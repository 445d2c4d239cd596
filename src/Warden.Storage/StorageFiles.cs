using System.Globalization;

namespace Warden.Storage;

/// <summary>
/// File names and headers shared by txn logs and snapshots. Both live in a <c>version-2</c> directory and are
/// named <c>prefix.&lt;zxid in lower-case hex&gt;</c>; Apache takes the zxid from the part after the first dot,
/// so a suffix such as <c>.gz</c> keeps the zxid readable.
/// </summary>
public static class StorageFiles
{
    public const string VersionDirectory = "version-2";
    public const string LogPrefix = "log";
    public const string SnapshotPrefix = "snapshot";

    /// <summary>'ZKLG' read as a big-endian int.</summary>
    public const int LogMagic = 0x5A4B4C47;

    /// <summary>'ZKSN' read as a big-endian int.</summary>
    public const int SnapshotMagic = 0x5A4B534E;

    public const int FormatVersion = 2;
    public const long LogDbId = 0;
    public const long SnapshotDbId = -1;

    /// <summary>FileHeader{int magic, int version, long dbid}: 16 bytes at the start of every file.</summary>
    public const int HeaderSize = 16;

    public static string VersionDirectoryOf(string dataDirectory) => Path.Combine(dataDirectory, VersionDirectory);

    public static string LogName(long firstZxid) => LogPrefix + "." + firstZxid.ToString("x", CultureInfo.InvariantCulture);

    public static string SnapshotName(long lastZxid) =>
        SnapshotPrefix + "." + lastZxid.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>The zxid in a file name of the given prefix, or -1 when the name is not one of ours.</summary>
    public static long ZxidFromName(string fileName, string prefix)
    {
        string[] parts = fileName.Split('.');
        if (parts.Length < 2 || parts[0] != prefix) return -1;
        return long.TryParse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long zxid)
            ? zxid
            : -1;
    }

    /// <summary>Files of one prefix in a directory, ordered by the zxid in their names (oldest first).</summary>
    public static List<(string Path, long Zxid)> List(string directory, string prefix)
    {
        var found = new List<(string Path, long Zxid)>();
        if (!Directory.Exists(directory)) return found;
        foreach (string path in Directory.EnumerateFiles(directory))
        {
            long zxid = ZxidFromName(Path.GetFileName(path), prefix);
            if (zxid >= 0) found.Add((path, zxid));
        }
        found.Sort(static (x, y) => x.Zxid.CompareTo(y.Zxid));
        return found;
    }

    /// <summary>
    /// The log files needed to read every txn after <paramref name="zxid"/>: the newest one that starts at or
    /// before it (it may hold later txns too) and every one after. This is Apache's FileTxnLog.getLogFiles rule.
    /// </summary>
    public static List<(string Path, long Zxid)> LogsFrom(string logDirectory, long zxid)
    {
        var logs = List(logDirectory, LogPrefix);
        long startOfCovering = 0;
        foreach (var (_, fileZxid) in logs)
        {
            if (fileZxid > zxid) break;
            startOfCovering = Math.Max(startOfCovering, fileZxid);
        }
        return logs.FindAll(log => log.Zxid >= startOfCovering);
    }
}
