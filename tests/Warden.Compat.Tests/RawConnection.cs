using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Warden.Compat.Tests;

/// <summary>
/// A deliberately small, hand-written ZooKeeper wire client for tests that need to send what no
/// real client sends (garbage, truncated frames, unknown opcodes) or to control exactly what goes
/// out (setWatches). It shares no code with Warden, so it cannot share Warden's mistakes.
/// Every read is bounded by <see cref="ReadTimeout"/>.
/// </summary>
internal sealed class RawConnection : IDisposable
{
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);
    private readonly Socket socket;

    private RawConnection(Socket socket) => this.socket = socket;

    public static async Task<RawConnection> OpenAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = new CancellationTokenSource(ReadTimeout);
        await socket.ConnectAsync(endPoint, timeout.Token);
        return new RawConnection(socket);
    }

    /// <summary>Opens a connection and completes the handshake for a new session.</summary>
    public static async Task<(RawConnection Connection, ConnectResponse Session)> OpenSessionAsync(IPEndPoint endPoint)
    {
        var connection = await OpenAsync(endPoint);
        var session = await connection.HandshakeAsync();
        if (session is null || session.SessionId == 0)
        {
            connection.Dispose();
            throw new InvalidOperationException($"the server refused a new session ({session})");
        }
        return (connection, session);
    }

    public Task SendRawAsync(byte[] bytes) => socket.SendAsync(bytes, SocketFlags.None);

    /// <summary>Sends one length-prefixed frame.</summary>
    public Task SendFrameAsync(byte[] payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
        payload.CopyTo(frame, 4);
        return SendRawAsync(frame);
    }

    /// <summary>ConnectRequest → ConnectResponse; null when the server closed instead.</summary>
    public async Task<ConnectResponse?> HandshakeAsync(long sessionId = 0, byte[]? password = null, long lastZxidSeen = 0, int timeoutMs = 30000)
    {
        var request = new JuteBuffer()
            .Int(0).Long(lastZxidSeen).Int(timeoutMs).Long(sessionId).Buffer(password ?? new byte[16]).Bool(false);
        await SendFrameAsync(request.ToArray());
        var frame = await ReadFrameAsync();
        if (frame is null)
        {
            return null;
        }
        var reader = new JuteReader(frame);
        return new ConnectResponse(reader.Int(), reader.Int(), reader.Long(), reader.Buffer() ?? []);
    }

    public Task SendRequestAsync(int xid, int opCode, JuteBuffer body) =>
        SendFrameAsync(new JuteBuffer().Int(xid).Int(opCode).Raw(body.ToArray()).ToArray());

    /// <summary>Reads the next reply or notification; null when the server closed the connection.</summary>
    public async Task<Reply?> ReadReplyAsync()
    {
        var frame = await ReadFrameAsync();
        if (frame is null)
        {
            return null;
        }
        var reader = new JuteReader(frame);
        return new Reply(reader.Int(), reader.Long(), reader.Int(), reader);
    }

    /// <summary>A whole frame, or null at end of stream (or a reset: both mean "closed").</summary>
    public async Task<byte[]?> ReadFrameAsync()
    {
        var header = await ReadExactlyAsync(4);
        if (header is null)
        {
            return null;
        }
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length < 0 || length > 16 * 1024 * 1024)
        {
            throw new InvalidDataException($"the server sent a frame length of {length}");
        }
        return await ReadExactlyAsync(length) ?? throw new InvalidDataException("the server closed in the middle of a frame");
    }

    /// <summary>
    /// True when the server closes the connection (end of stream or reset) before the read
    /// timeout, having sent nothing more; fails if it sends data instead.
    /// </summary>
    public async Task<bool> ClosedByServerAsync()
    {
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(ReadTimeout);
        try
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (read > 0)
            {
                throw new InvalidDataException($"expected the server to close, it sent {Convert.ToHexString(buffer, 0, read)}");
            }
            return true;
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

    public void Dispose() => socket.Dispose();

    private async Task<byte[]?> ReadExactlyAsync(int count)
    {
        var buffer = new byte[count];
        var filled = 0;
        using var timeout = new CancellationTokenSource(ReadTimeout);
        try
        {
            while (filled < count)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    return filled == 0 ? null : throw new InvalidDataException($"the server closed after {filled} of {count} bytes");
                }
                filled += read;
            }
        }
        catch (SocketException) when (filled == 0)
        {
            return null;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no answer from the server within {ReadTimeout.TotalSeconds} s");
        }
        return buffer;
    }
}

internal sealed record ConnectResponse(int ProtocolVersion, int TimeoutMs, long SessionId, byte[] Password);

/// <summary>A ReplyHeader and a reader positioned at the body.</summary>
internal sealed record Reply(int Xid, long Zxid, int Error, JuteReader Body);

/// <summary>Jute encoding: big-endian ints and longs, length-prefixed buffers and strings.</summary>
internal sealed class JuteBuffer
{
    private readonly MemoryStream stream = new();

    public JuteBuffer Int(int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        stream.Write(bytes);
        return this;
    }

    public JuteBuffer Long(long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        stream.Write(bytes);
        return this;
    }

    public JuteBuffer Bool(bool value)
    {
        stream.WriteByte(value ? (byte)1 : (byte)0);
        return this;
    }

    public JuteBuffer Buffer(byte[] value) => Int(value.Length).Raw(value);

    public JuteBuffer String(string value) => Buffer(Encoding.UTF8.GetBytes(value));

    public JuteBuffer Strings(IReadOnlyCollection<string> values)
    {
        Int(values.Count);
        foreach (var value in values)
        {
            String(value);
        }
        return this;
    }

    public JuteBuffer Raw(byte[] bytes)
    {
        stream.Write(bytes);
        return this;
    }

    /// <summary>The open ACL: one entry, perms ALL, world:anyone.</summary>
    public JuteBuffer OpenAcl() => Int(1).Int(31).String("world").String("anyone");

    public byte[] ToArray() => stream.ToArray();
}

internal sealed class JuteReader(byte[] bytes)
{
    private int position;

    public int Int()
    {
        var value = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(position, 4));
        position += 4;
        return value;
    }

    public long Long()
    {
        var value = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(position, 8));
        position += 8;
        return value;
    }

    public byte[]? Buffer()
    {
        var length = Int();
        if (length < 0)
        {
            return null;
        }
        var value = bytes.AsSpan(position, length).ToArray();
        position += length;
        return value;
    }

    public string? String() => Buffer() is { } raw ? Encoding.UTF8.GetString(raw) : null;

    public bool AtEnd => position == bytes.Length;
}

/// <summary>The opcodes and xids the raw tests use (S/ZooDefs.java OpCode).</summary>
internal static class Op
{
    public const int Create = 1;
    public const int Exists = 3;
    public const int GetData = 4;
    public const int SetData = 5;
    public const int GetChildren = 8;
    public const int CloseSession = -11;
    public const int SetWatches = 101;
    public const int NotificationXid = -1;
    public const int SetWatchesXid = -8;
}
