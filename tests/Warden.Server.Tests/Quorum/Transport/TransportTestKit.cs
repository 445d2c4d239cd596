using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Warden.Consensus;
using Warden.Consensus.Wire;
using Warden.Protocol;
using Warden.Server.Quorum.Transport;

namespace Warden.Server.Tests.Quorum.Transport;

/// <summary>Free ports, options, raw sockets and an inbox that records what a transport delivers.</summary>
internal static class TransportTestKit
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public static int FreePort() => Warden.Testing.TestPorts.Next();

    public static QuorumPeerAddress Address(long sid) => new(new ServerId(sid), "127.0.0.1", FreePort(), FreePort());

    public static QuorumTransportOptions Options(long self, IReadOnlyList<QuorumPeerAddress> peers, int tickTimeMs = 2000) => new()
    {
        Self = new ServerId(self),
        Peers = peers,
        TickTimeMs = tickTimeMs,
        ConnectTimeoutMs = 2000,
        ReadSnapshot = ReadLengthPrefixedAsync,
    };

    /// <summary>The fake snapshot format of these tests: an int length and that many bytes, returned whole.</summary>
    public static async Task<byte[]> ReadLengthPrefixedAsync(Stream stream, CancellationToken cancellation)
    {
        var header = new byte[4];
        await stream.ReadExactlyAsync(header, cancellation);
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(header)];
        await stream.ReadExactlyAsync(body, cancellation);
        var whole = new byte[4 + body.Length];
        header.CopyTo(whole, 0);
        body.CopyTo(whole, 4);
        return whole;
    }

    public static byte[] LengthPrefixed(byte[] body)
    {
        var whole = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(whole, body.Length);
        body.CopyTo(whole, 4);
        return whole;
    }

    public static Notification Looking(long leader, long electionEpoch, string config = "") =>
        new(PeerState.Looking, new ServerId(leader), new Zxid(0), electionEpoch, 0, Notification.CurrentVersion,
            System.Text.Encoding.UTF8.GetBytes(config));

    public static Envelope Election(long from, long to, Notification notification) =>
        new(new ServerId(from), new ServerId(to), Warden.Consensus.Channel.Election, new ElectionMessage(notification));

    public static Envelope Packet(long from, long to, Warden.Consensus.Channel channel, QuorumPacket packet, byte[]? snapshot = null) =>
        new(new ServerId(from), new ServerId(to), channel, new PacketMessage(packet, snapshot));

    public static QuorumPacket FollowerInfo(long sid) =>
        new(PacketType.FollowerInfo, Zxid.From(0, 0), new LearnerInfo(new ServerId(sid), QuorumPacket.ProtocolVersion, 0).Encode());

    /// <summary>The election handshake as a 3.8 dialler writes it.</summary>
    public static byte[] Hello(long sid, string address, long version = -65536)
    {
        var addressBytes = System.Text.Encoding.UTF8.GetBytes(address);
        var bytes = new byte[20 + addressBytes.Length];
        BinaryPrimitives.WriteInt64BigEndian(bytes, version);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(8), sid);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), addressBytes.Length);
        addressBytes.CopyTo(bytes, 20);
        return bytes;
    }

    public static byte[] Frame(byte[] body) => LengthPrefixed(body);

    public static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = new CancellationTokenSource(Bound);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        return socket;
    }

    public static async Task<byte[]> ReadExactlyAsync(Socket socket, int count)
    {
        using var timeout = new CancellationTokenSource(Bound);
        var buffer = new byte[count];
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.ReadExactlyAsync(buffer, timeout.Token);
        return buffer;
    }

    /// <summary>Reads one election frame (int length, bytes) and decodes it as a notification.</summary>
    public static async Task<Notification> ReadNotificationAsync(Socket socket)
    {
        var header = await ReadExactlyAsync(socket, 4);
        var body = await ReadExactlyAsync(socket, BinaryPrimitives.ReadInt32BigEndian(header));
        return Notification.Decode(body);
    }

    /// <summary>True when the other end closes the socket within the bound (a read returns 0 or fails with a reset).</summary>
    public static async Task<bool> ClosedByPeerAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(Bound);
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                int read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (read == 0) return true;
            }
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public static async Task<QuorumPacket> ReadPacketAsync(Socket socket)
    {
        // Small packets only: type, zxid, a data buffer, and a null or empty authinfo vector.
        var head = await ReadExactlyAsync(socket, 16);
        int dataLength = BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(12));
        var rest = await ReadExactlyAsync(socket, Math.Max(dataLength, 0) + 4);
        var whole = head.Concat(rest).ToArray();
        return QuorumPacket.Decode(whole);
    }
}

/// <summary>Records what a transport delivers and lets a test await the next matching envelope, with a bound.</summary>
internal sealed class Inbox
{
    private readonly Channel<Envelope> _received = System.Threading.Channels.Channel.CreateUnbounded<Envelope>();
    private readonly Channel<ServerId> _disconnected = System.Threading.Channels.Channel.CreateUnbounded<ServerId>();

    public Inbox(QuorumTransport transport)
    {
        transport.Received += envelope => _received.Writer.TryWrite(envelope);
        transport.Disconnected += peer => _disconnected.Writer.TryWrite(peer);
    }

    public int DisconnectedCount => _disconnected.Reader.Count;

    public async Task<Envelope> NextAsync(Func<Envelope, bool>? match = null, TimeSpan? bound = null)
    {
        using var timeout = new CancellationTokenSource(bound ?? TransportTestKit.Bound);
        try
        {
            while (true)
            {
                var envelope = await _received.Reader.ReadAsync(timeout.Token);
                if (match is null || match(envelope)) return envelope;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no matching envelope arrived within {(bound ?? TransportTestKit.Bound).TotalSeconds} s");
        }
    }

    public async Task<Notification> NextNotificationAsync(long from, TimeSpan? bound = null)
    {
        var envelope = await NextAsync(e => e.From.Value == from && e.Channel == Warden.Consensus.Channel.Election, bound);
        return ((ElectionMessage)envelope.Message).Notification;
    }

    public async Task<ServerId> NextDisconnectedAsync(TimeSpan? bound = null)
    {
        using var timeout = new CancellationTokenSource(bound ?? TransportTestKit.Bound);
        try
        {
            return await _disconnected.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("no disconnection was reported within the bound");
        }
    }
}

/// <summary>Keeps every log line so tests can check that bad input is reported once and names its cause.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, string Text)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Text)> Lines => _lines.ToArray();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue((logLevel, formatter(state, exception)));

    public int Count(LogLevel level, string fragment) =>
        _lines.Count(l => l.Level == level && l.Text.Contains(fragment, StringComparison.Ordinal));
}
