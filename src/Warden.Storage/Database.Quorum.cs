using Warden.Data;

namespace Warden.Storage;

/// <summary>One logged txn: its zxid and its buffer bytes as stored, which are exactly a PROPOSAL's data.</summary>
public readonly record struct LoggedProposal(long Zxid, byte[] Data);

/// <summary>
/// What an ensemble member recovers: the newest valid snapshot only, and the txns logged after it left unapplied,
/// since storage cannot tell which of them a quorum committed; the consensus core decides.
/// </summary>
public sealed class QuorumLoadResult
{
    /// <summary>The snapshot's tree, its last processed zxid set to <see cref="SnapshotZxid"/>.</summary>
    public required DataTree Tree { get; init; }

    /// <summary>The snapshot's sessions and their timeouts; logged createSession/closeSession are not applied.</summary>
    public required Dictionary<long, int> SessionTimeoutsMs { get; init; }

    /// <summary>The zxid the snapshot is named by; 0 for a fresh directory.</summary>
    public required long SnapshotZxid { get; init; }

    /// <summary>Every txn logged after the snapshot, in zxid order, with no gap within an epoch.</summary>
    public required IReadOnlyList<LoggedProposal> LoggedAfterSnapshot { get; init; }

    /// <summary>The last logged txn's zxid, or <see cref="SnapshotZxid"/> when none follows the snapshot.</summary>
    public required long LastLoggedZxid { get; init; }

    public string? SnapshotFile { get; init; }
    public IReadOnlyList<TornTail> TornTails { get; init; } = [];
    public IReadOnlyList<SkippedSnapshot> SkippedSnapshots { get; init; } = [];
}

/// <summary>What <see cref="Database.TruncateAfter"/> removed: log txns and snapshots above the zxid.</summary>
public sealed record DatabaseTruncationResult(TxnLogTruncationResult Log, IReadOnlyList<string> DeletedSnapshots);

/// <summary>The ensemble member's side of the store: recovery without replay, TRUNC, and SNAP.</summary>
public sealed partial class Database
{
    /// <summary>
    /// Recovers for an ensemble member: the newest valid snapshot, and the txns logged after it as bytes, cutting a
    /// torn log tail as <see cref="Load"/> does. A fresh directory gets snapshot.0, as Apache's restore writes it.
    /// </summary>
    public QuorumLoadResult LoadForQuorum(Action<LoadProgress>? progress = null)
    {
        long started = _time.GetTimestamp();
        var skipped = new List<SkippedSnapshot>();
        var snapshot = SnapshotStore.ReadNewestValid(SnapshotDirectory, skipped.Add,
            nodes => progress?.Invoke(new LoadProgress("snapshot", nodes, 0, _time.GetElapsedTime(started), null)));
        if (snapshot is null)
        {
            var fresh = LoadWithoutSnapshot(progress: null);
            return new QuorumLoadResult
            {
                Tree = fresh.Tree, SessionTimeoutsMs = fresh.SessionTimeoutsMs, SnapshotZxid = 0, LoggedAfterSnapshot = [],
                LastLoggedZxid = 0, SnapshotFile = fresh.SnapshotFile,
            };
        }
        var reader = new TxnLogReader(LogDirectory, repairTornTails: true);
        var logged = new List<LoggedProposal>();
        long lastZxid = snapshot.Zxid;
        foreach (var txn in reader.ReadLoggedFrom(snapshot.Zxid + 1))
        {
            CheckNoGap(txn, lastZxid);
            logged.Add(new LoggedProposal(txn.Entry.Zxid, txn.Buffer));
            lastZxid = txn.Entry.Zxid;
            if (progress is not null && logged.Count % ProgressEveryTxns == 0)
            {
                progress(new LoadProgress("log", logged.Count, lastZxid, _time.GetElapsedTime(started), txn.File));
            }
        }
        progress?.Invoke(new LoadProgress("done", logged.Count, lastZxid, _time.GetElapsedTime(started), null));
        return new QuorumLoadResult
        {
            Tree = snapshot.Tree, SessionTimeoutsMs = snapshot.SessionTimeoutsMs, SnapshotZxid = snapshot.Zxid,
            LoggedAfterSnapshot = logged, LastLoggedZxid = lastZxid, SnapshotFile = snapshot.File,
            TornTails = reader.TornTails, SkippedSnapshots = skipped,
        };
    }

    /// <summary>
    /// A learner's TRUNC: removes every logged txn above <paramref name="zxid"/> and every snapshot named above it.
    /// Pass the open writer, if any, so it flushes first and continues in a new file. Reload with
    /// <see cref="LoadForQuorum"/> afterwards, as Apache reloads its database.
    /// </summary>
    public DatabaseTruncationResult TruncateAfter(long zxid, TxnLogWriter? openLog = null)
    {
        // Snapshots go first: a crash after them leaves an older snapshot and the whole log, a consistent past.
        var snapshots = SnapshotStore.DeleteNewerThan(SnapshotDirectory, zxid);
        var log = openLog?.TruncateAfter(zxid) ?? TxnLogTruncation.TruncateAfter(LogDirectory, zxid);
        return new DatabaseTruncationResult(log, snapshots);
    }

    /// <summary>
    /// A learner's SNAP: checks and decodes the stream, stores it as <c>snapshot.&lt;zxid&gt;</c> in Apache's file
    /// format (the leader's body bytes as they came, with header and seal), and drops logged txns and snapshots
    /// above <paramref name="zxid"/>, which belong to a history the leader replaced. Call it before logging any
    /// proposal that follows the SNAP. Returns the decoded tree and sessions, with <see cref="Snapshot.File"/> the
    /// file written.
    /// </summary>
    /// <param name="zxid">The SNAP packet's zxid: the leader's last processed zxid.</param>
    /// <param name="snapStream">One whole SNAP stream, as <see cref="SnapStream.ReadRawAsync"/> returns it.</param>
    public Snapshot SaveSnapshotFromStream(long zxid, byte[] snapStream, TxnLogWriter? openLog = null, bool gzip = false)
    {
        var decoded = SnapStream.Read(snapStream, zxid);
        // Order matters for a crash part way: first nothing newer than the SNAP survives, then the log is cut, and
        // only then does the new snapshot appear; every step leaves a prefix of one history on disk.
        TruncateAfter(zxid, openLog);
        string file = SnapshotStore.Write(SnapshotDirectory, zxid, SnapStream.BodyOf(snapStream), gzip);
        return new Snapshot
        {
            File = file, Zxid = zxid, Tree = decoded.Tree, SessionTimeoutsMs = decoded.SessionTimeoutsMs,
        };
    }
}
