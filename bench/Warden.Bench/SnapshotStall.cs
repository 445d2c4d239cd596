using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Warden.Data;
using Warden.Protocol;
using Warden.Server;
using Warden.Server.Processing;
using Warden.Server.Replication;

namespace Warden.Bench;

/// <summary>
/// How long a snapshot of a big tree stops the server from answering. Two measurements:
/// - the request loop itself, in this process: a probe queued on the loop every millisecond or so, timed from
///   queueing to running, while the loop captures the tree for a snapshot file the whole-tree way (the image a
///   SNAP still uses) and the sliced, fuzzy way snapshot files use;
/// - each server as a client sees it: a standalone server started on a data directory of that many znodes, with
///   a small snapCount, under a pipelined setData load, while a second client times sequential getData round trips
///   until the server's snapshot file has been written.
/// </summary>
public static class SnapshotStall
{
    public static async Task RunAsync(string root, int nodeCount, int snapCountTxns, bool servers)
    {
        Console.WriteLine($"\nsnapshot-stall: {nodeCount} znodes of 100 bytes");
        await InProcessAsync(nodeCount);
        if (servers) await ServersAsync(root, nodeCount, snapCountTxns);
    }

    private static async Task InProcessAsync(int nodeCount)
    {
        var tree = BuildTree(nodeCount);
        var core = new ServerCore(new ServerSettings(), new InMemoryReplicator(), TimeProvider.System, NullLogger.Instance, tree);
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(() => core.RunAsync(stop.Token));
        try
        {
            var whole = await ProbeWhileAsync(core, () => core.QueryAsync(core.CaptureSnapshotImage));
            var sliced = await ProbeWhileAsync(core, core.CaptureFuzzySnapshotAsync);
            Console.WriteLine($"{"loop capture",-22}{"capture ms",12}{"longest slice ms",18}{"longest probe wait ms",23}{"probes",8}{"GC pause ms",13}");
            foreach (var (name, f) in new[] { ("whole tree (before)", whole), ("sliced, fuzzy (now)", sliced) })
            {
                Console.WriteLine($"{name,-22}{f.CaptureMs,12:0}{f.SliceMs,18:0.0}{f.LongestMs,23:0.0}{f.Probes,8}{f.GcPauseMs,13:0}");
            }
        }
        finally
        {
            stop.Cancel();
            await loop;
        }
        // The slices alone, on this thread with the loop stopped: what each costs without the probes and the loop
        // around it (on a busy machine the longest one also holds the time the thread was not scheduled).
        var capture = new Storage.FuzzyCapture(tree, new Dictionary<long, int>());
        var slices = new List<double>();
        for (bool done = false; !done;)
        {
            long started = Stopwatch.GetTimestamp();
            done = capture.Step(core.SnapshotSliceNodes);
            slices.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        Console.WriteLine($"{slices.Count} slices of {core.SnapshotSliceNodes} nodes: p50 {Latency.Ms(Latency.Percentile(slices, 50))} ms, " +
            $"p99 {Latency.Ms(Latency.Percentile(slices, 99))} ms, longest {Latency.Ms(slices.Max())} ms");
    }

    /// <summary>Runs a capture and probes the loop until it is done: the longest wait of a probe is the longest stall.</summary>
    private static async Task<(double CaptureMs, double SliceMs, double LongestMs, int Probes, double GcPauseMs)> ProbeWhileAsync(
        ServerCore core, Func<Task<Storage.SnapshotImage>> capture)
    {
        GC.Collect();
        var gcPaused = GC.GetTotalPauseDuration();
        var clock = Stopwatch.StartNew();
        var image = capture();
        double longest = 0;
        int probes = 0;
        while (!image.IsCompleted)
        {
            long queued = Stopwatch.GetTimestamp();
            await core.QueryAsync(() => 0);
            longest = Math.Max(longest, Stopwatch.GetElapsedTime(queued).TotalMilliseconds);
            probes++;
            await Task.Delay(1);
        }
        var result = await image;
        double captureMs = clock.Elapsed.TotalMilliseconds;
        if (result.Nodes.Count < 1000) throw new InvalidOperationException("the capture missed the tree");
        // An exact capture is one pause as long as the capture.
        double sliceMs = result.LongestCaptureStep == TimeSpan.Zero ? captureMs : result.LongestCaptureStep.TotalMilliseconds;
        return (captureMs, sliceMs, longest, probes, (GC.GetTotalPauseDuration() - gcPaused).TotalMilliseconds);
    }

    private static DataTree BuildTree(int nodeCount)
    {
        var tree = new DataTree();
        long zxid = 0;
        List<Acl> open = [.. Acl.OpenUnsafe];
        tree.Apply(new TxnHeader(0, 0, ++zxid, 0, (int)OpCode.Create), new CreateTxn("/bench", [], open, false, -1));
        var payload = new byte[100];
        for (int i = 0; i < nodeCount; i++)
        {
            tree.Apply(new TxnHeader(0, 0, ++zxid, 0, (int)OpCode.Create), new CreateTxn($"/bench/n{i}", payload, open, false, -1));
        }
        return tree;
    }

    private static async Task ServersAsync(string root, int nodeCount, int snapCountTxns)
    {
        string seed = Path.Combine(root, "stall-seed");
        Restart.BuildDataDirectory(seed, nodeCount);
        Console.WriteLine($"{"server, snapCount " + snapCountTxns,-28}{"getData p50 ms",16}{"longest ms",12}{"round trips",13}{"writes/s",10}");
        var kinds = BenchServer.BaselineDll is null ? new[] { Kind.Apache, Kind.Warden } : new[] { Kind.Apache, Kind.Baseline, Kind.Warden };
        foreach (var kind in kinds)
        {
            string dir = Path.Combine(root, "stall-" + kind);
            Restart.CopyDirectory(seed, dir);
            string data = Path.Combine(dir, "data");
            using var server = BenchServer.Start(kind, data, data, $"snapCount={snapCountTxns}\n");
            using var prober = await BenchClient.ConnectAsync(server.Port, TimeSpan.FromMinutes(5));
            using var writer = await PipelinedClient.ConnectAsync(server.Port, TimeSpan.FromSeconds(60));
            var snapshotDir = Path.Combine(data, "version-2");
            var before = Directory.GetFiles(snapshotDir, "snapshot.*").ToHashSet();
            using var stop = new CancellationTokenSource();
            var payload = new byte[100];
            // This process built big trees: a collection of them now, not in the middle of the probes.
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            var writing = Task.Run(() => writer.RunAsync("/bench/n0", payload, 10, stop.Token));
            var samples = new List<double>();
            var clock = Stopwatch.StartNew();
            var deadline = TimeSpan.FromMinutes(2);
            try
            {
                // Until a new snapshot file is complete (Warden renames it into place; Apache's is sealed when the
                // size stops changing) and one more second, to take in the write of the file as well.
                TimeSpan? doneAt = null;
                while (clock.Elapsed < deadline && (doneAt is null || clock.Elapsed < doneAt + TimeSpan.FromSeconds(1)))
                {
                    long started = Stopwatch.GetTimestamp();
                    int err = prober.Call(OpCode.GetData, new PathWatchRequest("/bench/n1", false));
                    samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    if (err != 0) throw new InvalidOperationException($"{kind} answered getData with error {err}");
                    if (doneAt is null && samples.Count % 50 == 0 && NewSnapshotComplete(snapshotDir, before)) doneAt = clock.Elapsed;
                }
                if (doneAt is null) throw new InvalidOperationException($"{kind} wrote no snapshot within {deadline.TotalSeconds} s");
            }
            finally
            {
                stop.Cancel();
                await Task.WhenAny(writing, Task.Delay(TimeSpan.FromSeconds(30)));
            }
            double seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"{kind,-28}{Latency.Ms(Latency.Percentile(samples, 50)),16}{samples.Max(),12:0.0}{samples.Count,13}{writer.Completed / seconds,10:0}");
            foreach (var line in server.LastOutput().Split('\n').Where(l => l.Contains("Snapshot", StringComparison.Ordinal) && l.Contains("taken", StringComparison.Ordinal)))
            {
                Console.WriteLine("    " + line.Trim());
            }
        }
    }

    private static readonly Dictionary<string, long> LastSizes = [];

    private static bool NewSnapshotComplete(string directory, HashSet<string> before)
    {
        foreach (var file in Directory.GetFiles(directory, "snapshot.*").Where(f => !before.Contains(f)))
        {
            long size = new FileInfo(file).Length;
            bool stable = LastSizes.TryGetValue(file, out long last) && last == size && size > 0;
            LastSizes[file] = size;
            if (stable) return true;
        }
        return false;
    }
}
