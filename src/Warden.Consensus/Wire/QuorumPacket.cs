using System.Buffers.Binary;
using Warden.Protocol;

namespace Warden.Consensus.Wire;

/// <summary>The packet types of Apache's quorum protocol, with their wire values.</summary>
public enum PacketType
{
    Request = 1,
    Proposal = 2,
    Ack = 3,
    Commit = 4,
    Ping = 5,
    Revalidate = 6,
    Sync = 7,
    Inform = 8,
    CommitAndActivate = 9,
    NewLeader = 10,
    FollowerInfo = 11,
    UpToDate = 12,
    Diff = 13,
    Trunc = 14,
    Snap = 15,
    ObserverInfo = 16,
    LeaderInfo = 17,
    AckEpoch = 18,
    InformAndActivate = 19,
}

/// <summary>
/// The one record that leader and learners exchange on the quorum port.
/// <code>
/// QuorumPacket {
///   int        type
///   long       zxid
///   buffer     data       (int length, -1 for null, then the bytes)
///   vector&lt;Id&gt; authinfo   (int count, -1 for null, then (ustring scheme, ustring id) each)
/// }
/// </code>
/// </summary>
public sealed record QuorumPacket(PacketType Type, Zxid Zxid, byte[]? Data = null, IReadOnlyList<Id>? AuthInfo = null)
{
    /// <summary>The protocol version a Zab 1.0 leader announces in LEADERINFO and a learner in LearnerInfo.</summary>
    public const int ProtocolVersion = 0x10000;

    public void Write(JuteWriter writer)
    {
        writer.WriteInt((int)Type);
        writer.WriteLong(Zxid.Value);
        writer.WriteBuffer(Data);
        if (AuthInfo is null)
        {
            writer.WriteInt(-1);
            return;
        }
        writer.WriteInt(AuthInfo.Count);
        foreach (var id in AuthInfo) id.Write(writer);
    }

    public static QuorumPacket Read(ref JuteReader reader)
    {
        var type = (PacketType)reader.ReadInt();
        var zxid = new Zxid(reader.ReadLong());
        var data = reader.ReadBuffer();
        // An Id is two strings, so it takes at least eight bytes; the reader rejects counts that cannot fit.
        int count = reader.ReadVectorCount(8);
        List<Id>? auth = null;
        if (count >= 0)
        {
            auth = new List<Id>(count);
            for (int i = 0; i < count; i++) auth.Add(Id.Read(ref reader));
        }
        return new QuorumPacket(type, zxid, data, auth);
    }

    public byte[] Encode()
    {
        using var writer = new JuteWriter();
        Write(writer);
        return writer.ToArray();
    }

    public static QuorumPacket Decode(ReadOnlySpan<byte> bytes)
    {
        var reader = new JuteReader(bytes);
        var packet = Read(ref reader);
        if (!reader.End) throw new JuteException($"{reader.Remaining} bytes left after a quorum packet");
        return packet;
    }

    /// <summary>The four-byte payload of LEADERINFO (protocol version) and ACKEPOCH (current epoch, or -1).</summary>
    public static byte[] IntPayload(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>Reads a four-byte payload; a missing or short payload is bad input from the peer.</summary>
    public int ReadIntPayload()
    {
        if (Data is null || Data.Length < 4) throw new JuteException($"{Type} carries {Data?.Length ?? 0} bytes, expected 4");
        return BinaryPrimitives.ReadInt32BigEndian(Data);
    }

    public override string ToString() => $"{Type} {Zxid}";
}

/// <summary>
/// The data of FOLLOWERINFO and OBSERVERINFO: who the learner is and what it speaks.
/// <code>LearnerInfo { long serverid; int protocolVersion; long configVersion }</code>
/// </summary>
public readonly record struct LearnerInfo(ServerId ServerId, int ProtocolVersion, long ConfigVersion)
{
    public const int WireSize = 20;

    public byte[] Encode()
    {
        var bytes = new byte[WireSize];
        BinaryPrimitives.WriteInt64BigEndian(bytes, ServerId.Value);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), ProtocolVersion);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(12), ConfigVersion);
        return bytes;
    }

    /// <summary>Decodes the record; older learners send only the id, or the id and version, so shorter data is allowed.</summary>
    public static LearnerInfo Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 8) throw new JuteException($"LearnerInfo of {bytes.Length} bytes has no server id");
        var id = new ServerId(BinaryPrimitives.ReadInt64BigEndian(bytes));
        int version = bytes.Length >= 12 ? BinaryPrimitives.ReadInt32BigEndian(bytes[8..]) : 0;
        long config = bytes.Length >= WireSize ? BinaryPrimitives.ReadInt64BigEndian(bytes[12..]) : 0;
        return new LearnerInfo(id, version, config);
    }
}
