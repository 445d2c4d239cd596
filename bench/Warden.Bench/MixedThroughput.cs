using System.Diagnostics;
using System.Globalization;
using Warden.Data;
using Warden.Protocol;

namespace Warden.Bench;

/// <summary>
/// Throughput of one standalone server under a mix of reads and writes: many sessions, each keeping a window of
/// requests outstanding on its own znode, a given share of them getData and the rest 100-byte setData. A read
/// must wait for its session's earlier writes, so this is the load where a server that also holds back the
/// session's later writes behind such a read loses its group commit. Each mix runs for a fixed time after a
/// warm-up, on the same server; the figures are printed per server and as ratios.
/// </summary>
public static class MixedThroughput
{
    public static async Task RunAsync(string root, int clients, int window, TimeSpan warmUp, TimeSpan measured, IReadOnlyList<int> readPercents)
    {
        Console.WriteLine($"\nmixed: standalone, {clients} clients x {window} outstanding, getData or 100-byte setData of the client's znode, " +
            $"{warmUp.TotalSeconds:0} s warm-up and {measured.TotalSeconds:0} s measured per mix");
        var kinds = BenchServer.BaselineDll is null ? new[] { Kind.Apache, Kind.Warden } : new[] { Kind.Apache, Kind.Baseline, Kind.Warden };
        var figures = new Dictionary<(Kind, int), (double OpsPerSecond, double P50, double P99, long Errors)>();
        foreach (var kind in kinds)
        {
            string dir = Path.Combine(root, "mixed-" + kind);
            using var server = BenchServer.Start(kind, Path.Combine(dir, "data"), Path.Combine(dir, "log"));
            await SetUpAsync(server.Port, clients);
            foreach (int reads in readPercents)
            {
                var f = await MeasureAsync(server.Port, clients, window, reads, warmUp, measured);
                figures[(kind, reads)] = f;
                Console.WriteLine($"{kind,-9} {reads,3}% reads {f.OpsPerSecond,10:0} ops/s  p50 {Latency.Ms(f.P50)} ms  " +
                    $"p99 {Latency.Ms(f.P99)} ms  errors {f.Errors}");
            }
        }
        foreach (int reads in readPercents)
        {
            var line = $"{reads,3}% reads: Warden / Apache ops/s {figures[(Kind.Warden, reads)].OpsPerSecond / figures[(Kind.Apache, reads)].OpsPerSecond:0.00}";
            if (BenchServer.BaselineDll is not null)
            {
                line += $", Warden / baseline {figures[(Kind.Warden, reads)].OpsPerSecond / figures[(Kind.Baseline, reads)].OpsPerSecond:0.00}";
            }
            Console.WriteLine(line);
        }
        if (readPercents.Contains(0) && readPercents.Contains(50))
        {
            Console.WriteLine($"Warden 50% reads / 0% reads: {figures[(Kind.Warden, 50)].OpsPerSecond / figures[(Kind.Warden, 0)].OpsPerSecond:0.00} (target >= 1)");
        }
    }

    private static async Task SetUpAsync(int port, int clientCount)
    {
        using var setup = await BenchClient.ConnectAsync(port, TimeSpan.FromSeconds(60));
        Check(setup.Call(OpCode.Create, new CreateRequest("/bench", [], [.. Acl.OpenUnsafe], 0)));
        for (int i = 0; i < clientCount; i++) Check(setup.Call(OpCode.Create, new CreateRequest($"/bench/c{i}", new byte[100], [.. Acl.OpenUnsafe], 0)));
    }

    private static async Task<(double OpsPerSecond, double P50, double P99, long Errors)> MeasureAsync(int port, int clientCount, int window, int readPercent,
        TimeSpan warmUp, TimeSpan measured)
    {
        var clients = new List<PipelinedClient>();
        try
        {
            for (int i = 0; i < clientCount; i++) clients.Add(await PipelinedClient.ConnectAsync(port, TimeSpan.FromSeconds(60)));
            using var stop = new CancellationTokenSource();
            var payload = new byte[100];
            Random.Shared.NextBytes(payload);
            var running = clients
                .Select((c, i) => Task.Run(() => c.RunAsync($"/bench/c{i}", payload, window, stop.Token, readPercent, seed: i)))
                .ToList();
            double seconds;
            try
            {
                await Task.WhenAny(Task.WhenAll(running), Task.Delay(warmUp));
                ThrowIfFailed(running);
                foreach (var client in clients) client.Measuring = true;
                var clock = Stopwatch.StartNew();
                await Task.WhenAny(Task.WhenAll(running), Task.Delay(measured));
                foreach (var client in clients) client.Measuring = false;
                seconds = clock.Elapsed.TotalSeconds;
                ThrowIfFailed(running);
            }
            finally
            {
                stop.Cancel();
                await Task.WhenAny(Task.WhenAll(running), Task.Delay(TimeSpan.FromSeconds(60)));
            }
            long ops = clients.Sum(c => c.MeasuredOps);
            if (ops == 0) throw new InvalidOperationException($"no request completed in the measured window at {readPercent}% reads");
            var latencies = clients.SelectMany(c => c.LatenciesMs).ToList();
            return (ops / seconds, Latency.Percentile(latencies, 50), Latency.Percentile(latencies, 99), clients.Sum(c => c.Errors));
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
    }

    /// <summary>The read shares to run, from <c>--reads 0,50,90,100</c>.</summary>
    public static List<int> ParsePercents(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture))];

    private static void ThrowIfFailed(List<Task> running)
    {
        var failed = running.FirstOrDefault(t => t.IsFaulted);
        if (failed is not null) throw new InvalidOperationException("a load client failed", failed.Exception);
    }

    private static void Check(int err)
    {
        if (err != 0) throw new InvalidOperationException($"setup write failed with error {err}");
    }
}
