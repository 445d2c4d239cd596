using System.CommandLine;
using Warden.Storage;

namespace Warden.Cli;

/// <summary>
/// Tools for a data directory, Warden's or Apache's alike: `warden log dump`, `warden snapshot dump` (like
/// Apache's zkTxnLogToolkit and zkSnapShotToolkit) and `warden purge` (like zkCleanup.sh).
/// </summary>
public static class DataCommands
{
    public static Command Log()
    {
        var file = new Argument<FileInfo>("log-file") { Description = "A txn log file, log.<zxid>, from a version-2 folder." };
        var dump = new Command("dump", "Print every transaction in a txn log file, one per line.") { file };
        dump.SetAction(parse => Run(() => Console.Out.Write(Dump.Log(parse.GetValue(file)!.FullName))));
        return new Command("log", "Read txn log files.") { dump };
    }

    public static Command Snapshot()
    {
        var file = new Argument<FileInfo>("snapshot-file") { Description = "A snapshot file, snapshot.<zxid>, from a version-2 folder." };
        var withData = new Option<bool>("--data") { Description = "Also print each node's data." };
        var dump = new Command("dump", "Print the tree, stats and sessions a snapshot holds.") { file, withData };
        dump.SetAction(parse => Run(() => Console.Out.Write(Dump.Snapshot(parse.GetValue(file)!.FullName, parse.GetValue(withData)))));
        return new Command("snapshot", "Read snapshot files.") { dump };
    }

    public static Command Purge()
    {
        var dataDir = new Argument<DirectoryInfo>("dataDir") { Description = "The dataDir holding the snapshots." };
        var dataLogDir = new Option<DirectoryInfo?>("--dataLogDir") { Description = "The dataLogDir, when the logs live elsewhere." };
        var count = new Option<int>("-n") { Description = "Snapshots to keep (at least 3).", DefaultValueFactory = _ => 3 };
        var purge = new Command("purge", "Delete old snapshots and the txn logs only they needed, keeping the newest N.")
        {
            dataDir, dataLogDir, count,
        };
        purge.SetAction(parse => Run(() =>
        {
            int keep = parse.GetValue(count);
            if (keep < 3) throw new ArgumentException($"-n {keep} is too few: at least 3 snapshots must be kept, as Apache's zkCleanup.sh requires");
            var database = new Database(parse.GetValue(dataDir)!.FullName, parse.GetValue(dataLogDir)?.FullName);
            var result = database.Purge(keep);
            foreach (var deleted in result.Deleted) Console.Out.WriteLine($"deleted {deleted}");
            Console.Out.WriteLine($"kept {result.KeptSnapshots.Count} snapshots, from zxid 0x{result.OldestKeptZxid:x}");
        }));
        return purge;
    }

    /// <summary>Runs a tool and turns a bad file into one line and exit code 1, never a stack trace.</summary>
    private static int Run(Action action)
    {
        try
        {
            action();
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException or TxnLogCorruptException)
        {
            Console.Error.WriteLine($"warden: {e.Message}");
            return 1;
        }
    }
}
