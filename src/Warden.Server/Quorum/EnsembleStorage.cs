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

    private EnsembleStorage(Database database, ServerSettings settings, ILogger log, QuorumLoadResult loaded, EpochState epochs)
    {
        _database = database;
        _settings = settings;
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
