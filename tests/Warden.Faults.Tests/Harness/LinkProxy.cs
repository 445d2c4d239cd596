using System.Net;
using System.Net.Sockets;

namespace Warden.Faults.Tests.Harness;

/// <summary>
/// A TCP forwarder for one directed link between two ensemble members: member <see cref="From"/> finds
/// member <see cref="To"/>'s quorum or election port here (its zoo.cfg's server.To line names this proxy),
/// and the proxy forwards to the real port. Either direction of the byte stream can be stalled: the proxy
/// stops forwarding (and, once its buffer is full, stops reading, so TCP back-pressure reaches the sender),
/// as a firewall that drops packets does; the held bytes flow on once the direction is opened again, as
/// TCP's retransmissions would deliver them. Connections made while stalled are accepted and forwarded to
/// the target but carry nothing in the stalled direction.
/// </summary>
public sealed class LinkProxy : IAsyncDisposable
{
    private const int BufferBytes = 16 * 1024;
    private const int RefusedGraceMs = 3_000;
    private const int RetryMs = 50;
    private readonly TcpListener listener;
    private readonly int targetPort;
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock gate = new();
    private readonly List<Socket> sockets = [];
    private readonly Task acceptLoop;
    private TaskCompletionSource forwardOpen = Opened();
    private TaskCompletionSource backwardOpen = Opened();

    public LinkProxy(int from, int to, string purpose, int targetPort)
    {
        From = from;
        To = to;
        Purpose = purpose;
        this.targetPort = targetPort;
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        acceptLoop = Task.Run(AcceptAsync);
    }

    /// <summary>The member that connects through this proxy.</summary>
    public int From { get; }

    /// <summary>The member whose port this proxy forwards to.</summary>
    public int To { get; }

    /// <summary>"quorum" or "election".</summary>
    public string Purpose { get; }

    /// <summary>The port on 127.0.0.1 that <see cref="From"/>'s configuration names for <see cref="To"/>.</summary>
    public int Port { get; }

    /// <summary>
    /// Stalls or opens each direction: <paramref name="fromToBlocked"/> the bytes <see cref="From"/> sends to
    /// <see cref="To"/>, <paramref name="toFromBlocked"/> the answers.
    /// </summary>
    public void Set(bool fromToBlocked, bool toFromBlocked)
    {
        lock (gate)
        {
            forwardOpen = Toggle(forwardOpen, fromToBlocked);
            backwardOpen = Toggle(backwardOpen, toFromBlocked);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        lock (gate)
        {
            forwardOpen.TrySetResult();
            backwardOpen.TrySetResult();
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
            sockets.Clear();
        }
        await Task.WhenAny(acceptLoop, Task.Delay(TimeSpan.FromSeconds(5)));
        stopping.Dispose();
    }

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    private static TaskCompletionSource Toggle(TaskCompletionSource current, bool blocked)
    {
        if (blocked)
        {
            return current.Task.IsCompleted ? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) : current;
        }
        current.TrySetResult();
        return current;
    }

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket inbound;
            try
            {
                inbound = await listener.AcceptSocketAsync(stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => ForwardAsync(inbound));
        }
    }

    private async Task ForwardAsync(Socket inbound)
    {
        var outbound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        inbound.NoDelay = true;
        lock (gate)
        {
            sockets.Add(inbound);
            sockets.Add(outbound);
        }
        try
        {
            outbound = await ConnectTargetAsync(outbound);
            // When either direction ends, both sockets close, as the peer's reset would close them.
            await Task.WhenAny(
                PumpAsync(inbound, outbound, () => forwardOpen),
                PumpAsync(outbound, inbound, () => backwardOpen));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            // The target is down (refused) or the proxy is stopping: the connection just ends.
        }
        finally
        {
            lock (gate)
            {
                sockets.Remove(inbound);
                sockets.Remove(outbound);
            }
            inbound.Dispose();
            outbound.Dispose();
        }
    }

    /// <summary>
    /// Connects to the target, retrying a refused connection for a while. A proxy cannot refuse a connection
    /// the way a closed port does (the kernel has completed the handshake before the proxy learns the target
    /// is not listening), and a connection that opens and is then reset is not what a peer sees on a real
    /// network: a learner that dials a leader a moment before the leader listens would otherwise get a reset
    /// instead of a refusal it retries. Holding the connection until the target listens looks like a slow
    /// connect instead; a target still refusing after <see cref="RefusedGraceMs"/> is treated as down.
    /// </summary>
    private async Task<Socket> ConnectTargetAsync(Socket outbound)
    {
        var deadline = Environment.TickCount64 + RefusedGraceMs;
        while (true)
        {
            try
            {
                using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
                connectTimeout.CancelAfter(TimeSpan.FromSeconds(5));
                await outbound.ConnectAsync(new IPEndPoint(IPAddress.Loopback, targetPort), connectTimeout.Token);
                return outbound;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused && Environment.TickCount64 < deadline)
            {
                await Task.Delay(RetryMs, stopping.Token);
                var fresh = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                lock (gate)
                {
                    sockets.Remove(outbound);
                    sockets.Add(fresh);
                }
                outbound.Dispose();
                outbound = fresh;
            }
        }
    }

    private async Task PumpAsync(Socket source, Socket destination, Func<TaskCompletionSource> open)
    {
        var buffer = new byte[BufferBytes];
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var read = await source.ReceiveAsync(buffer, SocketFlags.None, stopping.Token);
                if (read == 0)
                {
                    return;
                }
                // Held here while the direction is stalled; the next read waits too, so the sender's window fills.
                Task opened;
                lock (gate) opened = open().Task;
                await opened.WaitAsync(stopping.Token);
                var sent = 0;
                while (sent < read)
                {
                    sent += await destination.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, stopping.Token);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
        }
    }
}
