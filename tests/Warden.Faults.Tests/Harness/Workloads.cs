using System.Globalization;
using System.Text;
using Warden.Client;
using Warden.Faults.Tests.History;
using Warden.Protocol;
using EventType = Warden.Faults.Tests.History.EventType;

namespace Warden.Faults.Tests.Harness;

/// <summary>The znodes the workloads use, all under one root created before the faults begin.</summary>
public static class Paths
{
    public const string Root = "/faults";
    public const string Registers = Root + "/reg";
    public const string Set = Root + "/set";
    public const string Sequence = Root + "/seq";
    public const string Lock = Root + "/lock";
    public const string Fenced = Root + "/fenced";

    public static readonly string[] RegisterKeys = ["k0", "k1", "k2"];

    public static string Register(string key) => $"{Registers}/{key}";

    /// <summary>The number a sequential znode's name ends with (ten digits).</summary>
    public static long SequenceOf(string name) => long.Parse(name[^10..], CultureInfo.InvariantCulture);

    public static byte[] Encode(long value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    public static long Decode(byte[] data) => long.Parse(Encoding.ASCII.GetString(data), CultureInfo.InvariantCulture);
}

/// <summary>Which workload a client runs.</summary>
public enum WorkloadKind
{
    Register,
    Set,
    Sequence,
    Lock,
}

/// <summary>
/// One client of the run: a Warden.Client session on one member only (so that a fault on that member is
/// felt by its clients), running one workload until stopped and recording every operation in the history.
/// Each operation has its own timeout; a timeout, a lost connection or an expired session make the
/// operation indeterminate (info). After an expired session, or an indeterminate operation on the lock
/// (whose ephemeral znode may linger), the client closes its session and opens a new one as a new process,
/// as Jepsen's clients do after a crash.
/// </summary>
public sealed class ClientWorker
{
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The lock's sessions are short, so that a lock left by a client whose session could not be closed (its
    /// member was down) expires within a round and the lock changes hands often.
    /// </summary>
    private static readonly TimeSpan LockSessionTimeout = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan PaceDelay = TimeSpan.FromMilliseconds(15);
    private static int nextProcess;
    private static long nextValue;

    private readonly HistoryLog history;
    private readonly string connectString;
    private readonly WorkloadKind kind;
    private readonly Random random;
    private readonly Dictionary<string, int> lastVersion = new(StringComparer.Ordinal);
    private ZooKeeperClient? client;
    private int process;

    public ClientWorker(HistoryLog history, string connectString, WorkloadKind kind, int seed)
    {
        this.history = history;
        this.connectString = connectString;
        this.kind = kind;
        random = new Random(seed);
    }

    /// <summary>Runs operations until <paramref name="stop"/> is cancelled, then closes the session.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (client is null && !await ConnectAsync(stop))
                {
                    continue;
                }
                var renew = kind switch
                {
                    WorkloadKind.Register => await RegisterOpAsync(stop),
                    WorkloadKind.Set => await SetOpAsync(stop),
                    WorkloadKind.Sequence => await SequenceOpAsync(stop),
                    _ => await LockRoundAsync(stop),
                };
                if (renew)
                {
                    await CloseAsync();
                }
                await Pause(PaceDelay, stop);
            }
        }
        finally
        {
            await CloseAsync();
        }
    }

    /// <summary>A fresh session on this worker's member, as a new process in the history.</summary>
    private async Task<bool> ConnectAsync(CancellationToken stop)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            client = await ZooKeeperClient.ConnectAsync(
                new ZooKeeperClientOptions
                {
                    ConnectString = connectString,
                    SessionTimeout = kind == WorkloadKind.Lock ? LockSessionTimeout : SessionTimeout,
                },
                cancellationToken: timeout.Token);
            process = Interlocked.Increment(ref nextProcess);
            // Which member this process talks to, for reading a history: the checkers ignore "connect".
            var connected = history.Invoke(process, "connect", connectString);
            history.Complete(connected, process, EventType.Ok, "connect", connectString, client.SessionId.Value);
            return true;
        }
        catch (Exception e) when (e is ZooKeeperException or OperationCanceledException or TimeoutException or IOException)
        {
            // The member is down or cut off; try again shortly (the run's stop token bounds this).
            await Pause(TimeSpan.FromMilliseconds(200), stop);
            return false;
        }
    }

    private async Task CloseAsync()
    {
        if (client is null)
        {
            return;
        }
        var closing = client;
        client = null;
        // Closing a session on a member without quorum can hang until its timeout; do not wait for ever.
        await Task.WhenAny(closing.DisposeAsync().AsTask(), Task.Delay(TimeSpan.FromSeconds(5)));
    }

    private async Task<bool> RegisterOpAsync(CancellationToken stop)
    {
        var key = Paths.RegisterKeys[random.Next(Paths.RegisterKeys.Length)];
        var path = Paths.Register(key);
        switch (random.Next(3))
        {
            case 0:
            {
                var op = history.Invoke(process, "read", key);
                return await RunAsync(op, "read", key, isWrite: false, stop, async token =>
                {
                    // sync first: a read on a follower is otherwise allowed to lag the leader.
                    await client!.SyncAsync(path, token);
                    var node = await client.GetDataAsync(path, token);
                    lastVersion[key] = node.Stat.Version;
                    history.Complete(op, process, EventType.Ok, "read", key, Paths.Decode(node.Data), node.Stat.Version);
                });
            }
            case 1:
            {
                var value = Interlocked.Increment(ref nextValue);
                var op = history.Invoke(process, "write", key, value);
                return await RunAsync(op, "write", key, isWrite: true, stop, async token =>
                {
                    var stat = await client!.SetDataAsync(path, Paths.Encode(value), -1, token);
                    lastVersion[key] = stat.Version;
                    history.Complete(op, process, EventType.Ok, "write", key, version: stat.Version);
                });
            }
            default:
            {
                var value = Interlocked.Increment(ref nextValue);
                var expected = lastVersion.GetValueOrDefault(key);
                var op = history.Invoke(process, "cas", key, value, expected);
                return await RunAsync(op, "cas", key, isWrite: true, stop, async token =>
                {
                    var stat = await client!.SetDataAsync(path, Paths.Encode(value), expected, token);
                    lastVersion[key] = stat.Version;
                    history.Complete(op, process, EventType.Ok, "cas", key, version: stat.Version);
                });
            }
        }
    }

    private async Task<bool> SetOpAsync(CancellationToken stop)
    {
        var element = Interlocked.Increment(ref nextValue);
        var op = history.Invoke(process, "add", value: element);
        return await RunAsync(op, "add", null, isWrite: true, stop, async token =>
        {
            await client!.CreateAsync($"{Paths.Set}/e-{element}", [], CreateMode.Persistent, cancellationToken: token);
            history.Complete(op, process, EventType.Ok, "add");
        });
    }

    private async Task<bool> SequenceOpAsync(CancellationToken stop)
    {
        var op = history.Invoke(process, "next");
        return await RunAsync(op, "next", null, isWrite: true, stop, async token =>
        {
            var created = await client!.CreateAsync($"{Paths.Sequence}/s-", [], CreateMode.PersistentSequential, cancellationToken: token);
            history.Complete(op, process, EventType.Ok, "next", value: Paths.SequenceOf(created.Path));
        });
    }

    /// <summary>
    /// One try at the lock: create an ephemeral-sequential znode; if it is the lowest, the lock is ours and its
    /// number the fencing token; append three fenced entries, each in a multi that checks our znode still
    /// exists; then delete it. When another holds the lock, the try fails and our znode is deleted.
    /// Returns true when the session must be renewed (an operation's outcome is unknown).
    /// </summary>
    private async Task<bool> LockRoundAsync(CancellationToken stop)
    {
        var acquire = history.Invoke(process, "acquire");
        string? mine = null;
        var busy = false;
        var renew = await RunAsync(acquire, "acquire", null, isWrite: true, stop, async token =>
        {
            var created = await client!.CreateAsync($"{Paths.Lock}/l-", [], CreateMode.EphemeralSequential, cancellationToken: token);
            mine = created.Path;
            var children = await client.GetChildrenAsync(Paths.Lock, token);
            var token64 = Paths.SequenceOf(created.Path);
            if (children.Children.Select(Paths.SequenceOf).Min() == token64)
            {
                history.Complete(acquire, process, EventType.Ok, "acquire", value: token64);
            }
            else
            {
                history.Complete(acquire, process, EventType.Fail, "acquire", value: token64, error: "held by another");
                busy = true;
            }
        });
        if (renew || mine is null)
        {
            return renew;
        }
        var held = mine;
        if (busy)
        {
            return await ReleaseAsync(held, stop);
        }
        var fencingToken = Paths.SequenceOf(held);
        for (var i = 0; i < 3; i++)
        {
            var fenced = history.Invoke(process, "fenced", value: fencingToken);
            var lost = await RunAsync(fenced, "fenced", null, isWrite: true, stop, async token =>
            {
                await client!.MultiAsync(
                    [Op.Check(held, -1), Op.Create($"{Paths.Fenced}/f-", Paths.Encode(fencingToken), CreateMode.PersistentSequential)],
                    token);
                history.Complete(fenced, process, EventType.Ok, "fenced");
            });
            if (lost)
            {
                return true;
            }
        }
        return await ReleaseAsync(held, stop);
    }

    private async Task<bool> ReleaseAsync(string lockPath, CancellationToken stop)
    {
        var release = history.Invoke(process, "release", value: Paths.SequenceOf(lockPath));
        return await RunAsync(release, "release", null, isWrite: true, stop, async token =>
        {
            await client!.DeleteAsync(lockPath, -1, token);
            history.Complete(release, process, EventType.Ok, "release");
        });
    }

    /// <summary>
    /// Runs one operation's body under its timeout and records how it failed. Returns true when the session
    /// should be replaced: it expired, or a write's outcome is unknown on the lock workload.
    /// </summary>
    private async Task<bool> RunAsync(long op, string function, string? key, bool isWrite, CancellationToken stop, Func<CancellationToken, Task> body)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(OperationTimeout);
        try
        {
            await body(timeout.Token);
            return false;
        }
        catch (ZooKeeperException e) when (IsDefinite(e.Code))
        {
            history.Complete(op, process, EventType.Fail, function, key, error: e.Code.ToString());
            return false;
        }
        catch (Exception e) when (e is ZooKeeperException or OperationCanceledException or TimeoutException or IOException)
        {
            var code = e is ZooKeeperException z ? z.Code.ToString() : e is OperationCanceledException ? "Timeout" : e.GetType().Name;
            // A read changes nothing, so a read that did not complete simply failed.
            history.Complete(op, process, isWrite ? EventType.Info : EventType.Fail, function, key, error: code);
            return code == nameof(ErrorCode.SessionExpired) || kind == WorkloadKind.Lock;
        }
    }

    /// <summary>Answers that say the server refused the operation, so it certainly did not happen.</summary>
    private static bool IsDefinite(ErrorCode code) =>
        code is ErrorCode.BadVersion or ErrorCode.NoNode or ErrorCode.NodeExists or ErrorCode.NotEmpty or ErrorCode.BadArguments;

    private static async Task Pause(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
