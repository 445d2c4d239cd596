using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Warden.Protocol;

namespace Warden.Client;

/// <summary>What the connection reports to the client that owns it.</summary>
internal interface IConnectionOwner
{
    int NextXid();
    void OnReplyZxid(long zxid);
    void OnNotification(WatcherEvent notification);
    void OnAuthFailed();
}

/// <summary>
/// One TCP connection to one server, read and written through pipelines by three async loops (reader,
/// writer, pinger) and no dedicated thread. Requests are pipelined: the writer sends whatever is queued and
/// flushes once per batch; the reader matches each reply to the oldest request in flight, which must carry
/// the same xid because a server answers a session's requests in order.
/// </summary>
internal sealed class Connection : IAsyncDisposable
{
    private static readonly byte[] PingFrame = BuildPingFrame();
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly int _maxPacketBytes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _lastReceived;
    private long _lastSent;

    private Connection(HostAddress server, Socket socket, Stream stream, int maxPacketBytes, TimeProvider time, ILogger logger)
    {
        Server = server;
        _socket = socket;
        _stream = stream;
        _input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        _output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
        _maxPacketBytes = maxPacketBytes;
        _time = time;
        _logger = logger;
        _lastReceived = _lastSent = time.GetTimestamp();
    }

    public HostAddress Server { get; }

    /// <summary>Requests written and not yet answered, oldest first.</summary>
    public ConcurrentQueue<PendingRequest> InFlight { get; } = new();

    /// <summary>addAuth packets written and not yet answered; null for those re-sent after a reconnect.</summary>
    public ConcurrentQueue<AuthWaiter?> AuthInFlight { get; } = new();

    /// <param name="tls">TLS settings for a secure port; null for plaintext.</param>
    public static async Task<Connection> OpenAsync(HostAddress server, int maxPacketBytes, TimeProvider time, ILogger logger,
        CancellationToken cancellationToken, ZooKeeperTlsOptions? tls = null)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(server.Host, server.Port, cancellationToken).ConfigureAwait(false);
            stream = new NetworkStream(socket, ownsSocket: false);
            if (tls is not null)
            {
                var secured = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = secured;
                await secured.AuthenticateAsClientAsync(tls.ForHost(server.Host.Trim('[', ']')), cancellationToken).ConfigureAwait(false);
            }
            return new Connection(server, socket, stream, maxPacketBytes, time, logger);
        }
        catch
        {
            if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends the ConnectRequest and reads the ConnectResponse: the first packet each way has no header.</summary>
    public async Task<ConnectResponse> HandshakeAsync(ConnectRequest request, CancellationToken cancellationToken)
    {
        using (var writer = new JuteWriter())
        {
            writer.BeginFrame();
            request.Write(writer);
            writer.EndFrame();
            await _output.WriteAsync(writer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        var reader = new JuteReader(await ReadOneFrameAsync("answered the handshake", "during the handshake", cancellationToken).ConfigureAwait(false));
        return ConnectResponse.Read(ref reader);
    }

    /// <summary>
    /// Sends one SASL token (opcode 102) and reads the answer: the error code and the server's token. Only used
    /// before <see cref="RunAsync"/>, when nothing else is in flight on the connection.
    /// </summary>
    public async Task<(ErrorCode Error, byte[]? Token)> ExchangeSaslAsync(int xid, byte[] token, CancellationToken cancellationToken)
    {
        using (var writer = new JuteWriter())
        {
            writer.BeginFrame();
            new RequestHeader(xid, (int)OpCode.Sasl).Write(writer);
            new SaslRequest(token).Write(writer);
            writer.EndFrame();
            await _output.WriteAsync(writer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        var reader = new JuteReader(await ReadOneFrameAsync("answered a SASL request", "during the SASL login", cancellationToken).ConfigureAwait(false));
        var header = ReplyHeader.Read(ref reader);
        if (header.Xid != xid) throw new IOException($"{Server} answered xid {header.Xid} to the SASL request with xid {xid}");
        if (header.Err != 0) return ((ErrorCode)header.Err, null);
        return (ErrorCode.Ok, SaslResponse.Read(ref reader).Token);
    }

    /// <summary>
    /// Reads exactly one frame, before <see cref="RunAsync"/> takes over the input; the phrases name the step in the
    /// messages for an oversized frame ("{Server} answered the handshake with a N-byte packet") and a closed connection.
    /// </summary>
    private async Task<byte[]> ReadOneFrameAsync(string answered, string during, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var status = Framing.TryReadFrame(ref buffer, _maxPacketBytes, out var payload, out int length);
            if (status == FrameStatus.Complete)
            {
                var bytes = payload.ToArray();
                _input.AdvanceTo(buffer.Start);
                _lastReceived = _time.GetTimestamp();
                return bytes;
            }
            if (status == FrameStatus.Invalid) throw new IOException($"{Server} {answered} with a {length}-byte packet");
            _input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) throw new IOException($"{Server} closed the connection {during}");
        }
    }

    /// <summary>Writes packets that must precede every queued request (auth, setWatches) and flushes them.</summary>
    public async Task PrimeAsync(IEnumerable<byte[]> authFrames, IEnumerable<byte[]> setWatchesFrames, CancellationToken cancellationToken)
    {
        foreach (var frame in authFrames)
        {
            AuthInFlight.Enqueue(null);
            _output.Write(frame);
        }
        foreach (var frame in setWatchesFrames) _output.Write(frame);
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        _lastSent = _time.GetTimestamp();
    }

    /// <summary>
    /// Runs until the connection fails or <paramref name="cancellationToken"/> stops it; returns why it ended.
    /// </summary>
    public async Task<Exception?> RunAsync(IConnectionOwner owner, ChannelReader<OutgoingPacket> outgoing,
        ChannelWriter<OutgoingPacket> pings, TimeSpan readTimeout, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var loops = new[]
        {
            ReadLoopAsync(owner, stop.Token),
            WriteLoopAsync(owner, outgoing, stop.Token),
            PingLoopAsync(pings, readTimeout, stop.Token),
        };
        var first = await Task.WhenAny(loops).ConfigureAwait(false);
        stop.Cancel();
        // Closing the socket ends a read or write that ignores the token.
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer: nothing left to shut.
        }
        try
        {
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The first failure is the one reported; the others follow from stopping.
        }
        if (cancellationToken.IsCancellationRequested) return null;
        return first.Exception?.GetBaseException() ?? new IOException($"connection to {Server} ended");
    }

    private async Task ReadLoopAsync(IConnectionOwner owner, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            FrameStatus status;
            while ((status = Framing.TryReadFrame(ref buffer, _maxPacketBytes, out var payload, out int length)) == FrameStatus.Complete)
            {
                HandleFrame(owner, payload);
            }
            if (status == FrameStatus.Invalid)
            {
                throw new IOException($"{Server} sent a packet whose length is invalid or over {_maxPacketBytes} bytes (jute.maxbuffer)");
            }
            _input.AdvanceTo(buffer.Start, buffer.End);
            _lastReceived = _time.GetTimestamp();
            if (result.IsCompleted) throw new IOException($"{Server} closed the connection");
        }
    }

    private void HandleFrame(IConnectionOwner owner, ReadOnlySequence<byte> payload)
    {
        byte[]? rented = null;
        ReadOnlySpan<byte> span;
        if (payload.IsSingleSegment)
        {
            span = payload.FirstSpan;
        }
        else
        {
            rented = ArrayPool<byte>.Shared.Rent((int)payload.Length);
            payload.CopyTo(rented);
            span = rented.AsSpan(0, (int)payload.Length);
        }
        try
        {
            var reader = new JuteReader(span);
            var header = ReplyHeader.Read(ref reader);
            HandleReply(owner, header, ref reader);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void HandleReply(IConnectionOwner owner, ReplyHeader header, ref JuteReader reader)
    {
        switch (header.Xid)
        {
            case Xids.Ping:
                return;
            case Xids.Notification:
                owner.OnNotification(WatcherEvent.Read(ref reader));
                return;
            case Xids.Auth:
                AuthInFlight.TryDequeue(out var waiter);
                waiter?.Complete((ErrorCode)header.Err);
                if (header.Err == (int)ErrorCode.AuthFailed) owner.OnAuthFailed();
                return;
            case Xids.SetWatches:
                if (header.Err != 0) _logger.LogWarning("{Server} refused to restore watches: {Code}", Server, (ErrorCode)header.Err);
                return;
        }
        if (!InFlight.TryDequeue(out var request))
        {
            throw new IOException($"{Server} answered xid {header.Xid}, but no request is in flight");
        }
        if (request.Xid != header.Xid)
        {
            // Put it back so the connection teardown fails it along with the rest.
            request.Fail(new ZooKeeperException(ErrorCode.ConnectionLoss, request.ClientPath, $"xid out of order: expected {request.Xid}, got {header.Xid}"));
            throw new IOException($"{Server} answered xid {header.Xid} while xid {request.Xid} was the oldest in flight");
        }
        if (header.Zxid > 0) owner.OnReplyZxid(header.Zxid);
        request.Complete(header, ref reader);
    }

    private async Task WriteLoopAsync(IConnectionOwner owner, ChannelReader<OutgoingPacket> outgoing, CancellationToken cancellationToken)
    {
        const int FlushThresholdBytes = 64 * 1024;
        while (await outgoing.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (outgoing.TryRead(out var packet))
            {
                if (packet.Request is { } request)
                {
                    if (request.IsAbandoned)
                    {
                        request.Finish();
                        continue;
                    }
                    request.Xid = owner.NextXid();
                    System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(request.Frame.AsSpan(4), request.Xid);
                    // In the queue before it is on the wire, so the reader can never see a reply it cannot match.
                    InFlight.Enqueue(request);
                }
                else if (packet.Auth is not null)
                {
                    AuthInFlight.Enqueue(packet.Auth);
                }
                _output.Write(packet.Frame);
                if (_output.UnflushedBytes >= FlushThresholdBytes) await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var result = await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        _lastSent = _time.GetTimestamp();
        if (result.IsCompleted) throw new IOException($"{Server} stopped accepting data");
    }

    /// <summary>
    /// Pings when nothing was sent for half the read timeout (a third of the session timeout) and gives the
    /// connection up when nothing arrived for the whole read timeout (two thirds), as the Java client does.
    /// </summary>
    private async Task PingLoopAsync(ChannelWriter<OutgoingPacket> pings, TimeSpan readTimeout, CancellationToken cancellationToken)
    {
        var pingInterval = readTimeout / 2;
        var floor = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            var sinceReceived = _time.GetElapsedTime(Volatile.Read(ref _lastReceived));
            if (sinceReceived >= readTimeout)
            {
                throw new TimeoutException($"nothing heard from {Server} for {sinceReceived.TotalMilliseconds:0} ms (read timeout {readTimeout.TotalMilliseconds:0} ms)");
            }
            var sinceSent = _time.GetElapsedTime(Volatile.Read(ref _lastSent));
            if (sinceSent >= pingInterval)
            {
                pings.TryWrite(new OutgoingPacket(PingFrame, null, null));
                Volatile.Write(ref _lastSent, _time.GetTimestamp());
                sinceSent = TimeSpan.Zero;
            }
            var wait = TimeSpan.FromTicks(Math.Min((readTimeout - sinceReceived).Ticks, (pingInterval - sinceSent).Ticks));
            await Task.Delay(wait < floor ? floor : wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static byte[] BuildPingFrame()
    {
        using var writer = new JuteWriter(16);
        writer.BeginFrame();
        new RequestHeader(Xids.Ping, (int)OpCode.Ping).Write(writer);
        writer.EndFrame();
        return writer.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _input.CompleteAsync().ConfigureAwait(false);
        await _output.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }
}
