using System.Buffers.Binary;
using Warden.Consensus.Wire;
using Warden.Data;
using Warden.Protocol;

namespace Warden.Server.Quorum;

/// <summary>A client request a learner forwards to its leader, as the data of QuorumPacket REQUEST.</summary>
public readonly record struct ForwardedRequest(long SessionId, int Cxid, OpCode Type, byte[] Body);

/// <summary>
/// The data of the quorum packets that carry server business rather than consensus, in Apache's layouts
/// (Learner.request, Learner.validateSession, LearnerHandler's REVALIDATE answer, Learner.ping):
/// <code>
/// REQUEST        long sessionId; int cxid; int type; then the client's request body as it came
/// REVALIDATE     long sessionId; int timeout          (learner to leader, zxid -1)
///                long sessionId; boolean valid        (leader to learner, one byte)
/// PING reply     (long sessionId; int timeout)*       the sessions touched since the last reply
/// </code>
/// </summary>
public static class LearnerPackets
{
    public static QuorumPacket Request(long sessionId, int cxid, OpCode type, ReadOnlySpan<byte> body, IReadOnlyList<Id> authInfo)
    {
        var data = new byte[16 + body.Length];
        BinaryPrimitives.WriteInt64BigEndian(data, sessionId);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(8), cxid);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(12), (int)type);
        body.CopyTo(data.AsSpan(16));
        return new QuorumPacket(PacketType.Request, new Zxid(-1), data, authInfo.ToList());
    }

    public static ForwardedRequest ReadRequest(QuorumPacket packet)
    {
        var data = packet.Data ?? throw new JuteException("REQUEST without data");
        if (data.Length < 16) throw new JuteException($"REQUEST of {data.Length} bytes is shorter than its 16-byte header");
        return new ForwardedRequest(BinaryPrimitives.ReadInt64BigEndian(data), BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(8)),
            (OpCode)BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(12)), data[16..]);
    }

    public static QuorumPacket Revalidate(long sessionId, int timeoutMs)
    {
        var data = new byte[12];
        BinaryPrimitives.WriteInt64BigEndian(data, sessionId);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(8), timeoutMs);
        return new QuorumPacket(PacketType.Revalidate, new Zxid(-1), data);
    }

    public static (long SessionId, int TimeoutMs) ReadRevalidate(QuorumPacket packet)
    {
        var data = packet.Data;
        if (data is null || data.Length < 12) throw new JuteException($"REVALIDATE of {data?.Length ?? 0} bytes, expected 12");
        return (BinaryPrimitives.ReadInt64BigEndian(data), BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(8)));
    }

    public static QuorumPacket RevalidateAnswer(long sessionId, bool valid)
    {
        var data = new byte[9];
        BinaryPrimitives.WriteInt64BigEndian(data, sessionId);
        data[8] = valid ? (byte)1 : (byte)0;
        return new QuorumPacket(PacketType.Revalidate, new Zxid(-1), data);
    }

    public static (long SessionId, bool Valid) ReadRevalidateAnswer(QuorumPacket packet)
    {
        var data = packet.Data;
        if (data is null || data.Length < 9) throw new JuteException($"REVALIDATE answer of {data?.Length ?? 0} bytes, expected 9");
        return (BinaryPrimitives.ReadInt64BigEndian(data), data[8] != 0);
    }

    public static byte[] TouchTable(IReadOnlyList<(long SessionId, int TimeoutMs)> sessions)
    {
        var data = new byte[sessions.Count * 12];
        for (int i = 0; i < sessions.Count; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(data.AsSpan(i * 12), sessions[i].SessionId);
            BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(i * 12 + 8), sessions[i].TimeoutMs);
        }
        return data;
    }

    /// <summary>Reads a PING reply's table; a trailing fragment (a peer's bug) is ignored, as Apache's reader stops at EOF.</summary>
    public static List<(long SessionId, int TimeoutMs)> ReadTouchTable(byte[]? data)
    {
        var sessions = new List<(long, int)>();
        if (data is null) return sessions;
        for (int offset = 0; offset + 12 <= data.Length; offset += 12)
        {
            sessions.Add((BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(offset)), BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(offset + 8))));
        }
        return sessions;
    }
}
