using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Warden.Data;
using Warden.Protocol;
using Warden.Server.Processing;

namespace Warden.Server.Network;

/// <summary>
/// One client TCP connection. It reads packets off the socket through a pipe, frames them with the length
/// checked before the body is buffered (STYLE 4), and posts them to the state-machine loop; it writes what the
/// loop queues, in order, batching every frame that is ready into one flush. It holds no server state and no
/// lock: the loop talks to it only through <see cref="Send"/> and <see cref="Close"/>.
/// </summary>
public sealed class ClientConnection : IClientConnection
{
    private static long _nextConnectionId;

    private readonly Socket _socket;
    private readonly Security.TlsServerContext? _tls;
    private readonly bool _tlsOptional;
    private volatile bool _secure;
    private readonly ServerCore _core;
    private readonly FourLetterWords _fourLetterWords;
    private readonly ILogger _log;
    private readonly Channel<OutboundFrame> _outbound;
    private readonly CancellationTokenSource _closing = new();
    private readonly OutstandingRequests _global;
    private readonly ProgressSignal _progress = new();
    private readonly long _maxOutboundBytes;
    private readonly int _maxOutstanding;
    private string _closeReason = "the client closed the connection";
    private readonly Action _releaseSlot;
    private int _slotReleased;
    private long _queuedBytes;
    private int _outstanding;
    private int _handshakeDone;
    private long _lastHeardAtMs = long.MinValue / 2;

    /// <param name="releaseSlot">Frees this connection's place in the per-address limit; called once, as the
    /// connection starts to close and before the socket goes, as Apache does, so a client that reconnects at
    /// once is not refused for a connection that is already on its way out.</param>
    /// <param name="global">The server-wide count of unanswered requests this connection adds to.</param>
    /// <param name="tls">The secure port's certificates, for a connection on that port; null for plaintext.</param>
    /// <param name="tlsOptional">client.portUnification on the plaintext port: TLS when the client starts with a TLS
    /// handshake, plaintext otherwise.</param>
    public ClientConnection(Socket socket, ServerCore core, FourLetterWords fourLetterWords, ILogger log, Action releaseSlot,
        OutstandingRequests global, Security.TlsServerContext? tls = null, bool tlsOptional = false)
    {
        _tls = tls;
        _tlsOptional = tlsOptional;
        _releaseSlot = releaseSlot;
        _socket = socket;
        _core = core;
        _fourLetterWords = fourLetterWords;
        _log = log;
        _global = global;
        ConnectionId = Interlocked.Increment(ref _nextConnectionId);
        var remote = socket.RemoteEndPoint as IPEndPoint;
        // A port bound to both IPv4 and IPv6 sees IPv4 clients as ::ffff:a.b.c.d; they are IPv4 clients to ip ACLs and logs.
        if (remote is not null && remote.Address.IsIPv4MappedToIPv6) remote = new IPEndPoint(remote.Address.MapToIPv4(), remote.Port);
        RemoteEndPoint = remote;
        RemoteAddress = remote?.Address.ToString() ?? "unknown";
        var settings = core.Settings;
        _outbound = Channel.CreateBounded<OutboundFrame>(new BoundedChannelOptions(settings.MaxQueuedFramesPerConnection)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _maxOutboundBytes = Math.Max(1, settings.MaxOutboundBytesPerConnection);
        _maxOutstanding = Math.Max(1, settings.MaxOutstandingPerConnection);
    }

    public long ConnectionId { get; }
    public string RemoteAddress { get; }
    public IPEndPoint? RemoteEndPoint { get; }
    public ConnectionState State { get; } = new();

    /// <summary>True once the connection runs TLS (on the TLS port, or a TLS client on a unified plaintext port).</summary>
    public bool IsSecure => _secure;

    /// <summary>Apache prints the remote address as /host:port.</summary>
    public string DisplayAddress => RemoteEndPoint is null ? "/unknown" : $"/{RemoteEndPoint.Address}:{RemoteEndPoint.Port}";

    /// <summary>Frames queued but not yet written.</summary>
    public int QueuedFrames => _outbound.Reader.Count;

    /// <summary>Bytes queued but not yet handed to the socket.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>When the last complete packet arrived, on the loop's monotonic clock.</summary>
    public long LastHeardAtMs => Interlocked.Read(ref _lastHeardAtMs);

    /// <summary>Requests read from this connection and not yet answered.</summary>
    public int OutstandingRequests => Volatile.Read(ref _outstanding);

    public void Send(byte[] frame) => Send(OutboundFrame.Of(frame));

    public void Send(OutboundFrame frame)
    {
        Interlocked.Add(ref _queuedBytes, frame.Length);
        if (!_outbound.Writer.TryWrite(frame))
        {
            Interlocked.Add(ref _queuedBytes, -frame.Length);
            // The loop must never wait for a client. The read side stops taking requests long before this
            // many frames pile up, so only watch events can get here: a client that reads nothing is cut off.
            Close("the client is not reading its replies (outbound queue full)");
        }
    }

    private void ReleaseSlot()
    {
        if (Interlocked.Exchange(ref _slotReleased, 1) == 0) _releaseSlot();
    }

    public void Close(string reason)
    {
        if (_closing.IsCancellationRequested) return;
        ReleaseSlot();
        _closeReason = reason;
        _outbound.Writer.TryComplete();
    }

    public void RequestCompleted()
    {
        // Only a request that was counted is taken off; after the connection has gone, its count is already
        // returned to the server-wide total, and a late answer must not take it off twice.
        while (true)
        {
            int current = Volatile.Read(ref _outstanding);
            if (current <= 0) return;
            if (Interlocked.CompareExchange(ref _outstanding, current - 1, current) == current) break;
        }
        _global.Add(-1);
        _progress.Pulse();
    }

    public void Process(WatchedEvent watchedEvent)
    {
        using var writer = new JuteWriter(64 + watchedEvent.Path.Length);
        writer.BeginFrame();
        new ReplyHeader(Xids.Notification, -1, 0).Write(writer);
        new WatcherEvent(watchedEvent.Type, watchedEvent.State, watchedEvent.Path).Write(writer);
        writer.EndFrame();
        Send(writer.ToArray());
        State.PacketsSent++;
    }

    public async Task RunAsync(CancellationToken serverStopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(serverStopping, _closing.Token);
        // One deadline for the whole handshake, as Apache's sessionless connection timeout, except that bytes
        // trickling in do not push it back: a client that sends one byte a second must not hold a descriptor
        // for ever.
        using var handshakeDeadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(_core.Settings.SessionlessConnectionTimeoutMs));
        using var onDeadline = handshakeDeadline.Token.Register(() =>
        {
            if (Volatile.Read(ref _handshakeDone) == 0) Close($"no connect request within {_core.Settings.SessionlessConnectionTimeoutMs} ms");
        });
        var opened = await OpenStreamAsync(handshakeDeadline.Token, serverStopping).ConfigureAwait(false);
        if (opened is null)
        {
            Interlocked.CompareExchange(ref _handshakeDone, 1, 0);
            ReleaseSlot();
            _outbound.Writer.TryComplete();
            _closing.Cancel();
            return;
        }
        await using var stream = opened;
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 65536, minimumReadSize: 4096));
        var output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 65536));
        var writing = WriteLoopAsync(output, linked.Token);
        bool handshakeSeen = false;
        try
        {
            handshakeSeen = await ReadLoopAsync(input, linked.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // A close that races the client's bytes (the socket disposed under a pending read) is an ordinary
            // end of a connection, not a fault worth a stack trace.
            handshakeSeen = Volatile.Read(ref _handshakeDone) == 2;
        }
        finally
        {
            Interlocked.CompareExchange(ref _handshakeDone, 1, 0);
            ReleaseSlot();
            _outbound.Writer.TryComplete();
            await writing.ConfigureAwait(false);
            _closing.Cancel();
            await input.CompleteAsync().ConfigureAwait(false);
            // Requests still unanswered leave the server-wide count with the connection.
            int left = Interlocked.Exchange(ref _outstanding, 0);
            if (left > 0) _global.Add(-left);
            if (handshakeSeen) _core.Post(new DisconnectWork(this));
            _log.LogDebug("Closed connection {Remote}: {Reason}", DisplayAddress, _closeReason);
        }
    }

    /// <summary>
    /// The connection's byte stream: the socket itself, or on the TLS port the socket after a TLS handshake, which
    /// must finish within the same deadline as the connect request. A client that speaks plaintext to the TLS port
    /// (its first byte is not a TLS handshake record, 0x16) is told nothing: one log line, and the socket is closed.
    /// Returns null when the connection is closed instead.
    /// </summary>
    private async Task<Stream?> OpenStreamAsync(CancellationToken handshakeDeadline, CancellationToken serverStopping)
    {
        var network = new NetworkStream(_socket, ownsSocket: true);
        if (_tls is null) return network;
        // outstanding_tls_handshake counts the connection from accept until its handshake ends (on a unified port,
        // until its first byte shows plaintext); auth_failed_count counts every handshake that did not succeed, as
        // Apache's handshake listener does, including a connection closed before it sent anything.
        var stats = _core.Stats;
        stats.TlsHandshakeStarted();
        bool ended = false;
        void End()
        {
            if (ended) return;
            ended = true;
            stats.TlsHandshakeEnded();
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(handshakeDeadline, serverStopping);
        SslStream? tls = null;
        string? certificateRefusal = null;
        // On the TLS port a connection is TLS from the start; on a unified port only once its first byte says so.
        bool tlsChosen = !_tlsOptional;
        try
        {
            var first = new byte[1];
            int peeked = await _socket.ReceiveAsync(first, SocketFlags.Peek, linked.Token).ConfigureAwait(false);
            if (peeked == 0)
            {
                _log.LogDebug("Connection from {Remote} on the TLS port closed before its handshake", DisplayAddress);
            }
            else if (first[0] != 0x16 && _tlsOptional)
            {
                // client.portUnification: a plaintext client on the plaintext port, as before.
                End();
                return network;
            }
            else if (first[0] != 0x16)
            {
                _log.LogWarning("Closing connection from {Remote} on the TLS port: it sent plaintext (first byte 0x{Byte:x2}), not a TLS handshake; " +
                    "a client needs TLS here (Java: -Dzookeeper.client.secure=true, kazoo: use_ssl=True), or the plaintext clientPort",
                    DisplayAddress, first[0]);
            }
            else
            {
                tlsChosen = true;
                tls = new SslStream(network, leaveInnerStreamOpen: false);
                await tls.AuthenticateAsServerAsync(_tls.OptionsForHandshake(refusal => certificateRefusal = refusal), linked.Token).ConfigureAwait(false);
                AddCertificateIdentity(tls);
                _secure = true;
                End();
                return tls;
            }
        }
        catch (OperationCanceledException) when (handshakeDeadline.IsCancellationRequested && !serverStopping.IsCancellationRequested)
        {
            _log.LogWarning("Closing connection from {Remote} on the TLS port: no TLS handshake within {Timeout} ms",
                DisplayAddress, _core.Settings.SessionlessConnectionTimeoutMs);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            if (!serverStopping.IsCancellationRequested)
            {
                _log.LogWarning("Unsuccessful TLS handshake with {Remote}: {Reason}", DisplayAddress,
                    certificateRefusal ?? (e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message));
            }
        }
        finally
        {
            End();
        }
        // On a unified port a connection closed before its first byte never chose TLS, so Apache counts no failure.
        if (tlsChosen && !serverStopping.IsCancellationRequested) stats.CountTlsHandshakeFailure();
        if (tls is not null) await tls.DisposeAsync().ConfigureAwait(false);
        await network.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    /// <summary>
    /// Apache's X509AuthenticationProvider, run when a certificate was asked for (clientAuth want or need) and given:
    /// the subject becomes the connection's x509 id, and the configured superUser subject also gets super.
    /// </summary>
    private void AddCertificateIdentity(SslStream tls)
    {
        if (_tls!.Settings.ClientAuth == Security.TlsClientAuth.None || tls.RemoteCertificate is not { } remote) return;
        var certificate = remote as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(remote.GetRawCertData());
        string id = Security.X509Identity.Of(certificate);
        // The loop does not know this connection yet (its connect request is not posted), so its ids are set here.
        if (_core.Settings.Authentication.X509SuperUser == id)
        {
            Security.AuthInfoSet.Add(State.AuthInfo, new Id("super", id));
            _log.LogInformation("Authenticated Id '{Id}' as super user", id);
        }
        Security.AuthInfoSet.Add(State.AuthInfo, new Id("x509", id));
        _log.LogInformation("Authenticated Id '{Id}' for Scheme 'x509'", id);
    }

    /// <summary>Returns whether the connection got as far as a handshake (and so is known to the loop).</summary>
    private async Task<bool> ReadLoopAsync(PipeReader input, CancellationToken cancellation)
    {
        bool handshakeSeen = false;
        int maxPacket = _core.Settings.MaxPacketBytes;
        while (true)
        {
            var result = await input.ReadAsync(cancellation).ConfigureAwait(false);
            var buffer = result.Buffer;
            try
            {
                if (!handshakeSeen && buffer.Length >= 4 && FourLetterWords.TryGetWord(buffer, out var word))
                {
                    Interlocked.CompareExchange(ref _handshakeDone, 1, 0);
                    string answer = await _fourLetterWords.AnswerAsync(word, this).ConfigureAwait(false);
                    Send(System.Text.Encoding.UTF8.GetBytes(answer));
                    Close("four-letter word answered");
                    return false;
                }
                while (true)
                {
                    var status = Framing.TryReadFrame(ref buffer, maxPacket, out var payload, out int length);
                    if (status == FrameStatus.Incomplete) break;
                    if (status == FrameStatus.Invalid)
                    {
                        _log.LogWarning(
                            "Closing connection from {Remote}: a packet of advertised length {Length} is malformed or larger than jute.maxbuffer={Max}",
                            DisplayAddress, length, maxPacket);
                        Close("bad packet length");
                        return handshakeSeen;
                    }
                    Interlocked.Exchange(ref _lastHeardAtMs, _core.MonotonicNowMs);
                    if (!handshakeSeen)
                    {
                        if (!TryHandshake(payload)) return false;
                        // 2: known to the loop, so a close from here on must tell it.
                        Volatile.Write(ref _handshakeDone, 2);
                        handshakeSeen = true;
                        continue;
                    }
                    if (!await TryPostRequestAsync(payload, cancellation).ConfigureAwait(false)) return true;
                }
                if (result.IsCompleted)
                {
                    if (buffer.Length > 0) _log.LogInformation("Connection from {Remote} ended inside a packet ({Bytes} bytes left unread)", DisplayAddress, buffer.Length);
                    return handshakeSeen;
                }
            }
            finally
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    private bool TryHandshake(ReadOnlySequence<byte> payload)
    {
        try
        {
            var reader = new JuteReader(Contiguous(payload));
            var request = ConnectRequest.Read(ref reader);
            _core.Post(new ConnectWork(this, request));
            return true;
        }
        catch (JuteException e)
        {
            _log.LogWarning("Closing connection from {Remote}: its first packet is not a valid connect request ({Reason})", DisplayAddress, e.Message);
            Close("malformed connect request");
            return false;
        }
    }

    private async ValueTask<bool> TryPostRequestAsync(ReadOnlySequence<byte> payload, CancellationToken cancellation)
    {
        if (payload.Length < 8)
        {
            _log.LogWarning("Closing connection from {Remote}: a request of {Length} bytes is too short for its header", DisplayAddress, payload.Length);
            Close("truncated request header");
            return false;
        }
        var bytes = Contiguous(payload);
        var reader = new JuteReader(bytes);
        var header = RequestHeader.Read(ref reader);
        var body = bytes[8..].ToArray();
        // Back-pressure, before the request is taken: wait while this connection's replies are backed up (so
        // its next requests wait in the kernel, not here), while it has as many requests in flight as it may,
        // and while the server as a whole is over its outstanding limit and this connection has one in flight.
        await _progress.WaitUntilAsync(MayTakeRequest, cancellation).ConfigureAwait(false);
        Interlocked.Increment(ref _outstanding);
        _global.Add(1);
        _core.Post(new RequestWork(this, header.Xid, (OpCode)header.Type, body, _core.MonotonicNowMs));
        return true;
    }

    private bool MayTakeRequest()
    {
        int outstanding = Volatile.Read(ref _outstanding);
        return QueuedBytes < _maxOutboundBytes && outstanding < _maxOutstanding && !_global.MustWait(outstanding);
    }

    private static ReadOnlySpan<byte> Contiguous(ReadOnlySequence<byte> payload) =>
        payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();

    private async Task WriteLoopAsync(PipeWriter output, CancellationToken cancellation)
    {
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellation).ConfigureAwait(false))
            {
                long batchBytes = 0;
                while (reader.TryRead(out var frame))
                {
                    foreach (var segment in frame.Segments) output.Write(segment.Span);
                    batchBytes += frame.Length;
                    // Flush in pieces of about the outbound limit, so the pipe never holds much more than that.
                    if (output.UnflushedBytes >= _maxOutboundBytes) break;
                }
                var flush = await output.FlushAsync(cancellation).ConfigureAwait(false);
                Interlocked.Add(ref _queuedBytes, -batchBytes);
                _progress.Pulse();
                if (flush.IsCompleted) break;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            await output.CompleteAsync().ConfigureAwait(false);
            try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            _closing.Cancel();
        }
    }
}
