using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Buffers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Warden.Consensus;
using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Server.Quorum.Transport;

/// <summary>
/// One quorum-port connection between a learner and its leader, seen from either end. Packets are bare jute
/// QuorumPackets back to back; after a SNAP packet the leader writes the raw snapshot, which the learner's
/// snapshot reader consumes from the same stream. Writes go through an ordered queue bounded in bytes, so the
/// caller never waits for the network; a peer that stops reading until the queue passes the bound is dropped.
/// Reads time out as Apache's SO_TIMEOUT does: initLimit ticks until the NEWLEADER exchange, then syncLimit ticks.
/// </summary>
internal sealed class QuorumConnection
{
    /// <summary>The most bytes a connection may have queued and unwritten before its peer is judged stuck.</summary>
    public const long MaxQueuedBytes = 64L * 1024 * 1024;

    private readonly QuorumPort _owner;
    private readonly QuorumTransportOptions _options;
    private readonly ILogger _log;
    private readonly Channel<byte[]> _outbound = System.Threading.Channels.Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _sendGate = new();
    private Socket? _socket;
    private long _queuedBytes;

    // A snapshot for SNAP is as large as the tree; it is written once per sync and does not count toward the
    // backlog bound, which is there to catch a learner that stops reading the packets that follow it.
    private byte[]? _pendingSnapshot;
    private long _snapshotBytes;
    private int _closed;
    private int _readTimeoutMs;
    private volatile bool _newLeaderSent;
    private bool _dropping;

    private QuorumConnection(QuorumPort owner, QuorumTransportOptions options, ILogger log, bool isLearnerSide, ServerId? peer)
    {
        _owner = owner;
        _options = options;
        _log = log;
        IsLearnerSide = isLearnerSide;
        Peer = peer;
        _readTimeoutMs = options.InitLimitMs;
    }

    /// <summary>A connection this server opens to the leader <paramref name="leader"/>; packets may be queued at once.</summary>
    public static QuorumConnection ToLeader(QuorumPort owner, QuorumTransportOptions options, ILogger log, ServerId leader) =>
        new(owner, options, log, isLearnerSide: true, leader);

    /// <summary>A connection a learner opened to this leader; its sid is known once FOLLOWERINFO or OBSERVERINFO arrives.</summary>
    public static QuorumConnection FromLearner(QuorumPort owner, QuorumTransportOptions options, ILogger log, Socket socket)
    {
        var connection = new QuorumConnection(owner, options, log, isLearnerSide: false, peer: null) { _socket = socket };
        return connection;
    }

    public bool IsLearnerSide { get; }

    /// <summary>The other end's sid: the leader for a learner-side connection, the learner once identified otherwise.</summary>
    public ServerId? Peer { get; private set; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    private string Describe => Peer is { } peer ? peer.ToString() : _socket?.RemoteEndPoint?.ToString() ?? "an unidentified learner";

    /// <summary>Queues a packet (and, for SNAP, the snapshot that follows it) for writing, in order. Never blocks.</summary>
    public void Send(byte[] packet, byte[]? snapshot, PacketType type)
    {
        lock (_sendGate)
        {
            if (IsClosed || _dropping) return;
            long size = packet.Length + (snapshot?.Length ?? 0);
            long queued = Interlocked.Read(ref _queuedBytes) - Interlocked.Read(ref _snapshotBytes);
            long counted = packet.Length;
            // The bound is on a backlog of packets; a snapshot is let through whatever waits beside it.
            if (queued > 0 && queued + counted > MaxQueuedBytes)
            {
                _log.LogWarning("Dropping the quorum connection with {Peer}: {Queued} bytes are waiting to be written " +
                                "(bound {Bound}); it has stopped reading", Describe, queued, MaxQueuedBytes);
                // Closing raises Disconnected, which must not run inside the caller's Send: hand it to the pool.
                _dropping = true;
                ThreadPool.QueueUserWorkItem(_ => Close(notify: true));
                return;
            }
            Interlocked.Add(ref _queuedBytes, size);
            _outbound.Writer.TryWrite(packet);
            if (snapshot is not null)
            {
                Volatile.Write(ref _pendingSnapshot, snapshot);
                Interlocked.Add(ref _snapshotBytes, snapshot.Length);
                _outbound.Writer.TryWrite(snapshot);
            }
            if (type == PacketType.NewLeader) _newLeaderSent = true;
        }
    }

    /// <summary>Closes the connection; <paramref name="notify"/> raises Disconnected (the peer broke it, not our host).</summary>
    public void Close(bool notify)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        _closing.Cancel();
        _outbound.Writer.TryComplete();
        try { _socket?.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        _socket?.Dispose();
        _owner.OnClosed(this, notify);
    }

    /// <summary>Dials the leader (up to 5 tries, 100 ms apart, each within initLimit ticks) and then runs the connection.</summary>
    public async Task RunToLeaderAsync(QuorumPeerAddress leader)
    {
        var socket = await DialAsync(leader).ConfigureAwait(false);
        if (socket is null) return;
        lock (_sendGate)
        {
            if (IsClosed)
            {
                socket.Dispose();
                return;
            }
            _socket = socket;
        }
        Stream? stream;
        using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token))
        {
            // With sslQuorum the learner's TLS handshake comes before FOLLOWERINFO, as Apache's Learner.connectToLeader.
            handshake.CancelAfter(_options.InitLimitMs);
            (stream, _) = await _options.Security.DialAsync(socket, leader.Host, "quorum", $"leader {leader.Id}", ownsSocket: false, handshake.Token)
                .ConfigureAwait(false);
        }
        if (stream is null)
        {
            Close(notify: true);
            socket.Dispose();
            return;
        }
        await RunAsync(stream).ConfigureAwait(false);
    }

    /// <summary>Runs a connection a learner opened: a TLS handshake first when the port takes TLS, then the packets.</summary>
    public async Task RunAcceptedAsync()
    {
        var socket = _socket!;
        var stream = await _options.Security.AcceptAsync(socket, "quorum", _options.InitLimitMs, ownsSocket: false, _closing.Token).ConfigureAwait(false);
        if (stream is null)
        {
            Close(notify: false);
            socket.Dispose();
            return;
        }
        await RunAsync(stream).ConfigureAwait(false);
    }

    private async Task<Socket?> DialAsync(QuorumPeerAddress leader)
    {
        const int tries = 5;
        string last = "";
        for (int attempt = 1; attempt <= tries && !IsClosed; attempt++)
        {
            Socket? socket = null;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
                timeout.CancelAfter(_options.InitLimitMs);
                var address = IPAddress.TryParse(leader.Host, out var literal)
                    ? literal
                    : (await Dns.GetHostAddressesAsync(leader.Host, timeout.Token).ConfigureAwait(false)).First();
                socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(new IPEndPoint(address, leader.QuorumPort), timeout.Token).ConfigureAwait(false);
                return socket;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
            {
                socket?.Dispose();
                last = e is OperationCanceledException ? $"no answer within {_options.InitLimitMs} ms" : e.Message;
            }
            if (attempt < tries)
            {
                // Apache waits 100 ms between tries (zookeeper.leaderConnectDelayDuringRetryMs): a new leader binds
                // its quorum port only once it leads, so the first dial is often early.
                try { await Task.Delay(100, _closing.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return null; }
            }
        }
        if (!IsClosed)
        {
            _log.LogWarning("Giving up connecting to leader {Leader} at {Address} after {Tries} tries: {Reason}",
                leader.Id, HostPort.Format(leader.Host, leader.QuorumPort), tries, last);
            Close(notify: true);
        }
        return null;
    }

    /// <summary>Runs the write and read loops on <paramref name="opened"/> until either ends; then the connection is closed.</summary>
    private async Task RunAsync(Stream opened)
    {
        var socket = _socket!;
        socket.NoDelay = true;
        await using var stream = opened;
        var output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 65536, leaveOpen: true));
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 65536, leaveOpen: true));
        var writing = WriteLoopAsync(output);
        try
        {
            await ReadLoopAsync(input).ConfigureAwait(false);
        }
        finally
        {
            Close(notify: true);
            await writing.ConfigureAwait(false);
            await input.CompleteAsync().ConfigureAwait(false);
            // Close may have run before the dialled socket was stored, so release it here as well.
            socket.Dispose();
        }
    }

    private async Task WriteLoopAsync(PipeWriter output)
    {
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_closing.Token).ConfigureAwait(false))
            {
                long written = 0, snapshotWritten = 0;
                while (reader.TryRead(out var item))
                {
                    output.Write(item);
                    written += item.Length;
                    if (ReferenceEquals(item, Volatile.Read(ref _pendingSnapshot))) snapshotWritten += item.Length;
                }
                var flush = await output.FlushAsync(_closing.Token).ConfigureAwait(false);
                Interlocked.Add(ref _snapshotBytes, -snapshotWritten);
                Interlocked.Add(ref _queuedBytes, -written);
                if (flush.IsCompleted) break;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or NotSupportedException)
        {
            if (!IsClosed) _log.LogInformation("Writing to {Peer} on the quorum port failed: {Reason}", Describe, e.Message);
        }
        finally
        {
            Close(notify: true);
            await output.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async Task ReadLoopAsync(PipeReader input)
    {
        try
        {
            while (!IsClosed)
            {
                ReadResult result;
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token))
                {
                    timeout.CancelAfter(_readTimeoutMs);
                    try
                    {
                        result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!_closing.IsCancellationRequested)
                    {
                        _log.LogWarning("Closing the quorum connection with {Peer}: nothing read for {Timeout} ms", Describe, _readTimeoutMs);
                        return;
                    }
                }
                var buffer = result.Buffer;
                bool advanced = false;
                try
                {
                    while (!IsClosed)
                    {
                        var status = QuorumPacketFramer.TryRead(ref buffer, _options.MaxPacketBytes, out var packet, out var problem);
                        if (status == FrameStatus.Incomplete) break;
                        if (status == FrameStatus.Invalid)
                        {
                            _log.LogWarning("Closing the quorum connection with {Peer}: it sent {Problem}", Describe, problem);
                            return;
                        }
                        if (!OnPacketRead(packet!)) return;
                        if (packet!.Type == PacketType.Snap && IsLearnerSide)
                        {
                            // The snapshot follows the SNAP packet on the stream: hand the rest of the input to the reader.
                            input.AdvanceTo(buffer.Start);
                            advanced = true;
                            var snapshot = await ReadSnapshotAsync(input).ConfigureAwait(false);
                            if (snapshot is null) return;
                            Deliver(packet, snapshot);
                            break;
                        }
                        Deliver(packet, null);
                    }
                    if (!advanced && result.IsCompleted)
                    {
                        if (!IsClosed) _log.LogInformation("{Peer} closed its quorum connection", Describe);
                        return;
                    }
                }
                finally
                {
                    if (!advanced) input.AdvanceTo(buffer.Start, buffer.End);
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            if (!IsClosed) _log.LogInformation("Reading from {Peer} on the quorum port failed: {Reason}", Describe, e.Message);
        }
    }

    /// <summary>Identifies a learner by its first packet and moves read timeouts along; false closes the connection.</summary>
    private bool OnPacketRead(QuorumPacket packet)
    {
        if (IsLearnerSide)
        {
            return true;
        }
        if (Peer is null)
        {
            if (packet.Type is not (PacketType.FollowerInfo or PacketType.ObserverInfo))
            {
                _log.LogWarning("Closing the quorum connection from {Remote}: its first packet is {Type}, not FOLLOWERINFO or OBSERVERINFO",
                    Describe, packet.Type);
                return false;
            }
            try
            {
                Peer = LearnerInfo.Decode(packet.Data ?? []).ServerId;
            }
            catch (JuteException e)
            {
                _log.LogWarning("Closing the quorum connection from {Remote}: {Reason}", Describe, e.Message);
                return false;
            }
            _owner.OnLearnerIdentified(this);
            return !IsClosed;
        }
        // Apache's LearnerHandler reads with initLimit ticks until the learner acknowledges NEWLEADER, then syncLimit.
        if (_newLeaderSent) _readTimeoutMs = _options.SyncLimitMs;
        return true;
    }

    private async Task<byte[]?> ReadSnapshotAsync(PipeReader input)
    {
        try
        {
            await using var stream = new IdleTimeoutStream(input.AsStream(leaveOpen: true), _readTimeoutMs, _closing.Token);
            return await _options.ReadSnapshot(stream, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (!_closing.IsCancellationRequested)
        {
            _log.LogWarning("Closing the quorum connection with {Peer}: the snapshot after SNAP could not be read ({Reason})", Describe, e.Message);
            return null;
        }
    }

    private void Deliver(QuorumPacket packet, byte[]? snapshot)
    {
        var self = _options.Self;
        var peer = Peer!.Value;
        var envelope = IsLearnerSide
            ? new Envelope(peer, self, Warden.Consensus.Channel.ToLearner, new PacketMessage(packet, snapshot))
            : new Envelope(peer, self, Warden.Consensus.Channel.ToLeader, new PacketMessage(packet, snapshot));
        _owner.Deliver(envelope);
        // A learner reads with initLimit ticks until it has received NEWLEADER, then with syncLimit ticks.
        if (IsLearnerSide && packet.Type == PacketType.NewLeader) _readTimeoutMs = _options.SyncLimitMs;
    }
}
