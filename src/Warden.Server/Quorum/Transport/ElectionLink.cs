using System.Buffers.Binary;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Warden.Consensus;

namespace Warden.Server.Quorum.Transport;

/// <summary>
/// One established election connection to one peer, whichever side dialled: a send loop that writes the peer's
/// pending notification (its queue holds one, newest wins) and a receive loop that reads framed notifications.
/// Frames are <c>int length; byte[length]</c> both ways; a length of 0 or less, or above 524288, closes the link, as
/// Apache's RecvWorker does. When either loop ends the whole link closes, as a RecvWorker that exits finishes its
/// SendWorker. There is no read timeout once the handshake is over: an idle election link is normal.
/// </summary>
internal sealed class ElectionLink
{
    /// <summary>Apache's PACKETMAXSIZE for election frames.</summary>
    public const int MaxFrameBytes = 512 * 1024;

    private readonly ElectionLinks _owner;
    private readonly Stream _stream;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _closing = new();
    private readonly Channel<bool> _wake = System.Threading.Channels.Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
    });
    private int _closed;

    /// <param name="stream">The connection, plaintext or TLS; the link owns it (and the socket under it).</param>
    public ElectionLink(ElectionLinks owner, ServerId peer, Stream stream, ILogger log)
    {
        _owner = owner;
        Peer = peer;
        _log = log;
        _stream = stream;
    }

    public ServerId Peer { get; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    public void Start()
    {
        _ = SendLoopAsync();
        _ = ReceiveLoopAsync();
    }

    /// <summary>Tells the send loop that the peer's pending slot has a message.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        _closing.Cancel();
        _stream.Dispose();
        _owner.OnLinkClosed(this);
    }

    private async Task SendLoopAsync()
    {
        // A new link whose queue is empty re-sends the last message sent to that peer (Apache's SendWorker does the
        // same), so a notification that went out on a link that then broke is not lost.
        bool first = true;
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                var message = _owner.TakePending(Peer);
                if (message is null && first) message = _owner.LastSent(Peer);
                first = false;
                if (message is null)
                {
                    await _wake.Reader.ReadAsync(_closing.Token).ConfigureAwait(false);
                    continue;
                }
                var frame = new byte[4 + message.Length];
                BinaryPrimitives.WriteInt32BigEndian(frame, message.Length);
                message.CopyTo(frame.AsSpan(4));
                await _stream.WriteAsync(frame, _closing.Token).ConfigureAwait(false);
                _owner.RecordSent(Peer, message);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or NotSupportedException)
        {
            if (!IsClosed) _log.LogDebug("Election link to {Peer} could not send: {Reason}", Peer, e.Message);
        }
        finally
        {
            Close();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var header = new byte[4];
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                await _stream.ReadExactlyAsync(header, _closing.Token).ConfigureAwait(false);
                int length = BinaryPrimitives.ReadInt32BigEndian(header);
                if (length <= 0 || length > MaxFrameBytes)
                {
                    _log.LogWarning("Closing the election link with {Peer}: it sent a frame of length {Length} (allowed 1..{Max})",
                        Peer, length, MaxFrameBytes);
                    return;
                }
                var frame = new byte[length];
                await _stream.ReadExactlyAsync(frame, _closing.Token).ConfigureAwait(false);
                var notification = NotificationCodec.TryDecode(frame, out var problem);
                if (notification is null)
                {
                    // Apache skips a frame it cannot parse and keeps the link; so do we.
                    _log.LogWarning("Ignoring {Problem} from {Peer}", problem, Peer);
                    continue;
                }
                _owner.OnNotification(Peer, notification);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or EndOfStreamException)
        {
            if (!IsClosed) _log.LogDebug("Election link with {Peer} ended: {Reason}", Peer, e.Message);
        }
        finally
        {
            Close();
        }
    }
}
