using System.Diagnostics;

namespace Warden.Bench;

/// <summary>
/// A follower's restart in a loaded ensemble: every member starts from the same snapshot of many znodes, one
/// follower is stopped, the others take more writes, and the time runs from the follower's start until its
/// <c>srvr</c> Zxid reaches the one the leader had at that start: loading its own data, rejoining, and syncing
/// what it missed.
/// </summary>
public static class FollowerCatchup
{
    private static readonly TimeSpan CatchUpBound = TimeSpan.FromMinutes(5);

    public static async Task RunAsync(string root, int nodeCount, int missedWrites)
    {
        string seed = Path.Combine(root, "catchup-seed");
        var built = Stopwatch.StartNew();
        long seedZxid = Restart.BuildDataDirectory(seed, nodeCount);
        Console.WriteLine($"\nfollower-catchup: 3 servers from a snapshot of {nodeCount} znodes of 100 bytes (zxid 0x{seedZxid:x}, built in " +
            $"{built.Elapsed.TotalSeconds:0.0} s); one follower stopped while the others take {missedWrites} setData");
        var figures = new Dictionary<Kind, (double Serving, double CaughtUp)>();
        foreach (var kind in new[] { Kind.Apache, Kind.Warden })
        {
            string directory = Path.Combine(root, "catchup-" + kind);
            using var ensemble = BenchEnsemble.Create(kind, directory);
            for (int i = 0; i < BenchEnsemble.Size; i++)
            {
                Restart.CopyDirectory(Path.Combine(seed, "data"), BenchEnsemble.DataDirectory(directory, i));
            }
            var clock = Stopwatch.StartNew();
            ensemble.StartAll();
            int leader = await ensemble.WaitServingAsync(TimeSpan.FromMinutes(10));
            Console.WriteLine($"{kind,-8} ensemble serving after {clock.Elapsed.TotalSeconds:0.0} s, leader server {leader + 1}");
            int follower = (leader + 1) % BenchEnsemble.Size;
            int writeTo = (leader + 2) % BenchEnsemble.Size;
            ensemble.Stop(follower);
            await WriteAsync(ensemble.ClientPorts[writeTo], missedWrites);
            var leaderState = await ensemble.StateAsync(leader, TimeSpan.FromSeconds(10))
                ?? throw new InvalidOperationException($"{kind} leader did not answer srvr");
            clock.Restart();
            ensemble.Start(follower);
            double answering = -1, serving = -1;
            while (true)
            {
                if (clock.Elapsed > CatchUpBound)
                {
                    throw new TimeoutException($"{kind} follower did not reach the leader's zxid within {CatchUpBound.TotalMinutes:0} minutes; " +
                        $"follower's last output:\n{ensemble.LastOutput(follower)}\nleader's last output:\n{ensemble.LastOutput(leader)}");
                }
                var state = await ensemble.StateAsync(follower, TimeSpan.FromSeconds(2));
                if (state is not null && answering < 0) answering = clock.Elapsed.TotalSeconds;
                if (state is { Serves: true } && serving < 0) serving = clock.Elapsed.TotalSeconds;
                // The leader may commit more meanwhile (the writer's session expires, for one), so the follower has
                // caught up once it holds everything the leader held when it was started.
                if (state is { } s && s.Zxid >= leaderState.Zxid) break;
                await Task.Delay(20);
            }
            double caughtUp = clock.Elapsed.TotalSeconds;
            figures[kind] = (serving < 0 ? caughtUp : serving, caughtUp);
            Console.WriteLine($"{kind,-8} restarted follower answering srvr after {answering:0.000} s, serving after {figures[kind].Serving:0.000} s, " +
                $"at the leader's zxid 0x{leaderState.Zxid:x} after {caughtUp:0.000} s");
        }
        var (w, a) = (figures[Kind.Warden], figures[Kind.Apache]);
        Console.WriteLine($"Warden / Apache: to the leader's zxid {w.CaughtUp / a.CaughtUp:0.00} " +
            $"(target: Warden within 5 s at 1,000,000 znodes: {w.CaughtUp:0.000} s at {nodeCount})");
    }

    /// <summary>Writes <paramref name="count"/> setData through a pipelined client and waits for every reply.</summary>
    private static async Task WriteAsync(int port, int count)
    {
        using var client = await PipelinedClient.ConnectAsync(port, TimeSpan.FromSeconds(60));
        using var stop = new CancellationTokenSource();
        var running = client.RunAsync("/bench", new byte[100], 50, stop.Token);
        var clock = Stopwatch.StartNew();
        while (client.Completed < count && !running.IsCompleted)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(5)) throw new TimeoutException($"{count} writes did not complete within 5 minutes");
            await Task.Delay(10);
        }
        stop.Cancel();
        await running;
        if (client.Errors > 0) throw new InvalidOperationException($"{client.Errors} writes failed");
    }
}
