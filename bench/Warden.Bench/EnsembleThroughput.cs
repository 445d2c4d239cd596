using System.Diagnostics;
using Warden.Data;
using Warden.Protocol;

namespace Warden.Bench;

/// <summary>
/// Write throughput of a 3-server ensemble: many sessions spread over the members, each keeping a window of
/// 100-byte setData requests outstanding, for a fixed time after a warm-up. Prints ops/s, latency percentiles
/// and the servers' CPU time per op, for each kind and as the ratio Warden / Apache.
/// </summary>
public static class EnsembleThroughput
{
    public static async Task RunAsync(string root, int clients, int window, TimeSpan warmUp, TimeSpan measured)
    {
        Console.WriteLine($"\nensemble-throughput: 3 servers, {clients} clients x {window} outstanding 100-byte setData, " +
            $"{warmUp.TotalSeconds:0} s warm-up, {measured.TotalSeconds:0} s measured");
        var figures = new Dictionary<Kind, (double OpsPerSecond, double P50, double P99, double CpuMsPerOp, long Errors)>();
        foreach (var kind in new[] { Kind.Apache, Kind.Warden })
        {
            using var ensemble = BenchEnsemble.Create(kind, Path.Combine(root, "throughput-" + kind));
            ensemble.StartAll();
            await ensemble.WaitServingAsync(TimeSpan.FromMinutes(2));
            figures[kind] = await MeasureAsync(ensemble, clients, window, warmUp, measured);
            var f = figures[kind];
            Console.WriteLine($"{kind,-8} {f.OpsPerSecond,10:0} ops/s  p50 {Latency.Ms(f.P50)} ms  p99 {Latency.Ms(f.P99)} ms  " +
                $"server CPU {f.CpuMsPerOp:0.000} ms/op  errors {f.Errors}");
        }
        var (w, a) = (figures[Kind.Warden], figures[Kind.Apache]);
        Console.WriteLine($"Warden / Apache: ops/s {w.OpsPerSecond / a.OpsPerSecond:0.00} (target >= 3), " +
            $"p50 {w.P50 / a.P50:0.00}, p99 {w.P99 / a.P99:0.00} (target <= 0.5), CPU per op {w.CpuMsPerOp / a.CpuMsPerOp:0.00}");
    }

    private static async Task<(double, double, double, double, long)> MeasureAsync(
        BenchEnsemble ensemble, int clientCount, int window, TimeSpan warmUp, TimeSpan measured)
    {
        // Each client writes its own znode, so the figures measure replication rather than version conflicts.
        using (var setup = await BenchClient.ConnectAsync(ensemble.ClientPorts[0], TimeSpan.FromSeconds(60)))
        {
            Check(setup.Call(OpCode.Create, new CreateRequest("/bench", [], [.. Acl.OpenUnsafe], 0)));
            for (int i = 0; i < clientCount; i++) Check(setup.Call(OpCode.Create, new CreateRequest($"/bench/c{i}", new byte[100], [.. Acl.OpenUnsafe], 0)));
        }
        var clients = new List<PipelinedClient>();
        try
        {
            for (int i = 0; i < clientCount; i++)
            {
                clients.Add(await PipelinedClient.ConnectAsync(ensemble.ClientPorts[i % BenchEnsemble.Size], TimeSpan.FromSeconds(60)));
            }
            using var stop = new CancellationTokenSource();
            var payload = new byte[100];
            Random.Shared.NextBytes(payload);
            var running = clients.Select((c, i) => Task.Run(() => c.RunAsync($"/bench/c{i}", payload, window, stop.Token))).ToList();
            double seconds, cpu;
            try
            {
                await Task.WhenAny(Task.WhenAll(running), Task.Delay(warmUp));
                ThrowIfFailed(running);
                double cpuBefore = ensemble.CpuSeconds();
                foreach (var client in clients) client.Measuring = true;
                var clock = Stopwatch.StartNew();
                await Task.WhenAny(Task.WhenAll(running), Task.Delay(measured));
                foreach (var client in clients) client.Measuring = false;
                seconds = clock.Elapsed.TotalSeconds;
                cpu = ensemble.CpuSeconds() - cpuBefore;
                ThrowIfFailed(running);
            }
            finally
            {
                stop.Cancel();
                await Task.WhenAny(Task.WhenAll(running), Task.Delay(TimeSpan.FromSeconds(60)));
            }
            // The latency lists are read only once the receivers have stopped adding to them.
            long ops = clients.Sum(c => c.MeasuredOps);
            if (ops == 0) throw new InvalidOperationException($"{ensemble.Kind} completed no write in the measured window");
            var latencies = clients.SelectMany(c => c.LatenciesMs).ToList();
            return (ops / seconds, Latency.Percentile(latencies, 50), Latency.Percentile(latencies, 99),
                cpu * 1000 / ops, clients.Sum(c => c.Errors));
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
    }

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
