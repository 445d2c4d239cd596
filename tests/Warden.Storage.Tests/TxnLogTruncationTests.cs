using System.Text;
using Warden.Data;
using Warden.Protocol;
using Warden.Storage;

namespace Warden.Storage.Tests;

public sealed class TxnLogTruncationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly TxnLogOptions SmallFiles = new() { PreallocateBytes = 4096, ForceSync = false };

    private string Log(string name) => Path.Combine(_dir.VersionDir, name);

    private List<string> LogNames() =>
        Directory.GetFiles(_dir.VersionDir, "log.*").Select(f => Path.GetFileName(f)!).Order().ToList();

    private List<long> LoggedZxids() => new TxnLogReader(_dir.VersionDir).ReadFrom(0).Select(e => e.Zxid).ToList();

    /// <summary>Writes the history, starting a new file after each zxid in <paramref name="rollAfter"/>.</summary>
    private List<LoggedTxn> WriteHistory(params long[] rollAfter)
    {
        using (var writer = new TxnLogWriter(_dir.VersionDir, SmallFiles))
        {
            foreach (var entry in Txns.History())
            {
                writer.Append(entry);
                writer.Flush();
                if (rollAfter.Contains(entry.Zxid)) writer.Roll();
            }
        }
        return new TxnLogReader(_dir.VersionDir).ReadLoggedFrom(0).ToList();
    }

    private static List<long> Range(long from, long to) => Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => (long)i).ToList();

    [Fact]
    public void Truncating_inside_a_file_cuts_it_at_the_next_entry_boundary()
    {
        var logged = WriteHistory();
        var result = TxnLogTruncation.TruncateAfter(_dir.VersionDir, 10);
        Assert.Equal(Range(1, 10), LoggedZxids());
        Assert.Equal(Log("log.1"), result.CutFile);
        Assert.Equal(logged.Single(t => t.Entry.Zxid == 11).Offset, result.CutAtOffset);
        Assert.Equal(result.CutAtOffset, new FileInfo(Log("log.1")).Length);
        Assert.Equal(10, result.LastKeptZxid);
        Assert.Empty(result.DeletedFiles);
        var reader = new TxnLogReader(_dir.VersionDir);
        Assert.Equal(10, reader.ReadFrom(0).Count());
        Assert.Empty(reader.TornTails);
    }

    [Fact]
    public void Later_files_are_deleted_and_the_file_holding_the_zxid_is_cut()
    {
        WriteHistory(rollAfter: [7, 12]);
        Assert.Equal(["log.1", "log.8", "log.d"], LogNames());
        var result = TxnLogTruncation.TruncateAfter(_dir.VersionDir, 5);
        Assert.Equal(["log.1"], LogNames());
        Assert.Equal([Log("log.d"), Log("log.8")], result.DeletedFiles);
        Assert.Equal(Range(1, 5), LoggedZxids());
    }

    [Fact]
    public void Truncating_at_the_last_txn_of_a_file_only_deletes_the_later_files()
    {
        WriteHistory(rollAfter: [7]);
        long lengthBefore = new FileInfo(Log("log.1")).Length;
        var result = TxnLogTruncation.TruncateAfter(_dir.VersionDir, 7);
        Assert.Equal(["log.1"], LogNames());
        Assert.Null(result.CutFile);
        Assert.Equal(7, result.LastKeptZxid);
        Assert.Equal(lengthBefore, new FileInfo(Log("log.1")).Length);
        Assert.Equal(Range(1, 7), LoggedZxids());
    }

    [Fact]
    public void Truncating_at_or_past_the_last_txn_changes_nothing()
    {
        WriteHistory(rollAfter: [7]);
        var bytesBefore = LogNames().Select(n => File.ReadAllBytes(Log(n))).ToList();
        TxnLogTruncation.TruncateAfter(_dir.VersionDir, 16);
        TxnLogTruncation.TruncateAfter(_dir.VersionDir, 1000);
        Assert.Equal(bytesBefore, LogNames().Select(n => File.ReadAllBytes(Log(n))).ToList());
    }

    [Fact]
    public void Truncating_below_every_logged_txn_deletes_every_file()
    {
        WriteHistory(rollAfter: [7]);
        var result = TxnLogTruncation.TruncateAfter(_dir.VersionDir, 0);
        Assert.Empty(LogNames());
        Assert.Equal(2, result.DeletedFiles.Count);
        Assert.Empty(LoggedZxids());
    }

    [Fact]
    public void A_file_whose_first_entry_is_the_zxid_keeps_only_that_entry()
    {
        WriteHistory(rollAfter: [7]);
        TxnLogTruncation.TruncateAfter(_dir.VersionDir, 8);
        Assert.Equal(["log.1", "log.8"], LogNames());
        Assert.Equal(Range(1, 8), LoggedZxids());
    }

    [Fact]
    public void A_zxid_that_was_never_logged_keeps_exactly_the_txns_below_it()
    {
        // Epoch 1 ended at 0x100000003; the new leader's history never had 0x100000005, and epoch 2 follows.
        using (var writer = new TxnLogWriter(_dir.VersionDir, SmallFiles))
        {
            foreach (long zxid in new[] { 0x100000001L, 0x100000002, 0x100000003, 0x200000001, 0x200000002 })
            {
                writer.Append(Txns.Entry(zxid, new SetDataTxn("/", [1], 1)));
            }
            writer.Flush();
        }
        var result = TxnLogTruncation.TruncateAfter(_dir.VersionDir, 0x100000005);
        Assert.Equal([0x100000001L, 0x100000002, 0x100000003], LoggedZxids());
        Assert.Equal(0x100000003, result.LastKeptZxid);
    }

    [Fact]
    public void The_open_writer_flushes_truncates_and_continues_in_a_new_file()
    {
        var history = Txns.History();
        var replacement = new TxnLogEntry[]
        {
            Txns.Entry(9, new SetDataTxn("/app", Encoding.UTF8.GetBytes("other history"), 2)),
            Txns.Entry(10, new SetDataTxn("/app", Encoding.UTF8.GetBytes("and on"), 3)),
        };
        using (var writer = new TxnLogWriter(_dir.VersionDir, SmallFiles))
        {
            foreach (var entry in history.Take(12)) writer.Append(entry);
            writer.Flush();
            writer.Append(history[12]);
            var result = writer.TruncateAfter(8);
            Assert.Equal(8, writer.LastZxid);
            Assert.Equal(8, result.LastKeptZxid);
            Assert.Throws<InvariantViolationException>(() => writer.Append(history[7]));
            foreach (var entry in replacement) writer.Append(entry);
            writer.Flush();
        }
        Assert.Equal(["log.1", "log.9"], LogNames());
        var expected = history.Take(8).Concat(replacement).Select(Txns.Bytes).ToList();
        Assert.Equal(expected, new TxnLogReader(_dir.VersionDir).ReadFrom(0).Select(Txns.Bytes).ToList());
    }

    [Fact]
    public void A_truncated_and_continued_log_recovers_to_the_new_history()
    {
        var database = new Database(_dir.Path, null, SmallFiles);
        database.Load();
        var history = Txns.History();
        var replacement = Txns.Entry(9, new SetDataTxn("/app", Encoding.UTF8.GetBytes("after trunc"), 2));
        using (var writer = database.OpenLogWriter())
        {
            foreach (var entry in history) writer.Append(entry);
            writer.Flush();
            database.TruncateAfter(8, writer);
            writer.Append(replacement);
            writer.Flush();
        }
        var loaded = new Database(_dir.Path, null, SmallFiles).Load();
        Assert.Equal(9, loaded.LastZxid);
        Assert.Empty(loaded.TornTails);
        var expected = Txns.Apply(history.Take(8).Append(replacement));
        Assert.Equal(Txns.Describe(expected), Txns.Describe(loaded.Tree));
    }

    [Fact]
    public void A_torn_tail_before_the_cut_point_is_left_for_recovery()
    {
        var logged = WriteHistory();
        long tornAt = logged.Single(t => t.Entry.Zxid == 14).Offset;
        using (var file = new FileStream(Log("log.1"), FileMode.Open))
        {
            file.SetLength(tornAt + 5);
        }
        var result = TxnLogTruncation.TruncateAfter(_dir.VersionDir, 15);
        Assert.Null(result.CutFile);
        Assert.Equal(13, result.LastKeptZxid);
        Assert.Equal(Range(1, 13), LoggedZxids());
    }
}
