using System.Text;
using Warden.Data;
using Warden.Protocol;
using Warden.Storage;

namespace Warden.Storage.Tests;

public sealed class QuorumRecoveryTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly TxnLogOptions SmallFiles = new() { PreallocateBytes = 4096, ForceSync = false };

    private static readonly Dictionary<long, int> Sessions = new() { [Txns.Session] = 30000 };

    private Database NewDatabase() => new(_dir.Path, null, SmallFiles);

    /// <summary>Logs the whole history with a snapshot after txn 6 in between.</summary>
    private List<TxnLogEntry> WriteHistoryWithSnapshotAt6()
    {
        var database = NewDatabase();
        database.Load();
        var history = Txns.History();
        using var writer = database.OpenLogWriter();
        foreach (var entry in history) writer.Append(entry);
        writer.Flush();
        database.TakeSnapshot(Txns.Apply(history.Take(6)), Sessions, 6);
        return history;
    }

    [Fact]
    public void A_fresh_directory_loads_empty_and_gets_snapshot_zero()
    {
        var loaded = NewDatabase().LoadForQuorum();
        Assert.Equal(0, loaded.SnapshotZxid);
        Assert.Equal(0, loaded.LastLoggedZxid);
        Assert.Empty(loaded.LoggedAfterSnapshot);
        Assert.True(File.Exists(Path.Combine(_dir.VersionDir, "snapshot.0")));
    }

    [Fact]
    public void The_newest_snapshot_is_loaded_and_the_txns_after_it_come_back_unapplied_as_logged_bytes()
    {
        var history = WriteHistoryWithSnapshotAt6();
        var loaded = NewDatabase().LoadForQuorum();
        Assert.Equal(6, loaded.SnapshotZxid);
        Assert.EndsWith("snapshot.6", loaded.SnapshotFile);
        Assert.Equal(Txns.Describe(Txns.Apply(history.Take(6))), Txns.Describe(loaded.Tree));
        Assert.Equal(6, loaded.Tree.LastProcessedZxid);
        Assert.Equal(Sessions, loaded.SessionTimeoutsMs);
        Assert.Equal(16, loaded.LastLoggedZxid);
        Assert.Equal(history.Skip(6).Select(e => e.Zxid), loaded.LoggedAfterSnapshot.Select(p => p.Zxid));
        Assert.Equal(history.Skip(6).Select(Txns.Bytes), loaded.LoggedAfterSnapshot.Select(p => p.Data));
        Assert.Equal(Txns.Bytes(history[6]), Txns.Bytes(TxnLogEntry.Parse(loaded.LoggedAfterSnapshot[0].Data)));
    }

    [Fact]
    public void A_torn_tail_is_cut_and_reported()
    {
        WriteHistoryWithSnapshotAt6();
        string log = Path.Combine(_dir.VersionDir, "log.1");
        var logged = new TxnLogReader(_dir.VersionDir).ReadLoggedFrom(0).ToList();
        using (var file = new FileStream(log, FileMode.Open))
        {
            file.SetLength(logged[^1].Offset + 7);
        }
        var loaded = NewDatabase().LoadForQuorum();
        Assert.Equal(15, loaded.LastLoggedZxid);
        Assert.Single(loaded.TornTails);
        Assert.True(loaded.TornTails[0].Truncated);
        Assert.Equal(logged[^1].Offset, new FileInfo(log).Length);
    }

    [Fact]
    public void With_no_txn_after_the_snapshot_the_last_logged_zxid_is_the_snapshot_s()
    {
        var database = NewDatabase();
        database.Load();
        database.TakeSnapshot(new DataTree(), Sessions, 0x300000000);
        var loaded = NewDatabase().LoadForQuorum();
        Assert.Equal(0x300000000, loaded.LastLoggedZxid);
        Assert.Empty(loaded.LoggedAfterSnapshot);
    }

    [Fact]
    public void A_snap_is_stored_as_an_Apache_snapshot_file_and_newer_history_is_dropped()
    {
        WriteHistoryWithSnapshotAt6();
        var database = NewDatabase();
        database.TakeSnapshot(Txns.Apply(Txns.History().Take(12)), Sessions, 12);

        // The leader's tree at zxid 9 differs from what this member logged after 9.
        var leaderHistory = Txns.History().Take(8).Append(Txns.Entry(9, new SetDataTxn("/app", Encoding.UTF8.GetBytes("leader"), 2))).ToList();
        var leaderTree = Txns.Apply(leaderHistory);
        var leaderSessions = new Dictionary<long, int> { [Txns.Session] = 30000, [0x3000000000007] = 5000 };
        byte[] snap = SnapStream.ToBytes(SnapshotImage.Capture(leaderTree, leaderSessions, 9));

        var saved = database.SaveSnapshotFromStream(9, snap);
        Assert.EndsWith("snapshot.9", saved.File);
        Assert.Equal(Txns.Describe(leaderTree), Txns.Describe(saved.Tree));
        Assert.False(File.Exists(Path.Combine(_dir.VersionDir, "snapshot.c")), "a snapshot above the SNAP zxid would win the next load");
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), new TxnLogReader(_dir.VersionDir).ReadFrom(0).Select(e => e.Zxid));

        // The file is the same as one written from the tree, and Warden's snapshot reader takes it.
        var file = SnapshotFile.Read(saved.File);
        Assert.Equal(Txns.Describe(leaderTree), Txns.Describe(file.Tree));
        Assert.Equal(leaderSessions, file.SessionTimeoutsMs);

        var loaded = NewDatabase().LoadForQuorum();
        Assert.Equal(9, loaded.SnapshotZxid);
        Assert.Equal(9, loaded.LastLoggedZxid);
        Assert.Empty(loaded.LoggedAfterSnapshot);
        Assert.Equal(Txns.Describe(leaderTree), Txns.Describe(loaded.Tree));
    }

    [Fact]
    public void A_snap_with_an_open_writer_lets_the_writer_continue_after_it()
    {
        var database = NewDatabase();
        database.Load();
        var history = Txns.History();
        using (var writer = database.OpenLogWriter())
        {
            foreach (var entry in history.Take(12)) writer.Append(entry);
            writer.Flush();
            var leaderTree = Txns.Apply(history.Take(10));
            database.SaveSnapshotFromStream(10, SnapStream.ToBytes(SnapshotImage.Capture(leaderTree, Sessions, 10)), writer);
            foreach (var entry in history.Skip(10)) writer.Append(entry);
            writer.Flush();
        }
        var loaded = NewDatabase().LoadForQuorum();
        Assert.Equal(10, loaded.SnapshotZxid);
        Assert.Equal(history.Skip(10).Select(Txns.Bytes), loaded.LoggedAfterSnapshot.Select(p => p.Data));
        Assert.Equal(16, loaded.LastLoggedZxid);
    }

    [Fact]
    public void A_damaged_snap_stream_writes_nothing_and_keeps_the_log()
    {
        WriteHistoryWithSnapshotAt6();
        byte[] snap = SnapStream.ToBytes(SnapshotImage.Capture(Txns.Apply(Txns.History().Take(9)), Sessions, 9));
        Assert.Throws<InvalidDataException>(() => NewDatabase().SaveSnapshotFromStream(9, snap[..^1]));
        Assert.False(File.Exists(Path.Combine(_dir.VersionDir, "snapshot.9")));
        Assert.Equal(16, new TxnLogReader(_dir.VersionDir).ReadFrom(0).Count());
    }

    [Fact]
    public void Truncate_removes_logged_txns_and_snapshots_above_the_zxid()
    {
        WriteHistoryWithSnapshotAt6();
        var result = NewDatabase().TruncateAfter(4);
        Assert.Equal([Path.Combine(_dir.VersionDir, "snapshot.6")], result.DeletedSnapshots);
        var loaded = NewDatabase().LoadForQuorum();
        Assert.Equal(0, loaded.SnapshotZxid);
        Assert.Equal(4, loaded.LastLoggedZxid);
        Assert.Equal(Txns.History().Take(4).Select(Txns.Bytes), loaded.LoggedAfterSnapshot.Select(p => p.Data));
    }
}
