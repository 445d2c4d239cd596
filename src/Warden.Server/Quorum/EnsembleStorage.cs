using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Warden.Consensus;
using Warden.Protocol;
using Warden.Server.Processing;
using Warden.Storage;

namespace Warden.Server.Quorum;

/// <summary>
/// An ensemble member's data directories: recovery at start (the newest snapshot, and the txns logged after it
/// handed to the consensus core uncommitted, since only the ensemble can say which of them committed), the txn
/// log the peer appends to, TRUNC and SNAP, the acceptedEpoch and currentEpoch files, and snapshots every
/// snapCount txns or so. Used by the quorum thread only, except <see cref="TakeSnapshotAsync"/>.
/// </summary>
public sealed class EnsembleStorage : IDisposable
{
    private readonly Database _database;
    private readonly TxnLogWriter _writer;
    private readonly ServerSettings _settings;
    private readonly ILogger _log;
    private readonly Random _random = new();
    private int _txnsSinceSnapshot;
    private int _snapshotThreshold;
    private readonly BackgroundSnapshots _snapshots;
    private readonly double _ensembleSnapshotSizeFactor;

    private EnsembleStorage(Database database, ServerSettings settings, ILogger log, QuorumLoadResult loaded, EpochState epochs)
    {
        _database = database;
        _settings = settings;
        _ensembleSnapshotSizeFactor = settings.Ensemble?.SnapshotSizeFactor ?? EnsembleSettings.DefaultSnapshotSizeFactor;
        _log = log;
        Loaded = loaded;
        Recovered = new RecoveredState(epochs.AcceptedEpoch, epochs.CurrentEpoch, new Zxid(loaded.SnapshotZxid),
            loaded.LoggedAfterSnapshot.Select(p => new Txn(new Zxid(p.Zxid), p.Data)).ToList());
        _writer = database.OpenLogWriter();
        _snapshotThreshold = NextThreshold();
        _snapshots = new BackgroundSnapshots(database.SnapshotDirectory, log);
    }

    public QuorumLoadResult Loaded { get; }

    public RecoveredState Recovered { get; }

    public static EnsembleStorage Open(ServerSettings settings, ILogger log)
    {
        var database = new Database(settings.DataDir, settings.DataLogDir,
            new TxnLogOptions { PreallocateBytes = settings.PreAllocateBytes, ForceSync = settings.ForceSync });
        var started = Stopwatch.StartNew();
        var loaded = database.LoadForQuorum();
        foreach (var torn in loaded.TornTails) log.LogWarning("Recovered the txn log: {TornTail}", torn);
        foreach (var skipped in loaded.SkippedSnapshots) log.LogWarning("Skipped snapshot {File}: {Reason}", skipped.File, skipped.Reason);
        var epochs = EpochFiles.Read(database.SnapshotDirectory, loaded.LastLoggedZxid);
        log.LogInformation(
            "Loaded a snapshot of {Nodes} znodes at zxid 0x{SnapshotZxid:x} and {Logged} txns logged after it (last 0x{LastZxid:x}), acceptedEpoch {Accepted}, currentEpoch {Current}, in {ElapsedMs} ms",
            loaded.Tree.NodeCount, loaded.SnapshotZxid, loaded.LoggedAfterSnapshot.Count, loaded.LastLoggedZxid,
            epochs.AcceptedEpoch, epochs.CurrentEpoch, started.ElapsedMilliseconds);
        return new EnsembleStorage(database, settings, log, loaded, epochs);
    }

    public void Append(byte[] proposalData)
    {
        _writer.Append(TxnLogEntry.Parse(proposalData));
        _txnsSinceSnapshot++;
    }

    public void Flush() => _writer.Flush();

    public void TruncateAfter(long zxid)
    {
        var result = _database.TruncateAfter(zxid, _writer);
        _log.LogInformation("Truncated the txn log after zxid 0x{Zxid:x} as the leader asked: {Result}", zxid, result.Log);
    }

    public void SaveSnapshot(long zxid, byte[] snapStream)
    {
        var saved = _database.SaveSnapshotFromStream(zxid, snapStream, _writer);
        _log.LogInformation("Took the leader's snapshot at zxid 0x{Zxid:x} ({Bytes} bytes) into {File}", zxid, snapStream.Length, Path.GetFileName(saved.File));
    }

    /// <summary>
    /// The txns logged on disk from the first txn of the log file that holds <paramref name="zxid"/>, for a leader's DIFF
    /// to a learner behind the committed txns it keeps in memory; null when the log cannot serve, by Apache's rules
    /// (ZKDatabase.getProposalsFromTxnLog, calculateTxnLogSizeLimit, FileTxnLog.FileTxnIterator): a negative
    /// snapshotSizeFactor turns this off; the files read are the newest one that starts before the zxid and every one
    /// after; the oldest must start at or before the zxid; and their combined length on disk (preallocation included,
    /// as Apache counts it) must not pass snapshotSizeFactor times the length of the newest snapshot file, a limit of 0
    /// (no snapshot, or a factor of 0) meaning none. The txns are read as the core asks for them.
    /// </summary>
    public IEnumerable<Txn>? LoggedTxnsFrom(Zxid zxid)
    {
        double factor = _ensembleSnapshotSizeFactor;
        if (factor < 0) return null;
        var files = LogFilesFor(zxid.Value);
        if (files.Count == 0 || files[0].Zxid > zxid.Value)
        {
            _log.LogInformation("The txn log on disk starts after zxid 0x{Zxid:x}: a snapshot instead of a diff", zxid.Value);
            return null;
        }
        var newestSnapshot = SnapshotStore.NewestFirst(_database.SnapshotDirectory).Select(s => new FileInfo(s.Path)).FirstOrDefault();
        long limit = (long)((newestSnapshot?.Length ?? 0) * factor);
        long size = files.Sum(f => new FileInfo(f.Path).Length);
        if (limit > 0 && size > limit)
        {
            _log.LogInformation(
                "The txn log from zxid 0x{Zxid:x} is {Size} bytes on disk, over snapshotSizeFactor {Factor} x the newest snapshot's {Snapshot} bytes: a snapshot instead of a diff",
                zxid.Value, size, factor, newestSnapshot!.Length);
            return null;
        }
        return ReadLogged(files);
    }

    /// <summary>FileTxnIterator's files: every log starting at or after the zxid, and the newest one starting before it.</summary>
    private List<(string Path, long Zxid)> LogFilesFor(long zxid)
    {
        var logs = StorageFiles.List(_database.LogDirectory, StorageFiles.LogPrefix);
        int firstBefore = logs.FindLastIndex(log => log.Zxid < zxid);
        return firstBefore < 0 ? logs : logs.GetRange(firstBefore, logs.Count - firstBefore);
    }

    private IEnumerable<Txn> ReadLogged(List<(string Path, long Zxid)> files)
    {
        // A reader of its own: the open writer keeps appending to the newest file, and a reader takes what is there. A
        // file that cannot be read ends the txns early, which the core sees as a gap and answers with SNAP: a damaged
        // old log costs a learner a bigger sync, never the leader its role.
        var reader = new TxnLogReader(_database.LogDirectory);
        foreach (var (path, _) in files)
        {
            using var entries = reader.ReadFile(path).GetEnumerator();
            while (true)
            {
                LoggedTxn logged;
                try
                {
                    if (!entries.MoveNext()) break;
                    logged = entries.Current;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or TxnLogCorruptException)
                {
                    _log.LogWarning("Cannot read {File} for a learner's diff ({Reason}): a snapshot instead", Path.GetFileName(path), e.Message);
                    yield break;
                }
                yield return new Txn(new Zxid(logged.Entry.Zxid), logged.Buffer);
            }
        }
    }

    public void SaveAcceptedEpoch(int epoch) => EpochFiles.WriteAccepted(_database.SnapshotDirectory, epoch);

    public void SaveCurrentEpoch(int epoch) => EpochFiles.WriteCurrent(_database.SnapshotDirectory, epoch);

    /// <summary>Apache snapshots after snapCount/2 plus a random share of snapCount/2 txns, so servers do not snapshot in step.</summary>
    private int NextThreshold()
    {
        int snapCount = Math.Max(2, _settings.SnapCountTxns);
        return snapCount / 2 + _random.Next(snapCount / 2);
    }

    /// <summary>True once enough txns were logged since the last snapshot; the log rolls to a new file then.</summary>
    public bool SnapshotDue()
    {
        if (_txnsSinceSnapshot <= _snapshotThreshold) return false;
        _writer.Roll();
        _txnsSinceSnapshot = 0;
        _snapshotThreshold = NextThreshold();
        return true;
    }

    /// <summary>Captures the applied tree on the request loop and writes it on a worker; one at a time.</summary>
    public Task TakeSnapshotAsync(ServerCore core) => _snapshots.TakeAsync(core);

    public void Dispose() => _writer.Dispose();
}
