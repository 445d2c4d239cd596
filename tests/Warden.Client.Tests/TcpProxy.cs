using System.Net;
using System.Net.Sockets;

namespace Warden.Client.Tests;

/// <summary>
/// A TCP relay between the client and a server, for faults a server cannot be asked to make: it can cut
/// every connection at once (with a reset, as a failed network does), refuse new ones for a while, and be
/// pointed at another server (a restarted one on a new port looks to the client like the same address).
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<Socket> _open = [];
    private TaskCompletionSource _freezeMark = NewGate();
    private readonly Task _acceptLoop;
    private IPEndPoint _target;
    private bool _refusing;

    public TcpProxy(IPEndPoint target)
    {
        _target = target;
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string ConnectString => $"127.0.0.1:{Port}";

    private long _clientBytes;
    private readonly List<(long Bytes, TaskCompletionSource Reached)> _byteWaiters = [];

    /// <summary>Waits until the clients have sent at least <paramref name="bytes"/> bytes in all, through this proxy.</summary>
    public Task WaitForClientBytesAsync(long bytes)
    {
        lock (_gate)
        {
            if (_clientBytes >= bytes) return Task.CompletedTask;
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _byteWaiters.Add((bytes, reached));
            return reached.Task;
        }
    }

    public long ClientBytes
    {
        get { lock (_gate) return _clientBytes; }
    }

    private void CountClientBytes(int count)
    {
        lock (_gate)
        {
            _clientBytes += count;
            _byteWaiters.RemoveAll(waiter =>
            {
                if (_clientBytes < waiter.Bytes) return false;
                waiter.Reached.TrySetResult();
                return true;
            });
        }
    }

    /// <summary>How many client connections were accepted and relayed.</summary>
    public int Accepted { get; private set; }

    public void Retarget(IPEndPoint target)
    {
        lock (_gate) _target = target;
    }

    /// <summary>While refusing, new connections are closed as soon as they are accepted.</summary>
    public void Refuse(bool refusing)
    {
        lock (_gate) _refusing = refusing;
    }

    /// <summary>
    /// Stops relaying bytes on the current connections without closing them: a silent network, which only
    /// the client's read timeout can detect. New connections are relayed normally.
    /// </summary>
    public void FreezeCurrent()
    {
        lock (_gate)
        {
            _freezeMark.TrySetCanceled();
            _freezeMark = NewGate();
        }
    }

    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Resets every relayed connection, both sides.</summary>
    public void SeverAll()
    {
        List<Socket> open;
        lock (_gate)
        {
            open = [.. _open];
            _open.Clear();
        }
        foreach (var socket in open) Reset(socket);
    }

    /// <summary>Closes with an RST rather than a FIN, as a broken network or a killed peer would.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            // Already closed by the relay itself.
        }
        socket.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            IPEndPoint target;
            bool refusing;
            lock (_gate)
            {
                target = _target;
                refusing = _refusing;
            }
            if (refusing)
            {
                Reset(client);
                continue;
            }
            _ = RelayAsync(client, target);
        }
    }

    private async Task RelayAsync(Socket client, IPEndPoint target)
    {
        var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await server.ConnectAsync(target, _stop.Token);
        }
        catch (Exception)
        {
            Reset(client);
            server.Dispose();
            return;
        }
        lock (_gate)
        {
            _open.Add(client);
            _open.Add(server);
            Accepted++;
        }
        TaskCompletionSource frozen;
        lock (_gate) frozen = _freezeMark;
        await Task.WhenAny(PumpAsync(client, server, frozen.Task, CountClientBytes), PumpAsync(server, client, frozen.Task, null));
        lock (_gate)
        {
            _open.Remove(client);
            _open.Remove(server);
        }
        client.Dispose();
        server.Dispose();
    }

    private async Task PumpAsync(Socket from, Socket to, Task frozen, Action<int>? count)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0) return;
                // A frozen relay swallows what it reads; a cancelled gate marks the freeze.
                if (frozen.IsCanceled) continue;
                count?.Invoke(read);
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception)
        {
            // A cut connection ends the relay; that is the point.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        SeverAll();
        await _acceptLoop;
    }
}
