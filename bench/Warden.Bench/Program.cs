using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Warden.Bench;
using Warden.Data;
using Warden.Protocol;
using Warden.Storage;

// warden-bench: measures Warden beside Apache ZooKeeper 3.8 in the same run, on the same disk, and prints
// each figure with its ratio. Usage: warden-bench [latency|restart|memory|mixed|snapshot-stall|ensemble-throughput|failover|follower-catchup|all]
// [--creates N] [--nodes N] [--dir PATH] [--clients N] [--window N] [--warmup S] [--seconds S] [--rounds N]
// [--catchup-writes N] [--reads 0,50,90,100] [--snap-count N] [--loop-only] [--in-process] [--settle S] [--baseline path/to/other/warden.dll]
string mode = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "all";
int creates = IntOption("--creates", 2000);
int nodes = IntOption("--nodes", 1_000_000);
int clients = IntOption("--clients", 16);
int window = IntOption("--window", 50);
int warmUpSeconds = IntOption("--warmup", 5);
int measuredSeconds = IntOption("--seconds", 15);
int rounds = IntOption("--rounds", 10);
int catchupWrites = IntOption("--catchup-writes", 10_000);
int snapCount = IntOption("--snap-count", 4000);
var readPercents = MixedThroughput.ParsePercents(StringOption("--reads", "0,50,90,100"));
string baseline = StringOption("--baseline", "");
if (baseline.Length > 0) BenchServer.BaselineDll = Path.GetFullPath(baseline);
string root = StringOption("--dir", Path.Combine(Path.GetTempPath(), "warden-bench-" + Environment.ProcessId));
Directory.CreateDirectory(root);
// A crash on a pool thread skips the using blocks that stop the servers; the servers are stopped here instead.
AppDomain.CurrentDomain.UnhandledException += (_, _) => BenchServer.KillAllStarted();
Console.CancelKeyPress += (_, _) => BenchServer.KillAllStarted();
Console.WriteLine($"warden-bench: work directory {root}");
try
{
    if (mode is "latency" or "all") await Latency.RunAsync(root, creates);
    if (mode is "restart" or "all") await Restart.RunAsync(root, nodes);
    if (mode is "memory" or "all") await MemoryPerZnode.RunAsync(root, IntOption("--nodes", 200_000), servers: !args.Contains("--in-process"),
        settle: TimeSpan.FromSeconds(IntOption("--settle", 3)));
    if (mode is "mixed" or "all")
    {
        await MixedThroughput.RunAsync(root, clients, window, TimeSpan.FromSeconds(warmUpSeconds), TimeSpan.FromSeconds(measuredSeconds), readPercents);
    }
    if (mode is "snapshot-stall" or "all") await SnapshotStall.RunAsync(root, nodes, snapCount, servers: !args.Contains("--loop-only"));
    if (mode is "ensemble-throughput" or "all")
    {
        await EnsembleThroughput.RunAsync(root, clients, window, TimeSpan.FromSeconds(warmUpSeconds), TimeSpan.FromSeconds(measuredSeconds));
    }
    if (mode is "failover" or "all") await Failover.RunAsync(root, rounds);
    if (mode is "follower-catchup" or "all") await FollowerCatchup.RunAsync(root, nodes, catchupWrites);
}
finally
{
    Directory.Delete(root, recursive: true);
}

int IntOption(string name, int fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

string StringOption(string name, string fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}

/// <summary>Sequential synchronous creates against the disk's own fdatasync latency.</summary>
static class Latency
{
    public static async Task RunAsync(string root, int creates)
    {
        var fsync = DiskSyncLatency(Path.Combine(root, "fsync-probe"), Math.Max(500, creates / 2));
        Console.WriteLine($"\nfdatasync of a 100-byte append: p50 {Ms(Percentile(fsync, 50))} ms, p99 {Ms(Percentile(fsync, 99))} ms");
        var results = new Dictionary<Kind, List<double>>();
        foreach (var kind in new[] { Kind.Apache, Kind.Warden })
        {
            string dir = Path.Combine(root, "latency-" + kind);
            using var server = BenchServer.Start(kind, Path.Combine(dir, "data"), Path.Combine(dir, "log"));
            using var client = await BenchClient.ConnectAsync(server.Port, TimeSpan.FromSeconds(60));
            var payload = new byte[100];
            for (int i = 0; i < 200; i++) Check(client.Call(OpCode.Create, new CreateRequest($"/warm{i}", payload, [.. Acl.OpenUnsafe], 0)));
            var samples = new List<double>(creates);
            for (int i = 0; i < creates; i++)
            {
                long started = Stopwatch.GetTimestamp();
                Check(client.Call(OpCode.Create, new CreateRequest($"/n{i}", payload, [.. Acl.OpenUnsafe], 0)));
                samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            results[kind] = samples;
        }
        double fsyncP50 = Percentile(fsync, 50);
        Console.WriteLine($"{"sequential create",-22}{"p50 ms",10}{"p99 ms",10}{"p50 - fsync p50",18}");
        foreach (var (kind, samples) in results)
        {
            double p50 = Percentile(samples, 50);
            Console.WriteLine($"{kind,-22}{Ms(p50),10}{Ms(Percentile(samples, 99)),10}{Ms(p50 - fsyncP50),18}");
        }
        Console.WriteLine($"Warden p50 / Apache p50: {Percentile(results[Kind.Warden], 50) / Percentile(results[Kind.Apache], 50):0.00} " +
            "(target: Warden's p50 within 0.1 ms of the fsync p50)");
    }

    private static void Check(int err)
    {
        if (err != 0) throw new InvalidOperationException($"create failed with error {err}");
    }

    /// <summary>Appends 100 bytes to a preallocated file and waits for fdatasync, as a txn log does.</summary>
    private static List<double> DiskSyncLatency(string path, int count)
    {
        var samples = new List<double>(count);
        using var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1);
        file.SetLength(64L * 1024 * 1024);
        file.Flush(flushToDisk: true);
        var block = new byte[100];
        for (int i = 0; i < count; i++)
        {
            long started = Stopwatch.GetTimestamp();
            file.Position = (long)i * block.Length;
            file.Write(block);
            DataSync(file);
            samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return samples;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int fdatasync(SafeFileHandle fd);

    private static void DataSync(FileStream file)
    {
        file.Flush(flushToDisk: false);
        if (OperatingSystem.IsLinux()) fdatasync(file.SafeFileHandle);
        else file.Flush(flushToDisk: true);
    }

    public static double Percentile(List<double> samples, int percentile)
    {
        var sorted = samples.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
    }

    public static string Ms(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);
}

/// <summary>Restart of a server holding many znodes: time to first read, memory afterwards, bytes on disk.</summary>
static class Restart
{
    public static async Task RunAsync(string root, int nodeCount)
    {
        string seed = Path.Combine(root, "seed");
        var built = Stopwatch.StartNew();
        long zxid = BuildDataDirectory(seed, nodeCount);
        Console.WriteLine($"\nbuilt a data directory of {nodeCount} znodes of 100 bytes (zxid 0x{zxid:x}) in {built.Elapsed.TotalSeconds:0.0} s");
        Console.WriteLine($"{"restart",-10}{"to first read s",18}{"resident MiB",15}{"on disk MiB",14}");
        var figures = new Dictionary<Kind, (double Seconds, double ResidentMiB, double DiskMiB)>();
        foreach (var kind in new[] { Kind.Apache, Kind.Warden })
        {
            string dir = Path.Combine(root, "restart-" + kind);
            CopyDirectory(seed, dir);
            var clock = Stopwatch.StartNew();
            using var server = BenchServer.Start(kind, Path.Combine(dir, "data"), Path.Combine(dir, "data"));
            using var client = await BenchClient.ConnectAsync(server.Port, TimeSpan.FromMinutes(5));
            int err = client.Call(OpCode.GetData, new PathWatchRequest($"/bench/n{nodeCount - 1}", false));
            double seconds = clock.Elapsed.TotalSeconds;
            if (err != 0) throw new InvalidOperationException($"{kind} lost the last znode (error {err})");
            GC.Collect();
            await Task.Delay(TimeSpan.FromSeconds(2));
            double resident = server.ResidentMiB();
            double disk = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) / 1048576.0;
            figures[kind] = (seconds, resident, disk);
            Console.WriteLine($"{kind,-10}{seconds,18:0.00}{resident,15:0}{disk,14:0}");
            // Warden's own account of the load: how long reading the data took, and whether its heap was trimmed after.
            foreach (var line in server.LastOutput().Split('\n'))
            {
                if (kind == Kind.Warden && (line.Contains("Loaded ", StringComparison.Ordinal) || line.Contains("Heap ", StringComparison.Ordinal)))
                {
                    Console.WriteLine($"  {line[(line.IndexOf("] ", StringComparison.Ordinal) + 2)..]}");
                }
            }
        }
        var (w, a) = (figures[Kind.Warden], figures[Kind.Apache]);
        Console.WriteLine($"Warden / Apache: restart {w.Seconds / a.Seconds:0.00} (target <= 0.25), " +
            $"resident {w.ResidentMiB / a.ResidentMiB:0.00} (target <= 200 MiB: {w.ResidentMiB:0}), disk {w.DiskMiB / a.DiskMiB:0.00}");
    }

    /// <summary>Builds the tree in memory and stores it as one snapshot, readable by both servers.</summary>
    public static long BuildDataDirectory(string directory, int nodeCount)
    {
        var tree = new DataTree();
        long zxid = 0;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        List<Acl> open = [.. Acl.OpenUnsafe];
        tree.Apply(new TxnHeader(0, 0, ++zxid, now, (int)OpCode.Create), new CreateTxn("/bench", [], open, false, -1));
        var payload = new byte[100];
        for (int i = 0; i < nodeCount; i++)
        {
            tree.Apply(new TxnHeader(0, 0, ++zxid, now, (int)OpCode.Create), new CreateTxn($"/bench/n{i}", payload, open, false, -1));
        }
        var database = new Database(Path.Combine(directory, "data"));
        database.TakeSnapshot(tree, new Dictionary<long, int>(), zxid);
        return zxid;
    }

    public static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
