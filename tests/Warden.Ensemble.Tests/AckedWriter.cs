using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Warden.Client;
using Warden.Protocol;

namespace Warden.Ensemble.Tests;

/// <summary>
/// One Warden.Client session that creates sequential znodes under its own parent as fast as the ensemble
/// answers, and remembers every create the ensemble acknowledged. A create that fails with ConnectionLoss
/// has an unknown outcome and is not remembered (it may or may not exist; either is correct). It also
/// records every state the session went through, so that a test can require that it never expired.
/// </summary>
internal sealed class AckedWriter : IAsyncDisposable
{
    private readonly ZooKeeperClient client;
    private readonly ConcurrentQueue<string> acknowledged = new();
    private readonly ConcurrentQueue<ConnectionState> states = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly Task loop;
    private int connectionLosses;

    private AckedWriter(ZooKeeperClient client, string parent)
    {
        this.client = client;
        Parent = parent;
        InitialSessionId = client.SessionId.Value;
        client.StateChanged += (_, change) => states.Enqueue(change.Current);
        loop = Task.Run(WriteUntilStoppedAsync);
    }

    /// <summary>The znode whose children this writer creates.</summary>
    public string Parent { get; }

    /// <summary>The session the writer started with; it must still be the session at the end.</summary>
    public long InitialSessionId { get; }

    /// <summary>The session now.</summary>
    public long SessionId => client.SessionId.Value;

    /// <summary>The child names (not paths) of every acknowledged create, in acknowledgement order.</summary>
    public IReadOnlyList<string> Acknowledged => acknowledged.ToArray();

    /// <summary>How many creates were acknowledged so far.</summary>
    public int AcknowledgedCount => acknowledged.Count;

    /// <summary>Creates whose outcome is unknown because the connection broke while they were in flight.</summary>
    public int ConnectionLosses => Volatile.Read(ref connectionLosses);

    /// <summary>Every state the session entered, in order.</summary>
    public IReadOnlyList<ConnectionState> States => states.ToArray();

    /// <summary>The error that stopped the writer early, if any (anything but ConnectionLoss does).</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Connects through <paramref name="connectString"/>, creates the parent, and starts writing.</summary>
    public static async Task<AckedWriter> StartAsync(string connectString, string parent)
    {
        var client = await Clients.ConnectAsync(connectString);
        using var timeout = new CancellationTokenSource(Clients.StepTimeout);
        await client.CreateAsync(parent, [], CreateMode.Persistent, cancellationToken: timeout.Token);
        return new AckedWriter(client, parent);
    }

    /// <summary>
    /// Waits (polling every 20 ms, bounded) until <paramref name="more"/> further creates are acknowledged:
    /// proof that the ensemble serves writes again.
    /// </summary>
    public async Task WaitForProgressAsync(int more, TimeSpan timeout)
    {
        var target = AcknowledgedCount + more;
        var stopwatch = Stopwatch.StartNew();
        while (AcknowledgedCount < target)
        {
            if (Failure is not null)
            {
                throw new InvalidOperationException($"writer {Parent} stopped: {Failure.Message}", Failure);
            }
            if (stopwatch.Elapsed > timeout)
            {
                throw new TimeoutException(
                    $"writer {Parent} made {AcknowledgedCount - (target - more)} of {more} creates in {timeout.TotalSeconds:0} s; " +
                    $"states: {string.Join(" ", States)}; state now {client.State}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
    }

    /// <summary>Stops writing and waits for the loop to end (bounded); the session stays open.</summary>
    public async Task StopAsync()
    {
        await stopping.CancelAsync();
        if (await Task.WhenAny(loop, Task.Delay(Clients.StepTimeout)) != loop)
        {
            throw new TimeoutException($"writer {Parent} did not stop within {Clients.StepTimeout.TotalSeconds:0} s");
        }
        await loop;
    }

    /// <summary>Stops writing and closes the session.</summary>
    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await Task.WhenAny(loop, Task.Delay(Clients.StepTimeout));
        await client.DisposeAsync();
        stopping.Dispose();
    }

    private async Task WriteUntilStoppedAsync()
    {
        var payload = Encoding.UTF8.GetBytes(Parent);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var created = await client.CreateAsync(Parent + "/n-", payload, CreateMode.PersistentSequential,
                    cancellationToken: stopping.Token);
                acknowledged.Enqueue(created.Path[(Parent.Length + 1)..]);
            }
            catch (ZooKeeperException e) when (e.IsConnectionLoss)
            {
                Interlocked.Increment(ref connectionLosses);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Failure = e;
                return;
            }
        }
    }
}
