using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Warden.Server.Processing;
using Warden.Server.Replication;
using Warden.Storage;

namespace Warden.Server;

/// <summary>
/// Ties the server to its data directories: recovery at start, the txn log behind the replicator, snapshots
/// when the log rolls, and autopurge. The tree is captured on the loop (a short pause) and written to disk on
/// another thread, so writes stop only for the in-memory copy, not for the disk.
/// </summary>
public sealed class Persistence
{
    private readonly Database _database;
    private readonly ServerSettings _settings;
    private readonly ILogger _log;
    private readonly BackgroundSnapshots _snapshots;

    private Persistence(Database database, ServerSettings settings, ILogger log)
    {
        _database = database;
        _settings = settings;
        _log = log;
        _snapshots = new BackgroundSnapshots(database.SnapshotDirectory, log);
    }

    public LoadResult Loaded { get; private set; } = null!;
    public LogReplicator Replicator { get; private set; } = null!;

    /// <summary>Recovers the tree from disk and opens the log for new txns.</summary>
    public static Persistence Open(ServerSettings settings, ILogger log)
    {
        var database = new Database(settings.DataDir, settings.DataLogDir,
            new TxnLogOptions { PreallocateBytes = settings.PreAllocateBytes, ForceSync = settings.ForceSync });
        var persistence = new Persistence(database, settings, log);
        var started = Stopwatch.StartNew();
        persistence.Loaded = database.Load(progress => log.LogInformation("Loading data: {Progress}", progress));
        foreach (var torn in persistence.Loaded.TornTails) log.LogWarning("Recovered the txn log: {TornTail}", torn);
        foreach (var skipped in persistence.Loaded.SkippedSnapshots) log.LogWarning("Skipped snapshot {File}: {Reason}", skipped.File, skipped.Reason);
        log.LogInformation("Loaded {Nodes} znodes and {Sessions} sessions up to zxid 0x{Zxid:x} in {ElapsedMs} ms ({Replayed} txns replayed from the log)",
            persistence.Loaded.Tree.NodeCount, persistence.Loaded.SessionTimeoutsMs.Count, persistence.Loaded.LastZxid,
            started.ElapsedMilliseconds, persistence.Loaded.TxnsReplayed);
        persistence.Replicator = new LogReplicator(database.OpenLogWriter(), settings.SnapCountTxns, log);
        return persistence;
    }

    /// <summary>Captures the tree on the loop, then writes the snapshot on a worker; one at a time, as Apache does.</summary>
    public Task TakeSnapshotAsync(ServerCore core) => _snapshots.TakeAsync(core);

    /// <summary>autopurge: keep the newest snapRetainCount snapshots and the logs they need.</summary>
    public void Purge()
    {
        var result = _database.Purge(Math.Max(3, _settings.SnapRetainCount));
        _log.LogInformation("Purge removed {Count} old files; kept snapshots from zxid 0x{Zxid:x}", result.Deleted.Count, result.OldestKeptZxid);
    }
}
