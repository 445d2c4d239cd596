using Warden.Data;
using Warden.Protocol;

namespace Warden.Storage;

/// <summary>How far loading has come: which phase, how many nodes or txns, and how fast.</summary>
public readonly record struct LoadProgress(string Phase, long Done, long LastZxid, TimeSpan Elapsed, string? File)
{
    public double PerSecond => Elapsed.TotalSeconds > 0 ? Done / Elapsed.TotalSeconds : 0;

    public override string ToString() =>
        $"{Phase}: {Done} after {Elapsed.TotalSeconds:F1}s ({PerSecond:F0}/s), zxid 0x{LastZxid:x}" + (File is null ? "" : $" in {File}");
}

/// <summary>The state recovered from disk.</summary>
public sealed class LoadResult
{
    public required DataTree Tree { get; init; }

    /// <summary>Live sessions and their timeouts: the snapshot's, plus createSession and minus closeSession replayed.</summary>
    public required Dictionary<long, int> SessionTimeoutsMs { get; init; }

    /// <summary>The zxid of the last txn applied (the snapshot's when no txn followed); 0 for a fresh directory.</summary>
    public required long LastZxid { get; init; }

    public string? SnapshotFile { get; init; }
    public int TxnsReplayed { get; init; }
    public IReadOnlyList<TornTail> TornTails { get; init; } = [];
    public IReadOnlyList<SkippedSnapshot> SkippedSnapshots { get; init; } = [];
}

/// <summary>
/// The snapshots of dataDir and the txn log of dataLogDir as one store, like Apache's FileTxnSnapLog: load the
/// newest valid snapshot and replay the log after it, append txns, take snapshots, purge old files.
/// </summary>
public sealed partial class Database
{
    private readonly TimeProvider _time;

    /// <param name="dataDirectory">Apache's dataDir; snapshots go in its version-2 folder.</param>
    /// <param name="dataLogDirectory">Apache's dataLogDir; null means the same as dataDir.</param>
    public Database(string dataDirectory, string? dataLogDirectory = null, TxnLogOptions? logOptions = null,
        TimeProvider? timeProvider = null)
    {
        SnapshotDirectory = StorageFiles.VersionDirectoryOf(dataDirectory);
        LogDirectory = StorageFiles.VersionDirectoryOf(dataLogDirectory ?? dataDirectory);
        LogOptions = logOptions ?? new TxnLogOptions();
        _time = timeProvider ?? TimeProvider.System;
    }

    public string SnapshotDirectory { get; }
    public string LogDirectory { get; }
    public TxnLogOptions LogOptions { get; }

    /// <summary>How often replay reports progress.</summary>
    public int ProgressEveryTxns { get; init; } = 10_000;

    /// <summary>
    /// Recovers the tree: newest valid snapshot, then every logged txn after it, cutting a torn log tail. A fresh
    /// directory gets snapshot.0 at once, as Apache writes it, so that Apache accepts the directory later.
    /// </summary>
    public LoadResult Load(Action<LoadProgress>? progress = null)
    {
        long started = _time.GetTimestamp();
        var skipped = new List<SkippedSnapshot>();
        var snapshot = SnapshotStore.ReadNewestValid(SnapshotDirectory, skipped.Add,
            nodes => progress?.Invoke(new LoadProgress("snapshot", nodes, 0, _time.GetElapsedTime(started), null)));
        if (snapshot is null) return LoadWithoutSnapshot(progress);

        var tree = snapshot.Tree;
        var sessions = snapshot.SessionTimeoutsMs;
        var reader = new TxnLogReader(LogDirectory, repairTornTails: true);
        int replayed = Replay(reader, tree, sessions, snapshot.Zxid, progress, started);
        return new LoadResult
        {
            Tree = tree, SessionTimeoutsMs = sessions, LastZxid = Math.Max(snapshot.Zxid, tree.LastProcessedZxid),
            SnapshotFile = snapshot.File, TxnsReplayed = replayed, TornTails = reader.TornTails, SkippedSnapshots = skipped,
        };
    }

    private LoadResult LoadWithoutSnapshot(Action<LoadProgress>? progress)
    {
        var logs = StorageFiles.List(LogDirectory, StorageFiles.LogPrefix);
        if (logs.Count > 0)
        {
            // Apache refuses this too: the txns before the oldest log may be gone, and an empty tree would hide that.
            throw new InvalidDataException(
                $"{LogDirectory} has txn logs but {SnapshotDirectory} has no snapshot, so the tree cannot be rebuilt; " +
                "restore the snapshot files or point dataDir at the directory that holds them");
        }
        var tree = new DataTree();
        var sessions = new Dictionary<long, int>();
        string file = TakeSnapshot(tree, sessions, 0);
        progress?.Invoke(new LoadProgress("fresh", 0, 0, TimeSpan.Zero, file));
        return new LoadResult { Tree = tree, SessionTimeoutsMs = sessions, LastZxid = 0, SnapshotFile = file };
    }

    private int Replay(TxnLogReader reader, DataTree tree, Dictionary<long, int> sessions, long snapshotZxid,
        Action<LoadProgress>? progress, long started)
    {
        int replayed = 0;
        long lastZxid = snapshotZxid;
        foreach (var logged in reader.ReadLoggedFrom(snapshotZxid + 1))
        {
            var entry = logged.Entry;
            CheckNoGap(logged, lastZxid);
            ApplyToSessions(entry, sessions);
            tree.Apply(entry.Header, entry.Txn);
            lastZxid = entry.Zxid;
            replayed++;
            if (progress is not null && replayed % ProgressEveryTxns == 0)
            {
                progress(new LoadProgress("log", replayed, lastZxid, _time.GetElapsedTime(started), logged.File));
            }
        }
        progress?.Invoke(new LoadProgress("done", replayed, lastZxid, _time.GetElapsedTime(started), null));
        return replayed;
    }

    /// <summary>
    /// Within an epoch every txn is logged, so the counter rises by one; a jump means log files are missing and
    /// replaying past it would build a tree no server ever had. Apache does not check this.
    /// </summary>
    private static void CheckNoGap(LoggedTxn logged, long lastZxid)
    {
        var previous = new Zxid(lastZxid);
        var next = new Zxid(logged.Entry.Zxid);
        if (next.Epoch == previous.Epoch && next.Counter != previous.Counter + 1)
        {
            throw new TxnLogCorruptException(logged.File, logged.Offset,
                $"txns between {previous} and {next} are missing; the log files that held them were lost or deleted");
        }
    }

    private static void ApplyToSessions(TxnLogEntry entry, Dictionary<long, int> sessions)
    {
        switch (entry.Txn)
        {
            case CreateSessionTxn create:
                sessions[entry.Header.ClientId] = create.TimeoutMs;
                break;
            case CloseSessionTxn:
                sessions.Remove(entry.Header.ClientId);
                break;
        }
    }

    /// <summary>A writer for new txns. Call after <see cref="Load"/>; it starts a new log file.</summary>
    public TxnLogWriter OpenLogWriter() => new(LogDirectory, LogOptions);

    /// <summary>Writes snapshot.&lt;lastZxid&gt; durably (temp file, fsync, rename). The tree must hold still meanwhile.</summary>
    public string TakeSnapshot(DataTree tree, IReadOnlyDictionary<long, int> sessionTimeoutsMs, long lastZxid, bool gzip = false) =>
        SnapshotStore.Write(SnapshotDirectory, tree, sessionTimeoutsMs, lastZxid, gzip);

    /// <summary>Writes a snapshot from an image captured on the tree's thread; the tree may change meanwhile.</summary>
    public string TakeSnapshot(SnapshotImage image, bool gzip = false) => SnapshotStore.Write(SnapshotDirectory, image, gzip);

    /// <summary>Keeps the newest <paramref name="retainSnapshots"/> snapshots (at least 3) and the logs they need.</summary>
    public PurgeResult Purge(int retainSnapshots = 3) => Purger.Purge(SnapshotDirectory, LogDirectory, retainSnapshots);
}
