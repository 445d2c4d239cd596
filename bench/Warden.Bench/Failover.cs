using System.Diagnostics;
using Warden.Data;
using Warden.Protocol;

namespace Warden.Bench;

/// <summary>
/// Leader failover seen by clients: one client per member writes sequentially; the leader is killed with SIGKILL,
/// and the time runs from the kill to the first write acknowledged in the new epoch on a surviving member. Clients
/// that lose their connection resume their session on their own member or another one, as real clients do.
/// </summary>
public static class Failover
{
    private static readonly TimeSpan RoundBound = TimeSpan.FromSeconds(60);

    public static async Task RunAsync(string root, int rounds)
    {
        Console.WriteLine($"\nfailover: 3 servers, one sequential writer per member, kill -9 of the leader, {rounds} rounds");
        var figures = new Dictionary<Kind, (List<double> First, List<double> All)>();
        foreach (var kind in new[] { Kind.Apache, Kind.Warden })
        {
            using var ensemble = BenchEnsemble.Create(kind, Path.Combine(root, "failover-" + kind));
            ensemble.StartAll();
            await ensemble.WaitServingAsync(TimeSpan.FromMinutes(2));
            using (var setup = await BenchClient.ConnectAsync(ensemble.ClientPorts[0], TimeSpan.FromSeconds(60)))
            {
                for (int i = 0; i < BenchEnsemble.Size; i++)
                {
                    int err = setup.Call(OpCode.Create, new CreateRequest($"/failover{i}", new byte[100], [.. Acl.OpenUnsafe], 0));
                    if (err != 0) throw new InvalidOperationException($"setup create failed with error {err}");
                }
            }
            var first = new List<double>();
            var all = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                var (firstSeconds, allSeconds, leader) = await RoundAsync(ensemble);
                first.Add(firstSeconds);
                all.Add(allSeconds);
                Console.WriteLine($"{kind,-8} round {round + 1}: killed server {leader + 1}; first write after {firstSeconds:0.000} s, " +
                    $"every client writing after {allSeconds:0.000} s");
                ensemble.Start(leader);
                await ensemble.WaitServingAsync(TimeSpan.FromMinutes(2));
            }
            figures[kind] = (first, all);
        }
        Console.WriteLine($"{"failover s",-10}{"first median",14}{"first max",11}{"all median",12}{"all max",10}");
        foreach (var (kind, (first, all)) in figures)
        {
            Console.WriteLine($"{kind,-10}{Median(first),14:0.000}{first.Max(),11:0.000}{Median(all),12:0.000}{all.Max(),10:0.000}");
        }
        var (w, a) = (figures[Kind.Warden], figures[Kind.Apache]);
        Console.WriteLine($"Warden / Apache: first-write median {Median(w.First) / Median(a.First):0.00}, " +
            $"every-client median {Median(w.All) / Median(a.All):0.00} (target: Warden first-write median <= 0.25 s: {Median(w.First):0.000})");
    }

    /// <summary>One kill of the leader; returns seconds to the first and to the last client's first new write.</summary>
    private static async Task<(double First, double All, int Leader)> RoundAsync(BenchEnsemble ensemble)
    {
        int leader = await ensemble.WaitServingAsync(TimeSpan.FromMinutes(2));
        var state = await ensemble.StateAsync(leader, TimeSpan.FromSeconds(5))
            ?? throw new InvalidOperationException("the leader did not answer srvr");
        long epoch = state.Zxid >> 32;
        var writers = Enumerable.Range(0, BenchEnsemble.Size).Select(i => new SequentialWriter(ensemble.ClientPorts, i, epoch)).ToList();
        using var stop = new CancellationTokenSource();
        var threads = writers.Select(w => Task.Factory.StartNew(() => w.Run(stop.Token), TaskCreationOptions.LongRunning)).ToList();
        try
        {
            // Every writer must be writing before the kill, or the figure would include its first connect.
            var clock = Stopwatch.StartNew();
            while (writers.Any(w => w.Acknowledged < 20))
            {
                if (threads.FirstOrDefault(t => t.IsFaulted) is { } failed) throw new InvalidOperationException("a writer failed", failed.Exception);
                if (clock.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new TimeoutException($"{ensemble.Kind} writers did not start writing (" +
                        string.Join(", ", writers.Select((w, i) => $"writer {i + 1}: {w.Acknowledged} written, {w.Failures} failures, last: {w.LastFailure}")) + ")");
                }
                await Task.Delay(10);
            }
            long killedAt = ensemble.KillHard(leader);
            foreach (var writer in writers) writer.KilledAt = killedAt;
            clock.Restart();
            while (writers.Any(w => w.FirstNewEpochAck == 0))
            {
                if (clock.Elapsed > RoundBound) throw new TimeoutException($"{ensemble.Kind}: no write in a new epoch within {RoundBound.TotalSeconds:0} s of the kill");
                if (threads.FirstOrDefault(t => t.IsFaulted) is { } failed) throw new InvalidOperationException("a writer failed", failed.Exception);
                await Task.Delay(5);
            }
            var seconds = writers.Select(w => Stopwatch.GetElapsedTime(killedAt, w.FirstNewEpochAck).TotalSeconds).ToList();
            return (seconds.Min(), seconds.Max(), leader);
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAny(Task.WhenAll(threads), Task.Delay(TimeSpan.FromSeconds(30)));
            foreach (var writer in writers) writer.Dispose();
        }
    }

    /// <summary>The middle value, or the mean of the two middle values of an even count.</summary>
    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}

/// <summary>
/// One client that writes its znode in a loop, one request at a time. On a lost connection it resumes its session
/// on its own member first and then on the others, retrying at once, so that the figure is the servers' and not a
/// client back-off. It notes when the first write committed in an epoch newer than the killed leader's comes back.
/// </summary>
internal sealed class SequentialWriter(int[] ports, int home, long epochAtStart) : IDisposable
{
    private const int ReceiveTimeoutMs = 5000;
    private const int SessionExpired = -112;
    private BenchClient? _client;
    private int _acknowledged;
    private long _killedAt;
    private long _firstNewEpochAck;

    public int Acknowledged => Volatile.Read(ref _acknowledged);
    public long KilledAt { get => Interlocked.Read(ref _killedAt); set => Interlocked.Exchange(ref _killedAt, value); }
    public long FirstNewEpochAck => Interlocked.Read(ref _firstNewEpochAck);

    /// <summary>How many times a request or a connection attempt failed; printed to explain a slow round.</summary>
    public int Failures { get; private set; }

    /// <summary>What went wrong last, for the message of a round that times out.</summary>
    public string LastFailure { get; private set; } = "none";

    public void Run(CancellationToken stop)
    {
        var request = new SetDataRequest($"/failover{home}", new byte[100], -1);
        long sessionId = 0;
        byte[] password = new byte[16];
        long lastZxid = 0;
        int attempt = 0;
        while (!stop.IsCancellationRequested)
        {
            if (_client is null)
            {
                // Its own member first, then the others in turn, as a client's connect string lists them.
                int port = ports[(home + attempt++) % ports.Length];
                _client = BenchClient.TryConnect(port, sessionId, password, lastZxid, ReceiveTimeoutMs);
                if (_client is null)
                {
                    Failures++;
                    LastFailure = $"no session on port {port}";
                    if (stop.WaitHandle.WaitOne(5)) return;
                    continue;
                }
                attempt = 0;
                (sessionId, password) = (_client.SessionId, _client.Password);
            }
            try
            {
                var (err, zxid) = _client.CallWithZxid(OpCode.SetData, request);
                long now = Stopwatch.GetTimestamp();
                if (err != 0)
                {
                    // An error reply during the change of leader (an expired or moved session, say) is counted and
                    // the client starts over on a fresh connection; only acknowledged writes end the wait.
                    Failures++;
                    LastFailure = $"error {err}";
                    if (err == SessionExpired) (sessionId, password) = (0, new byte[16]);
                    _client.Dispose();
                    _client = null;
                    continue;
                }
                lastZxid = Math.Max(lastZxid, _client.LastZxid);
                Interlocked.Increment(ref _acknowledged);
                if (KilledAt != 0 && (zxid >> 32) > epochAtStart && FirstNewEpochAck == 0) Interlocked.Exchange(ref _firstNewEpochAck, now);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                Failures++;
                LastFailure = e.Message;
                _client?.Dispose();
                _client = null;
            }
        }
    }

    public void Dispose() => _client?.Dispose();
}
