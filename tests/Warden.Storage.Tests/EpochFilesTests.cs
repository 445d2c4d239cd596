using System.Text;
using Warden.Storage;

namespace Warden.Storage.Tests;

/// <summary>
/// The text format is pinned from Apache 3.8's QuorumPeer: writeLongToFile writes Long.toString(value) with no
/// newline through AtomicFileOutputStream (name + ".tmp", fsync, rename); readLongFromFile parses the first line.
/// The interop test in Interop/ApacheEnsembleMemberTests reads files a real Apache quorum member wrote.
/// </summary>
public sealed class EpochFilesTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Snap => _dir.VersionDir;

    private string FileText(string name) => File.ReadAllText(Path.Combine(Snap, name));

    [Fact]
    public void Written_epochs_are_bare_decimal_text_and_read_back()
    {
        EpochFiles.WriteAccepted(Snap, 7);
        EpochFiles.WriteCurrent(Snap, 6);
        Assert.Equal("7", FileText("acceptedEpoch"));
        Assert.Equal("6", FileText("currentEpoch"));
        Assert.Empty(Directory.GetFiles(Snap, "*.tmp"));
        Assert.Equal(new EpochState(7, 6), EpochFiles.Read(Snap, (6L << 32) | 12));
    }

    [Fact]
    public void Missing_files_are_created_from_the_epoch_of_the_last_zxid()
    {
        var state = EpochFiles.Read(Snap, (3L << 32) | 0x55);
        Assert.Equal(new EpochState(3, 3), state);
        Assert.Equal("3", FileText("currentEpoch"));
        Assert.Equal("3", FileText("acceptedEpoch"));
    }

    [Fact]
    public void An_empty_database_starts_at_epoch_zero()
    {
        Assert.Equal(new EpochState(0, 0), EpochFiles.Read(Snap, 0));
        Assert.Equal(new EpochState(0, 0), EpochFiles.Read(Snap, -1));
    }

    [Fact]
    public void A_line_break_after_the_number_is_accepted_as_Apache_reads_the_first_line()
    {
        Directory.CreateDirectory(Snap);
        File.WriteAllText(Path.Combine(Snap, "currentEpoch"), "4\n");
        File.WriteAllText(Path.Combine(Snap, "acceptedEpoch"), "5\r\n");
        Assert.Equal(new EpochState(5, 4), EpochFiles.Read(Snap, 4L << 32));
    }

    [Theory]
    [InlineData("")]
    [InlineData("five")]
    [InlineData(" 5")]
    [InlineData("-2")]
    [InlineData("99999999999")]
    public void A_corrupt_file_is_a_one_line_error_naming_it(string content)
    {
        Directory.CreateDirectory(Snap);
        File.WriteAllText(Path.Combine(Snap, "currentEpoch"), content);
        var error = Assert.Throws<InvalidDataException>(() => EpochFiles.Read(Snap, 0));
        Assert.Contains(Path.Combine(Snap, "currentEpoch"), error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void An_accepted_epoch_below_the_current_one_refuses_to_start()
    {
        EpochFiles.WriteCurrent(Snap, 5);
        EpochFiles.WriteAccepted(Snap, 4);
        var error = Assert.Throws<InvalidDataException>(() => EpochFiles.Read(Snap, 5L << 32));
        Assert.Contains("less than the current epoch 5", error.Message);
    }

    [Fact]
    public void A_current_epoch_older_than_the_log_without_a_temp_file_refuses_to_start()
    {
        EpochFiles.WriteCurrent(Snap, 2);
        EpochFiles.WriteAccepted(Snap, 3);
        var error = Assert.Throws<InvalidDataException>(() => EpochFiles.Read(Snap, (3L << 32) | 1));
        Assert.Contains("older than the last logged zxid 0x300000001", error.Message);
    }

    [Fact]
    public void A_current_epoch_whose_rename_was_lost_is_taken_from_the_temp_file()
    {
        // A crash after currentEpoch.tmp was fsynced but before the rename, then txns of the new epoch logged.
        EpochFiles.WriteCurrent(Snap, 2);
        EpochFiles.WriteAccepted(Snap, 3);
        File.WriteAllText(Path.Combine(Snap, "currentEpoch.tmp"), "3");
        Assert.Equal(new EpochState(3, 3), EpochFiles.Read(Snap, (3L << 32) | 1));
        Assert.Equal("3", FileText("currentEpoch"));
    }

    [Fact]
    public void A_stale_temp_file_is_ignored_when_the_current_epoch_is_not_behind()
    {
        EpochFiles.WriteCurrent(Snap, 3);
        EpochFiles.WriteAccepted(Snap, 3);
        File.WriteAllText(Path.Combine(Snap, "currentEpoch.tmp"), "9");
        Assert.Equal(new EpochState(3, 3), EpochFiles.Read(Snap, (3L << 32) | 1));
    }

    [Fact]
    public void Rewriting_replaces_the_value_whole()
    {
        EpochFiles.WriteAccepted(Snap, 123456);
        EpochFiles.WriteAccepted(Snap, 8);
        Assert.Equal("8", Encoding.ASCII.GetString(File.ReadAllBytes(Path.Combine(Snap, "acceptedEpoch"))));
    }
}
