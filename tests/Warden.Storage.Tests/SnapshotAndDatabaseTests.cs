using Warden.Data;
using Warden.Storage;

namespace Warden.Storage.Tests;

public sealed class SnapshotAndDatabaseTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly TxnLogOptions Fast = new() { PreallocateBytes = 4096, ForceSync = false };

    private static readonly Dictionary<long, int> Sessions = new() { [Txns.Session] = 30000, [0x2000000000001] = 4000 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_snapshot_reads_back_equal(bool gzip)
    {
        var tree = Txns.Apply(Txns.History());
        string file = SnapshotStore.Write(_dir.VersionDir, tree, Sessions, 16, gzip);
        Assert.Equal(gzip ? "snapshot.10.gz" : "snapshot.10", Path.GetFileName(file));
        var snapshot = SnapshotFile.Read(file);
        Assert.Equal(16, snapshot.Zxid);
        Assert.Equal(Txns.Describe(tree), Txns.Describe(snapshot.Tree));
        Assert.Equal(Sessions, snapshot.SessionTimeoutsMs);
        Assert.Equal(tree.EphemeralsOf(Txns.Session), snapshot.Tree.EphemeralsOf(Txns.Session));
        Assert.Equal(tree.Containers, snapshot.Tree.Containers);
        Assert.Empty(Directory.GetFiles(_dir.VersionDir, "tmp.*"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Data_and_paths_larger_than_the_stream_buffers_read_back_equal(bool gzip)
    {
        var big = new byte[300_000];
        new Random(4).NextBytes(big);
        var history = Txns.History();
        history.Add(Txns.Entry(17, new CreateTxn("/big", big, Txns.Open, false, 3)));
        history.Add(Txns.Entry(18, new CreateTxn("/small-after-big", [7], Txns.Open, false, 4)));
        history.Add(Txns.Entry(19, new CreateTxn("/" + new string('p', 100_000), [8], Txns.Open, false, 5)));
        var tree = Txns.Apply(history);
        var snapshot = SnapshotFile.Read(SnapshotStore.Write(_dir.VersionDir, tree, Sessions, 19, gzip));
        Assert.Equal(big, snapshot.Tree.GetNode("/big")!.Data);
        Assert.Equal(Txns.Describe(tree), Txns.Describe(snapshot.Tree));
    }

    [Fact]
    public void An_image_captured_before_more_txns_writes_the_tree_as_it_was()
    {
        var history = Txns.History();
        var tree = Txns.Apply(history.Take(11));
        var before = Txns.Describe(tree);
        var image = SnapshotImage.Capture(tree, Sessions, 11);
        Txns.Apply(history.Skip(11), tree);
        Assert.NotEqual(before, Txns.Describe(tree));

        string file = new Database(_dir.Path).TakeSnapshot(image, gzip: true);
        var snapshot = SnapshotFile.Read(file);
        Assert.Equal(11, snapshot.Zxid);
        Assert.Equal(before, Txns.Describe(snapshot.Tree));
        Assert.Equal(Sessions, snapshot.SessionTimeoutsMs);
    }

    [Fact]
    public void A_snapshot_with_a_bad_seal_falls_back_to_the_older_one()
    {
        var history = Txns.History();
        var older = Txns.Apply(history.Take(8));
        SnapshotStore.Write(_dir.VersionDir, older, Sessions, 8);
        string newer = SnapshotStore.Write(_dir.VersionDir, Txns.Apply(history), Sessions, 16);
        // Corrupt one data byte: the file still ends with the seal, but the checksum no longer matches.
        var bytes = File.ReadAllBytes(newer);
        int at = IndexOf(bytes, "v1"u8.ToArray());
        bytes[at] ^= 0x20;
        File.WriteAllBytes(newer, bytes);

        var skipped = new List<SkippedSnapshot>();
        var snapshot = SnapshotStore.ReadNewestValid(_dir.VersionDir, skipped.Add)!;
        Assert.Equal(8, snapshot.Zxid);
        Assert.Equal(Txns.Describe(older), Txns.Describe(snapshot.Tree));
        Assert.Contains("seal checksum", Assert.Single(skipped).Reason);
    }

    [Fact]
    public void A_truncated_snapshot_is_skipped_and_all_bad_is_an_error_not_an_empty_tree()
    {
        string file = SnapshotStore.Write(_dir.VersionDir, Txns.Apply(Txns.History()), Sessions, 16);
        using (var stream = new FileStream(file, FileMode.Open)) stream.SetLength(stream.Length / 2);
        var error = Assert.Throws<InvalidDataException>(() => SnapshotStore.ReadNewestValid(_dir.VersionDir));
        Assert.Contains("no valid snapshot", error.Message);
    }

    [Fact]
    public void An_empty_directory_loads_as_a_fresh_tree_and_gets_snapshot_0()
    {
        var result = new Database(_dir.Path).Load();
        Assert.Equal(0, result.LastZxid);
        Assert.Empty(result.SessionTimeoutsMs);
        Assert.Equal(Txns.Describe(new DataTree()), Txns.Describe(result.Tree));
        Assert.True(File.Exists(Path.Combine(_dir.VersionDir, "snapshot.0")));
        Assert.Equal(0, new Database(_dir.Path).Load().LastZxid);
    }

    [Fact]
    public void Logs_without_any_snapshot_are_refused()
    {
        using (var writer = new TxnLogWriter(_dir.VersionDir, Fast))
        {
            writer.Append(Txns.Entry(5, new CreateSessionTxn(1000)));
            writer.Flush();
        }
        var error = Assert.Throws<InvalidDataException>(() => new Database(_dir.Path).Load());
        Assert.Contains("no snapshot", error.Message);
    }

    [Fact]
    public void Load_replays_the_log_after_the_snapshot_with_a_separate_log_directory()
    {
        using var logDir = new TempDir();
        var database = new Database(_dir.Path, logDir.Path, Fast);
        database.Load();
        var history = Txns.History();
        using (var writer = database.OpenLogWriter())
        {
            foreach (var entry in history.Take(10)) writer.Append(entry);
            writer.Flush();
            var midway = Txns.Apply(history.Take(10));
            database.TakeSnapshot(midway, new Dictionary<long, int> { [Txns.Session] = 30000 }, 10);
            writer.Roll();
            foreach (var entry in history.Skip(10)) writer.Append(entry);
            writer.Flush();
        }
        var progress = new List<LoadProgress>();
        var result = new Database(_dir.Path, logDir.Path, Fast) { ProgressEveryTxns = 2 }.Load(progress.Add);
        Assert.EndsWith("snapshot.a", result.SnapshotFile);
        Assert.Equal(6, result.TxnsReplayed);
        Assert.Equal(16, result.LastZxid);
        Assert.Equal(Txns.Describe(Txns.Apply(history)), Txns.Describe(result.Tree));
        // Session 2 was created and closed inside the replayed part; session 1 came from the snapshot.
        Assert.Equal([Txns.Session], result.SessionTimeoutsMs.Keys);
        Assert.Equal(["log", "log", "log", "done"], progress.Select(p => p.Phase));
        Assert.Equal(16, progress[^1].LastZxid);
    }

    [Fact]
    public void A_fuzzy_snapshot_that_already_holds_later_txns_replays_to_the_same_tree()
    {
        var history = Txns.History();
        var database = new Database(_dir.Path, null, Fast);
        database.Load();
        using (var writer = database.OpenLogWriter())
        {
            foreach (var entry in history) writer.Append(entry);
            writer.Flush();
        }
        // Apache names a snapshot by the zxid when it began; txns applied while it was written are in it too.
        database.TakeSnapshot(Txns.Apply(history), Sessions, 3);
        var result = new Database(_dir.Path, null, Fast).Load();
        Assert.Equal(13, result.TxnsReplayed);
        Assert.Equal(Txns.Describe(Txns.Apply(history)), Txns.Describe(result.Tree));
    }

    [Fact]
    public void Load_cuts_a_torn_tail_and_a_new_writer_continues_in_a_new_file()
    {
        var database = new Database(_dir.Path, null, Fast);
        database.Load();
        using (var writer = database.OpenLogWriter())
        {
            foreach (var entry in Txns.History()) writer.Append(entry);
            writer.Flush();
        }
        var last = new TxnLogReader(database.LogDirectory).ReadLoggedFrom(0).Last();
        using (var stream = new FileStream(last.File, FileMode.Open)) stream.SetLength(last.Offset + 9);

        var result = new Database(_dir.Path, null, Fast).Load();
        Assert.Equal(15, result.LastZxid);
        var tail = Assert.Single(result.TornTails);
        Assert.Equal((last.File, last.Offset, 15L), (tail.File, tail.Offset, tail.LastGoodZxid));
        using (var writer = database.OpenLogWriter())
        {
            writer.Append(Txns.Entry(16, Txns.Create("/after", "crash", 3)));
            writer.Flush();
        }
        var again = new Database(_dir.Path, null, Fast).Load();
        Assert.Empty(again.TornTails);
        Assert.NotNull(again.Tree.GetNode("/after"));
        Assert.True(File.Exists(Path.Combine(database.LogDirectory, "log.10")));
    }

    [Fact]
    public void A_gap_in_the_log_within_an_epoch_stops_loading()
    {
        var database = new Database(_dir.Path, null, Fast);
        database.Load();
        using (var writer = database.OpenLogWriter())
        {
            writer.Append(Txns.Entry(1, new CreateSessionTxn(1000)));
            writer.Append(Txns.Entry(3, Txns.Create("/a", "", 1)));
            writer.Flush();
        }
        var error = Assert.Throws<TxnLogCorruptException>(() => new Database(_dir.Path, null, Fast).Load());
        Assert.Contains("missing", error.Message);
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);
}
