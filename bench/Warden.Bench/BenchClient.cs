using System.Buffers.Binary;
using System.Net.Sockets;
using Warden.Protocol;

namespace Warden.Bench;

/// <summary>
/// The smallest synchronous ZooKeeper client that can time one request at a time: a handshake, then each request
/// waits for its reply. Timing sequential requests needs nothing more, and keeps client cost out of the figures.
/// </summary>
public sealed class BenchClient : IDisposable
{
    private readonly NetworkStream _stream;
    private readonly JuteWriter _writer = new(4096);
    private readonly byte[] _header = new byte[4];
    private byte[] _reply = new byte[1 << 20];
    private int _xid;

    private BenchClient(NetworkStream stream) => _stream = stream;

    /// <summary>The session this connection holds, kept so that a reconnect can resume it.</summary>
    public long SessionId { get; private set; }
    public byte[] Password { get; private set; } = new byte[16];

    /// <summary>The highest zxid a reply has carried, sent on a reconnect as a real client does.</summary>
    public long LastZxid { get; private set; }

    public static async Task<BenchClient> ConnectAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 10_000 };
                await socket.ConnectAsync("127.0.0.1", port);
                var client = new BenchClient(new NetworkStream(socket, ownsSocket: true));
                client.Send(w => new ConnectRequest(0, 0, 30000, 0, new byte[16], false).Write(w));
                var reply = client.Receive();
                var reader = new JuteReader(reply);
                var response = ConnectResponse.Read(ref reader);
                if (response.SessionId == 0) throw new IOException("session refused");
                (client.SessionId, client.Password) = (response.SessionId, response.Password);
                // Apache accepts connections while it is still loading and only then answers; a long first
                // read is allowed for, after which a reply that takes 10 s means something is wrong.
                return client;
            }
            catch (Exception e) when ((e is SocketException or IOException) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
    }

    /// <summary>
    /// One connection attempt that resumes a session (or opens one when <paramref name="sessionId"/> is 0), as a
    /// client does after losing its server. Returns null when the server refuses, closes or does not answer
    /// within <paramref name="receiveTimeoutMs"/>; an expired session is replaced by a new one.
    /// </summary>
    public static BenchClient? TryConnect(int port, long sessionId, byte[] password, long lastZxidSeen, int receiveTimeoutMs)
    {
        BenchClient? client = null;
        try
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            {
                NoDelay = true, ReceiveTimeout = receiveTimeoutMs, SendTimeout = receiveTimeoutMs,
            };
            try { socket.Connect("127.0.0.1", port); }
            catch (SocketException) { socket.Dispose(); throw; }
            client = new BenchClient(new NetworkStream(socket, ownsSocket: true));
            client.Send(w => new ConnectRequest(0, lastZxidSeen, 30000, sessionId, password, false).Write(w));
            var reader = new JuteReader(client.Receive());
            var response = ConnectResponse.Read(ref reader);
            if (response.SessionId == 0 || response.TimeoutMs <= 0)
            {
                client.Dispose();
                // A session the ensemble expired is not coming back; a fresh one is what a client would open.
                return sessionId == 0 ? null : TryConnect(port, 0, new byte[16], 0, receiveTimeoutMs);
            }
            (client.SessionId, client.Password, client.LastZxid) = (response.SessionId, response.Password, lastZxidSeen);
            return client;
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            client?.Dispose();
            return null;
        }
    }

    /// <summary>Sends one request and returns the reply's error code.</summary>
    public int Call(OpCode type, IJuteRecord body) => CallWithZxid(type, body).Err;

    /// <summary>Sends one request and returns the reply's error code and the zxid its header carries.</summary>
    public (int Err, long Zxid) CallWithZxid(OpCode type, IJuteRecord body)
    {
        int xid = ++_xid;
        Send(w =>
        {
            new RequestHeader(xid, (int)type).Write(w);
            body.Write(w);
        });
        while (true)
        {
            var reply = Receive();
            var reader = new JuteReader(reply);
            var header = ReplyHeader.Read(ref reader);
            if (header.Zxid > LastZxid) LastZxid = header.Zxid;
            if (header.Xid == xid) return (header.Err, header.Zxid);
        }
    }

    private void Send(Action<JuteWriter> write)
    {
        _writer.Reset();
        _writer.BeginFrame();
        write(_writer);
        _writer.EndFrame();
        _stream.Write(_writer.WrittenSpan);
    }

    private ReadOnlySpan<byte> Receive()
    {
        _stream.ReadExactly(_header);
        int length = BinaryPrimitives.ReadInt32BigEndian(_header);
        if (length > _reply.Length) _reply = new byte[length];
        _stream.ReadExactly(_reply, 0, length);
        return _reply.AsSpan(0, length);
    }

    public void Dispose()
    {
        _stream.Dispose();
        _writer.Dispose();
    }
}
