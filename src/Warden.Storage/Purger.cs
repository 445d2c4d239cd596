namespace Warden.Storage;

/// <summary>What a purge removed and kept.</summary>
public sealed record PurgeResult(IReadOnlyList<string> Deleted, IReadOnlyList<string> KeptSnapshots, long OldestKeptZxid);

/// <summary>
/// Deletes snapshots and logs that recovery can no longer need, by Apache's PurgeTxnLog rule: keep the newest N
/// valid-looking snapshots; delete every snapshot and log named with a smaller zxid than the oldest kept one,
/// except the newest log that starts at or before it (it may hold the txns that follow that snapshot).
/// Called by the CLI's purge command and by autopurge.
/// </summary>
public static class Purger
{
    public const int MinimumRetained = 3;

    public static PurgeResult Purge(string snapshotDirectory, string logDirectory, int retainSnapshots)
    {
        if (retainSnapshots < MinimumRetained)
        {
            throw new ArgumentOutOfRangeException(nameof(retainSnapshots), retainSnapshots,
                $"at least {MinimumRetained} snapshots must be kept (autopurge.snapRetainCount)");
        }
        var kept = SnapshotStore.NewestFirst(snapshotDirectory).Where(s => LooksComplete(s.Path)).Take(retainSnapshots).ToList();
        if (kept.Count == 0) return new PurgeResult([], [], -1);
        long oldestKept = kept[^1].Zxid;

        var neededLogs = StorageFiles.LogsFrom(logDirectory, oldestKept).Select(l => l.Path).ToHashSet();
        var doomed = StorageFiles.List(logDirectory, StorageFiles.LogPrefix)
            .Where(l => l.Zxid < oldestKept && !neededLogs.Contains(l.Path))
            .Concat(StorageFiles.List(snapshotDirectory, StorageFiles.SnapshotPrefix).Where(s => s.Zxid < oldestKept))
            .Select(f => f.Path)
            .ToList();
        foreach (string path in doomed) File.Delete(path);
        return new PurgeResult(doomed, kept.Select(s => s.Path).ToList(), oldestKept);
    }

    /// <summary>
    /// Apache's cheap validity test (SnapStream.isValidSnapshot): a plain snapshot must end with the seal's
    /// "/" (int 1, byte '/'); a gzip one must start with the gzip magic. A snapshot cut short by a crash is not
    /// counted among those kept, so it cannot push a good one out.
    /// </summary>
    public static bool LooksComplete(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        Span<byte> bytes = stackalloc byte[5];
        if (path.EndsWith(".gz", StringComparison.Ordinal))
        {
            return file.Length >= 2 && file.ReadAtLeast(bytes[..2], 2, false) == 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
        }
        if (file.Length < 10) return false;
        file.Position = file.Length - 5;
        file.ReadExactly(bytes);
        return bytes is [0, 0, 0, 1, (byte)'/'];
    }
}
