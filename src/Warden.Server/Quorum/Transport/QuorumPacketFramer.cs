using System.Buffers;
using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Server.Quorum.Transport;

/// <summary>
/// Finds one whole QuorumPacket at the front of a stream buffer. The quorum port carries bare jute records back to
/// back with no length prefix, so the packet's extent is found by walking its length fields:
/// <code>
/// int type; long zxid; int dataLength (-1 null); byte[dataLength];
/// int authCount (-1 null); authCount * (int schemeLength; bytes; int idLength; bytes)
/// </code>
/// Every length is checked against the packet limit before its bytes are waited for, so a packet that claims more
/// than the limit is rejected without being buffered.
/// </summary>
internal static class QuorumPacketFramer
{
    public static FrameStatus TryRead(ref ReadOnlySequence<byte> buffer, int maxPacketBytes, out QuorumPacket? packet, out string? problem)
    {
        packet = null;
        problem = null;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadBigEndian(out int _) || !reader.TryReadBigEndian(out long _)) return FrameStatus.Incomplete;
        var status = SkipLengthPrefixed(ref reader, maxPacketBytes, "data", ref problem);
        if (status != FrameStatus.Complete) return status;
        if (!reader.TryReadBigEndian(out int count)) return FrameStatus.Incomplete;
        if (count < -1 || (long)count * 8 > maxPacketBytes)
        {
            problem = $"an authinfo count of {count}";
            return FrameStatus.Invalid;
        }
        for (int i = 0; i < count; i++)
        {
            status = SkipLengthPrefixed(ref reader, maxPacketBytes, "auth scheme", ref problem);
            if (status != FrameStatus.Complete) return status;
            status = SkipLengthPrefixed(ref reader, maxPacketBytes, "auth id", ref problem);
            if (status != FrameStatus.Complete) return status;
        }
        var whole = buffer.Slice(0, reader.Consumed);
        try
        {
            packet = QuorumPacket.Decode(whole.IsSingleSegment ? whole.FirstSpan : whole.ToArray());
        }
        catch (JuteException e)
        {
            problem = e.Message;
            return FrameStatus.Invalid;
        }
        buffer = buffer.Slice(reader.Consumed);
        return FrameStatus.Complete;
    }

    private static FrameStatus SkipLengthPrefixed(ref SequenceReader<byte> reader, int maxPacketBytes, string what, ref string? problem)
    {
        if (!reader.TryReadBigEndian(out int length)) return FrameStatus.Incomplete;
        if (length == -1) return FrameStatus.Complete;
        if (length < 0 || reader.Consumed + (long)length > maxPacketBytes)
        {
            problem = $"a {what} length of {length} (the packet limit is {maxPacketBytes} bytes)";
            return FrameStatus.Invalid;
        }
        if (reader.Remaining < length) return FrameStatus.Incomplete;
        reader.Advance(length);
        return FrameStatus.Complete;
    }
}
