using System.Globalization;
using System.Text;
using Warden.Protocol;

namespace Warden.Storage;

/// <summary>
/// The two epochs an ensemble member keeps on disk. <see cref="AcceptedEpoch"/> is the newest epoch it agreed to
/// follow (written on LEADERINFO); <see cref="CurrentEpoch"/> the newest epoch it synced with (written on
/// NEWLEADER). The current epoch never passes the accepted one.
/// </summary>
public readonly record struct EpochState(int AcceptedEpoch, int CurrentEpoch);

/// <summary>
/// Apache 3.8 QuorumPeer's <c>acceptedEpoch</c> and <c>currentEpoch</c> files, in the snapshot directory
/// (<c>dataDir/version-2</c>, not dataLogDir).
/// <code>
/// acceptedEpoch   the epoch as decimal text (Long.toString), no newline, e.g. "5"
/// currentEpoch    the same
/// </code>
/// Apache reads the first line and parses it as a long; it writes through AtomicFileOutputStream: the value goes
/// to <c>&lt;name&gt;.tmp</c>, which is fsynced, then renamed over the file. Warden uses the same temporary name
/// because Apache's recovery looks for <c>currentEpoch.tmp</c> by that name (see <see cref="Read"/>).
/// </summary>
public static class EpochFiles
{
    public const string AcceptedFileName = "acceptedEpoch";
    public const string CurrentFileName = "currentEpoch";
    public const string TempSuffix = ".tmp";

    /// <summary>
    /// Reads both epochs as QuorumPeer.loadDataBase does after the database is loaded.
    /// <list type="bullet">
    /// <item>A missing file is created with the epoch of <paramref name="lastLoggedZxid"/>: a data directory
    /// from a standalone server, or from before these files existed, then joins an ensemble.</item>
    /// <item>A current epoch older than the last zxid's epoch means the rename of a new current epoch was lost in
    /// a crash: the value in <c>currentEpoch.tmp</c> is taken and written, and without that file it is an error.</item>
    /// <item>An accepted epoch below the current one is an error: the member would vote with a history it never
    /// agreed to.</item>
    /// </list>
    /// Errors are <see cref="InvalidDataException"/>s of one line naming the file.
    /// </summary>
    /// <param name="snapshotDirectory">The <c>version-2</c> folder of dataDir.</param>
    /// <param name="lastLoggedZxid">The zxid of the last txn in the snapshot and log (0 for an empty database).</param>
    public static EpochState Read(string snapshotDirectory, long lastLoggedZxid)
    {
        int epochOfZxid = new Zxid(Math.Max(lastLoggedZxid, 0)).Epoch;
        int current = ReadOrCreate(snapshotDirectory, CurrentFileName, epochOfZxid);
        if (epochOfZxid > current)
        {
            string temp = Path.Combine(snapshotDirectory, CurrentFileName + TempSuffix);
            if (!File.Exists(temp))
            {
                throw new InvalidDataException(
                    $"{Path.Combine(snapshotDirectory, CurrentFileName)} holds epoch {current}, older than the last logged " +
                    $"zxid {new Zxid(lastLoggedZxid)} (epoch {epochOfZxid}); the file is stale or the log belongs to another server");
            }
            current = ParseFile(temp);
            WriteCurrent(snapshotDirectory, current);
        }
        int accepted = ReadOrCreate(snapshotDirectory, AcceptedFileName, epochOfZxid);
        if (accepted < current)
        {
            throw new InvalidDataException(
                $"{Path.Combine(snapshotDirectory, AcceptedFileName)} holds epoch {accepted}, less than the current epoch " +
                $"{current} in {CurrentFileName}; one of the two files was edited or restored from another time");
        }
        return new EpochState(accepted, current);
    }

    /// <summary>Durably records the epoch this member agreed to follow; returns only once it is on disk.</summary>
    public static void WriteAccepted(string snapshotDirectory, int epoch) => Write(snapshotDirectory, AcceptedFileName, epoch);

    /// <summary>Durably records the epoch this member is synced with; returns only once it is on disk.</summary>
    public static void WriteCurrent(string snapshotDirectory, int epoch) => Write(snapshotDirectory, CurrentFileName, epoch);

    private static int ReadOrCreate(string snapshotDirectory, string name, int defaultEpoch)
    {
        string path = Path.Combine(snapshotDirectory, name);
        if (File.Exists(path)) return ParseFile(path);
        Write(snapshotDirectory, name, defaultEpoch);
        return defaultEpoch;
    }

    /// <summary>Reads the first line as a decimal number, as Apache's readLongFromFile does.</summary>
    private static int ParseFile(string path)
    {
        string text = File.ReadAllText(path, Encoding.UTF8);
        int end = text.AsSpan().IndexOfAny('\r', '\n');
        string line = end < 0 ? text : text[..end];
        if (!long.TryParse(line, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            string shown = line.Length > 40 ? line[..40] + "..." : line;
            throw new InvalidDataException($"{path} should hold one decimal epoch number but holds \"{shown}\"");
        }
        if (value < 0 || value > int.MaxValue)
        {
            throw new InvalidDataException($"{path} holds {value}, which is not an epoch (0 to {int.MaxValue})");
        }
        return (int)value;
    }

    /// <summary>Temporary file, fsync, rename over the old file: a crash leaves the old value or the new one.</summary>
    private static void Write(string snapshotDirectory, string name, int epoch)
    {
        if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "an epoch is never negative");
        Directory.CreateDirectory(snapshotDirectory);
        string path = Path.Combine(snapshotDirectory, name);
        string temp = path + TempSuffix;
        byte[] text = Encoding.ASCII.GetBytes(epoch.ToString(CultureInfo.InvariantCulture));
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                file.Write(text);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            // A half-written currentEpoch.tmp must not outlive a failed write: Read would take it for a lost rename.
            File.Delete(temp);
            throw;
        }
    }
}
