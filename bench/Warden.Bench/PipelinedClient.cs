using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using Warden.Protocol;

namespace Warden.Bench;

/// <summary>
/// A load client that keeps a fixed number of requests outstanding on one session: setData, or getData of the same
/// znode for a given share of them, chosen by a seeded random so every server sees the same sequence. Replies on a session
/// come back in request order, so the send times wait in a queue and each reply takes the oldest one: no map
/// from xid to time, and little client work per request to keep client cost out of the figures.
/// </summary>
public sealed class PipelinedClient : IDisposable
{
    private readonly Socket _socket;
    private readonly ConcurrentQueue<long> _sentAt = new();
    private readonly List<double> _latenciesMs = new(1 << 16);
    private volatile bool _measuring;
    private long _measuredOps;
    private long _errors;
    private long _completed;
    private int _xid;

    private PipelinedClient(Socket socket) => _socket = socket;

    /// <summary>Latencies of the requests completed while measuring, in milliseconds.</summary>
    public IReadOnlyList<double> LatenciesMs => _latenciesMs;
    public long MeasuredOps => Interlocked.Read(ref _measuredOps);
    public long Errors => Interlocked.Read(ref _errors);
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Whether completed requests count: switched on and off by the runner around the measured window.</summary>
    public bool Measuring
    {
        get => _measuring;
        set => _measuring = value;
    }

    /// <summary>Connects to a server that already serves, through the synchronous client's handshake rules.</summary>
    public static async Task<PipelinedClient> ConnectAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync("127.0.0.1", port);
                using var writer = new JuteWriter(256);
                writer.BeginFrame();
                new ConnectRequest(0, 0, 30000, 0, new byte[16], false).Write(writer);
                writer.EndFrame();
                await socket.SendAsync(writer.WrittenMemory);
                var header = new byte[4];
                await ReceiveExactlyAsync(socket, header, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
                var body = new byte[BinaryPrimitives.ReadInt32BigEndian(header)];
                await ReceiveExactlyAsync(socket, body, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
                var reader = new JuteReader(body);
                if (ConnectResponse.Read(ref reader).SessionId == 0) throw new IOException("session refused");
                return new PipelinedClient(socket);
            }
            catch (Exception e) when ((e is SocketException or IOException or TimeoutException) && DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                await Task.Delay(50);
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="payload"/> to <paramref name="path"/> (or reads it back, for
    /// <paramref name="readPercent"/> of the requests) with <paramref name="window"/> requests outstanding until
    /// <paramref name="stop"/> fires, then waits (bounded) for the replies still due.
    /// </summary>
    public async Task RunAsync(string path, byte[] payload, int window, CancellationToken stop, int readPercent = 0, int seed = 0)
    {
        using var slots = new SemaphoreSlim(window, window);
        var receiving = Task.Run(() => ReceiveLoopAsync(slots));
        using var writer = new JuteWriter(window * (payload.Length + path.Length + 32));
        var request = new SetDataRequest(path, payload, -1);
        var read = new PathWatchRequest(path, false);
        var random = new Random(seed);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await slots.WaitAsync(stop);
                // Every slot free at this moment goes out in one write, so a burst of replies costs one syscall.
                int count = 1;
                while (count < window && slots.Wait(0)) count++;
                writer.Reset();
                for (int i = 0; i < count; i++)
                {
                    writer.BeginFrame();
                    if (readPercent > 0 && random.Next(100) < readPercent)
                    {
                        new RequestHeader(++_xid, (int)OpCode.GetData).Write(writer);
                        read.Write(writer);
                    }
                    else
                    {
                        new RequestHeader(++_xid, (int)OpCode.SetData).Write(writer);
                        request.Write(writer);
                    }
                    writer.EndFrame();
                }
                long now = Stopwatch.GetTimestamp();
                for (int i = 0; i < count; i++) _sentAt.Enqueue(now);
                await _socket.SendAsync(writer.WrittenMemory, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        // The replies still due are awaited so that the next phase starts from an idle server.
        var drained = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!_sentAt.IsEmpty && DateTime.UtcNow < drained && !receiving.IsCompleted) await Task.Delay(10);
        _socket.Shutdown(SocketShutdown.Both);
        try { await receiving; } catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException) { }
    }

    private async Task ReceiveLoopAsync(SemaphoreSlim slots)
    {
        var buffer = new byte[1 << 16];
        int filled = 0;
        while (true)
        {
            int read = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None);
            if (read == 0) return;
            filled += read;
            int consumed = 0;
            while (filled - consumed >= 4)
            {
                int length = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(consumed));
                if (length + 4 > buffer.Length) throw new IOException($"reply of {length} bytes is larger than expected");
                if (filled - consumed - 4 < length) break;
                OnReply(buffer.AsSpan(consumed + 4, length), slots);
                consumed += 4 + length;
            }
            buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
            filled -= consumed;
        }
    }

    private void OnReply(ReadOnlySpan<byte> reply, SemaphoreSlim slots)
    {
        var reader = new JuteReader(reply);
        var header = ReplyHeader.Read(ref reader);
        // Pings (-2) and watch events (-1) carry no request; this client sends neither pings nor watches.
        if (header.Xid < 0) return;
        if (!_sentAt.TryDequeue(out long sentAt)) throw new InvalidOperationException("a reply arrived with no request outstanding");
        Interlocked.Increment(ref _completed);
        if (header.Err != 0) Interlocked.Increment(ref _errors);
        if (_measuring)
        {
            _latenciesMs.Add(Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds);
            Interlocked.Increment(ref _measuredOps);
        }
        slots.Release();
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> target, CancellationToken cancel)
    {
        while (target.Length > 0)
        {
            int read = await socket.ReceiveAsync(target, SocketFlags.None, cancel);
            if (read == 0) throw new IOException("the server closed the connection");
            target = target[read..];
        }
    }

    public void Dispose() => _socket.Dispose();
}
