using Warden.Protocol;
using Warden.Data;
using Warden.Storage;

namespace Warden.Storage.Tests;

public sealed class TxnLogTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly TxnLogOptions SmallFiles = new() { PreallocateBytes = 4096, ForceSync = false };

    /// <summary>Writes the history in batches, rolling once, and returns each entry's file and offset.</summary>
    private List<LoggedTxn> WriteHistory(int rollAfter = int.MaxValue)
    {
        using (var writer = new TxnLogWriter(_dir.VersionDir, SmallFiles))
        {
            int written = 0;
            foreach (var entry in Txns.History())
            {
                writer.Append(entry);
                if (++written % 3 == 0) writer.Flush();
                if (written == rollAfter) writer.Roll();
            }
            writer.Flush();
        }
        return new TxnLogReader(_dir.VersionDir).ReadLoggedFrom(0).ToList();
    }

    [Fact]
    public void Entries_read_back_byte_for_byte_across_a_roll()
    {
        var read = WriteHistory(rollAfter: 7);
        var expected = Txns.History();
        Assert.Equal(expected.Select(Txns.Bytes), read.Select(r => Txns.Bytes(r.Entry)));
        Assert.Equal(["log.1", "log.8"], Directory.GetFiles(_dir.VersionDir).Select(f => Path.GetFileName(f)!).Order().ToArray());
    }

    [Fact]
    public void Files_are_preallocated_in_steps_and_the_zero_padding_reads_as_the_end()
    {
        WriteHistory();
        string log = Path.Combine(_dir.VersionDir, "log.1");
        Assert.Equal(0, new FileInfo(log).Length % 4096);
        var reader = new TxnLogReader(_dir.VersionDir);
        Assert.Equal(16, reader.ReadFrom(0).Count());
        Assert.Empty(reader.TornTails);
    }

    [Fact]
    public void Reading_from_a_zxid_skips_older_entries_and_older_files()
    {
        WriteHistory(rollAfter: 7);
        Assert.Equal(Enumerable.Range(10, 7).Select(i => (long)i), new TxnLogReader(_dir.VersionDir).ReadFrom(10).Select(e => e.Zxid));
    }

    /// <summary>
    /// An Apache learner whose sync failed after NEWLEADER logs the same txns again when it rejoins (seen in a mixed
    /// ensemble: txns 0x300000001..0x300000076 twice in one log file). Apache's loader carries on past them; so does
    /// this reader, keeping the first copy of each.
    /// </summary>
    [Fact]
    public void Txns_logged_a_second_time_in_one_file_are_read_once()
    {
        var history = Txns.History();
        byte[] Entries(IEnumerable<TxnLogEntry> entries, out byte[] header)
        {
            using var scratch = new TempDir();
            using (var writer = new TxnLogWriter(scratch.VersionDir, SmallFiles))
            {
                foreach (var entry in entries) writer.Append(entry);
                writer.Flush();
            }
            var read = new TxnLogReader(scratch.VersionDir).ReadLoggedFrom(0).ToList();
            var bytes = File.ReadAllBytes(read[0].File);
            var last = read[^1];
            header = bytes[..StorageFiles.HeaderSize];
            return bytes[StorageFiles.HeaderSize..(int)(last.Offset + 12 + last.Buffer.Length + 1)];
        }
        var first = Entries(history.Take(10), out var fileHeader);
        var again = Entries(history.Skip(4), out _);
        var database = new Database(_dir.Path);
        database.TakeSnapshot(new DataTree(), new Dictionary<long, int>(), 0);
        File.WriteAllBytes(Path.Combine(_dir.VersionDir, "log.1"), [.. fileHeader, .. first, .. again, .. new byte[64]]);

        var reader = new TxnLogReader(_dir.VersionDir);
        Assert.Equal(history.Select(Txns.Bytes), reader.ReadFrom(0).Select(Txns.Bytes));
        Assert.Equal(6, reader.RepeatsSkipped);
        Assert.Empty(reader.TornTails);
        var loaded = database.Load();
        Assert.Equal(history[^1].Zxid, loaded.LastZxid);
        Assert.Equal(Interop.ApacheInterchangeTests.ClientView(Txns.Apply(history)), Interop.ApacheInterchangeTests.ClientView(loaded.Tree));
    }

    [Fact]
    public void A_torn_last_entry_is_cut_and_reported()
    {
        var read = WriteHistory();
        var last = read[^1];
        // A crash mid-write: the entry's first bytes reached the disk, the rest is still preallocated zeros.
        ZeroFrom(last.File, last.Offset + 20);
        var reader = new TxnLogReader(_dir.VersionDir, repairTornTails: true);
        Assert.Equal(15, reader.ReadFrom(0).Count());
        var tail = Assert.Single(reader.TornTails);
        Assert.Equal(last.Offset, tail.Offset);
        Assert.Equal(15, tail.LastGoodZxid);
        Assert.True(tail.Truncated);
        Assert.Equal(last.Offset, new FileInfo(last.File).Length);
        Assert.Equal(15, new TxnLogReader(_dir.VersionDir).ReadFrom(0).Count());
    }

    [Fact]
    public void A_file_whose_only_entry_is_torn_is_removed_so_the_writer_can_reuse_its_name()
    {
        var read = WriteHistory(rollAfter: 15);
        Assert.Equal("log.10", Path.GetFileName(read[^1].File));
        ZeroFrom(read[^1].File, read[^1].Offset + 5);
        var reader = new TxnLogReader(_dir.VersionDir, repairTornTails: true);
        Assert.Equal(15, reader.ReadFrom(0).Count());
        Assert.False(File.Exists(read[^1].File));
        using var writer = new TxnLogWriter(_dir.VersionDir, SmallFiles);
        writer.Append(Txns.Entry(16, new CreateSessionTxn(1000)));
        writer.Flush();
        Assert.Equal(16, new TxnLogReader(_dir.VersionDir).ReadFrom(0).Count());
    }

    [Fact]
    public void A_flipped_byte_in_the_last_entry_is_cut()
    {
        var read = WriteHistory();
        FlipByte(read[^1].File, read[^1].Offset + 30);
        var reader = new TxnLogReader(_dir.VersionDir, repairTornTails: true);
        Assert.Equal(15, reader.ReadFrom(0).Count());
        Assert.Equal("checksum mismatch", Assert.Single(reader.TornTails).Reason);
    }

    [Fact]
    public void A_missing_end_of_record_byte_on_the_last_entry_is_cut()
    {
        var read = WriteHistory();
        long marker = new FileInfo(read[^1].File).Length;
        using (var file = File.OpenRead(read[^1].File))
        {
            // The marker is the last non-zero byte written.
            var bytes = new byte[file.Length];
            file.ReadExactly(bytes);
            marker = Array.FindLastIndex(bytes, b => b != 0);
        }
        ZeroFrom(read[^1].File, marker);
        var reader = new TxnLogReader(_dir.VersionDir, repairTornTails: true);
        Assert.Equal(15, reader.ReadFrom(0).Count());
        Assert.Contains("0x42", Assert.Single(reader.TornTails).Reason);
    }

    [Fact]
    public void A_flipped_byte_in_a_middle_entry_stops_with_the_file_and_offset()
    {
        var read = WriteHistory();
        var middle = read[5];
        FlipByte(middle.File, middle.Offset + 25);
        long length = new FileInfo(middle.File).Length;
        var reader = new TxnLogReader(_dir.VersionDir, repairTornTails: true);
        var error = Assert.Throws<TxnLogCorruptException>(() => reader.ReadFrom(0).ToList());
        Assert.Equal(middle.File, error.File);
        Assert.Equal(middle.Offset, error.Offset);
        Assert.Contains(middle.File, error.Message);
        Assert.Contains($"byte {middle.Offset}", error.Message);
        // Nothing was cut: the damage is for a person to look at.
        Assert.Equal(length, new FileInfo(middle.File).Length);
    }

    [Fact]
    public void A_zeroed_middle_entry_is_not_taken_for_the_end_of_the_log()
    {
        var read = WriteHistory();
        ZeroRange(read[4].File, read[4].Offset, read[5].Offset - read[4].Offset);
        var error = Assert.Throws<TxnLogCorruptException>(() => new TxnLogReader(_dir.VersionDir).ReadFrom(0).ToList());
        Assert.Equal(read[4].Offset, error.Offset);
    }

    [Fact]
    public void Garbage_after_the_end_marker_with_no_entry_in_it_is_cut()
    {
        var read = WriteHistory();
        long end = read[^1].Offset + Txns.Bytes(read[^1].Entry).Length + 13;
        using (var stream = new FileStream(read[^1].File, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = end + 100;
            stream.Write([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
        }
        var reader = new TxnLogReader(_dir.VersionDir, repairTornTails: true);
        Assert.Equal(16, reader.ReadFrom(0).Count());
        var tail = Assert.Single(reader.TornTails);
        Assert.Equal((end, 16L), (tail.Offset, tail.LastGoodZxid));
        Assert.Equal(end, new FileInfo(read[^1].File).Length);
    }

    [Fact]
    public void A_read_only_scan_reports_a_torn_tail_without_cutting_it()
    {
        var read = WriteHistory();
        ZeroFrom(read[^1].File, read[^1].Offset + 20);
        long length = new FileInfo(read[^1].File).Length;
        var reader = new TxnLogReader(_dir.VersionDir);
        Assert.Equal(15, reader.ReadFrom(0).Count());
        Assert.False(Assert.Single(reader.TornTails).Truncated);
        Assert.Equal(length, new FileInfo(read[^1].File).Length);
    }

    [Fact]
    public void The_dump_of_a_Warden_log_lists_each_txn_and_reports_a_torn_tail_without_cutting_it()
    {
        var read = WriteHistory();
        ZeroFrom(read[^1].File, read[^1].Offset + 20);
        long length = new FileInfo(read[^1].File).Length;
        var lines = Dump.Log(read[0].File).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("2023-11-14T22:13:20.001Z session 0x1000000abcd0000 cxid 0x1 zxid 0x1 createSession 30000", lines[1]);
        Assert.Equal("2023-11-14T22:13:20.010Z session 0x1000000abcd0000 cxid 0xa zxid 0xa delete /app/gone", lines[10]);
        Assert.StartsWith("found a damaged tail", lines[^2]);
        Assert.Equal("EOF reached after 15 txns.", lines[^1]);
        Assert.Equal(length, new FileInfo(read[^1].File).Length);
    }

    [Fact]
    public void Appends_must_rise_in_zxid()
    {
        using var writer = new TxnLogWriter(_dir.VersionDir, SmallFiles);
        writer.Append(Txns.Entry(5, new CreateSessionTxn(1000)));
        Assert.Throws<InvariantViolationException>(() => writer.Append(Txns.Entry(5, new CreateSessionTxn(1000))));
    }

    [Fact]
    public void Flush_reports_the_batch_and_the_fsync_time()
    {
        using var writer = new TxnLogWriter(_dir.VersionDir, new TxnLogOptions { PreallocateBytes = 4096 });
        writer.Append(Txns.Entry(1, new CreateSessionTxn(1000)));
        writer.Append(Txns.Entry(2, Txns.Create("/a", "b", 1)));
        var result = writer.Flush();
        Assert.Equal(2, result.Entries);
        Assert.True(result.FsyncDuration > TimeSpan.Zero);
        Assert.Equal(result.FsyncDuration, writer.LastFsyncDuration);
        Assert.Equal(0, writer.Flush().Entries);
    }

    private static void FlipByte(string file, long offset)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        int value = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(value ^ 0x5a));
    }

    private static void ZeroFrom(string file, long offset) => ZeroRange(file, offset, new FileInfo(file).Length - offset);

    private static void ZeroRange(string file, long offset, long count)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        stream.Write(new byte[count]);
    }
}
