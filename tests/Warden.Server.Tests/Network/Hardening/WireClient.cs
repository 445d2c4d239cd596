using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Warden.Protocol;

namespace Warden.Server.Tests.Network.Hardening;

/// <summary>A small wire client for the hardening tests: frames out, frames in, every read bounded in time.</summary>
internal sealed class WireClient : IDisposable
{
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(20);
    private readonly NetworkStream _stream;
    private int _nextXid = 1;

    private WireClient(Socket socket)
    {
        Socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public Socket Socket { get; }
    public long SessionId { get; private set; }

    public static async Task<WireClient> OpenAsync(IPEndPoint endPoint, int receiveBufferBytes = 0, IPAddress? source = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferBytes > 0) socket.ReceiveBufferSize = receiveBufferBytes;
        if (source is not null) socket.Bind(new IPEndPoint(source, 0));
        using var timeout = new CancellationTokenSource(ReadTimeout);
        await socket.ConnectAsync(endPoint, timeout.Token);
        return new WireClient(socket);
    }

    public static async Task<WireClient> OpenSessionAsync(IPEndPoint endPoint, int timeoutMs, int receiveBufferBytes = 0, IPAddress? source = null)
    {
        var client = await OpenAsync(endPoint, receiveBufferBytes, source);
        await client.SendAsync(ConnectFrame(timeoutMs));
        var reply = await client.ReadFrameAsync() ?? throw new InvalidOperationException("the server closed the connection at the handshake");
        var reader = new JuteReader(reply);
        var response = ConnectResponse.Read(ref reader);
        if (response.SessionId == 0) throw new InvalidOperationException("the server refused the session");
        client.SessionId = response.SessionId;
        return client;
    }

    public static byte[] ConnectFrame(int timeoutMs) =>
        Frame(w => new ConnectRequest(0, 0, timeoutMs, 0, new byte[16], false).Write(w));

    public static byte[] Frame(Action<JuteWriter> body)
    {
        using var writer = new JuteWriter();
        writer.BeginFrame();
        body(writer);
        writer.EndFrame();
        return writer.ToArray();
    }

    public static byte[] RequestFrame(int xid, OpCode type, IJuteRecord? record) => Frame(w =>
    {
        w.WriteInt(xid);
        w.WriteInt((int)type);
        record?.Write(w);
    });

    /// <summary>A multi of creates, as the Java client encodes it.</summary>
    public static byte[] MultiCreateFrame(int xid, IEnumerable<string> paths, CreateMode mode) => Frame(w =>
    {
        w.WriteInt(xid);
        w.WriteInt((int)OpCode.Multi);
        foreach (var path in paths)
        {
            new MultiHeader((int)OpCode.Create, false, -1).Write(w);
            new CreateRequest(path, [], [.. Acl.OpenUnsafe], (int)mode).Write(w);
        }
        new MultiHeader(-1, true, -1).Write(w);
    });

    public int NextXid() => _nextXid++;

    public async Task SendAsync(byte[] bytes, CancellationToken cancellation = default) =>
        await _stream.WriteAsync(bytes, cancellation);

    /// <summary>Sends a request and reads frames until its reply; returns the reply's error code and body.</summary>
    public async Task<(ErrorCode Error, byte[] Body)> CallAsync(OpCode type, IJuteRecord? record)
    {
        int xid = type == OpCode.Ping ? Xids.Ping : NextXid();
        await SendAsync(RequestFrame(xid, type, record));
        while (true)
        {
            var frame = await ReadFrameAsync() ?? throw new IOException($"the server closed the connection during {type}");
            var reader = new JuteReader(frame);
            var header = ReplyHeader.Read(ref reader);
            if (header.Xid == Xids.Notification) continue;
            if (header.Xid != xid) throw new InvalidDataException($"reply to xid {header.Xid} while waiting for {xid}");
            return ((ErrorCode)header.Err, frame[16..]);
        }
    }

    /// <summary>The next frame's payload; null when the server closed the connection.</summary>
    public async Task<byte[]?> ReadFrameAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? ReadTimeout);
        var length = new byte[4];
        try
        {
            if (!await ReadExactlyAsync(length, cancel.Token)) return null;
            var payload = new byte[BinaryPrimitives.ReadInt32BigEndian(length)];
            return await ReadExactlyAsync(payload, cancel.Token) ? payload : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Reads until the server closes the connection; returns false if it is still open after the timeout.</summary>
    public async Task<bool> WaitForCloseAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var sink = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(sink, cancel.Token) > 0)
            {
            }
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken cancellation)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await _stream.ReadAsync(buffer.AsMemory(read), cancellation);
            if (n == 0) return false;
            read += n;
        }
        return true;
    }

    public void Dispose() => _stream.Dispose();
}
