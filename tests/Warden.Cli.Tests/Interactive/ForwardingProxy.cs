using System.Net;
using System.Net.Sockets;

namespace Warden.Cli.Tests.Interactive;

/// <summary>
/// A fixed address on 127.0.0.1 that forwards each connection to a target which can change: a server restarted
/// on a new port is, to a client, the same host coming back. A connection ends when either side closes it.
/// </summary>
public sealed class ForwardingProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private readonly Lock gate = new();
    private readonly List<TcpClient> open = [];
    private readonly Task accepting;
    private IPEndPoint? target;
    private TaskCompletionSource<IPEndPoint> nextTarget = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ForwardingProxy(IPEndPoint target)
    {
        this.target = target;
        listener.Start();
        accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    public string ConnectString => $"127.0.0.1:{Port}";

    /// <summary>From now on, new connections wait until <see cref="Retarget"/> names where they go.</summary>
    public void Hold()
    {
        lock (gate)
        {
            target = null;
        }
    }

    public void Retarget(IPEndPoint newTarget)
    {
        TaskCompletionSource<IPEndPoint> waiting;
        lock (gate)
        {
            target = newTarget;
            waiting = nextTarget;
            nextTarget = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        waiting.TrySetResult(newTarget);
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        lock (gate)
        {
            foreach (var client in open)
            {
                client.Dispose();
            }
            open.Clear();
        }
        try
        {
            await accepting.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            var downstream = await listener.AcceptTcpClientAsync(stop.Token);
            _ = ForwardAsync(downstream);
        }
    }

    private async Task ForwardAsync(TcpClient downstream)
    {
        var upstream = new TcpClient();
        Task<IPEndPoint> destination;
        lock (gate)
        {
            destination = target is { } now ? Task.FromResult(now) : nextTarget.Task;
            open.Add(downstream);
            open.Add(upstream);
        }
        try
        {
            await upstream.ConnectAsync(await destination.WaitAsync(stop.Token), stop.Token);
            var toServer = downstream.GetStream().CopyToAsync(upstream.GetStream(), stop.Token);
            var toClient = upstream.GetStream().CopyToAsync(downstream.GetStream(), stop.Token);
            await Task.WhenAny(toServer, toClient);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The server is down or went away: the client sees its connection close, as it would without us.
        }
        finally
        {
            lock (gate)
            {
                open.Remove(downstream);
                open.Remove(upstream);
            }
            downstream.Dispose();
            upstream.Dispose();
        }
    }
}
