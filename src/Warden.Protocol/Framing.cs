using System.Buffers;
using System.Buffers.Binary;

namespace Warden.Protocol;

/// <summary>The outcome of looking for one length-prefixed packet at the front of a buffer.</summary>
public enum FrameStatus
{
    /// <summary>A whole packet is there.</summary>
    Complete,
    /// <summary>More bytes are needed.</summary>
    Incomplete,
    /// <summary>The length is negative or over the limit: the connection must be closed.</summary>
    Invalid,
}

/// <summary>
/// Splits a byte stream into packets: a 4-byte big-endian length, then that many bytes. The length is checked
/// against the limit (jute.maxbuffer) before any of the body is buffered, so an oversized claim costs nothing.
/// </summary>
public static class Framing
{
    /// <summary>Apache ZooKeeper's default jute.maxbuffer: 0xfffff bytes.</summary>
    public const int DefaultMaxPacketBytes = 0xfffff;

    public static FrameStatus TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxPacketBytes,
        out ReadOnlySequence<byte> payload, out int declaredLength)
    {
        payload = default;
        declaredLength = 0;
        if (buffer.Length < 4) return FrameStatus.Incomplete;

        Span<byte> lengthBytes = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(lengthBytes);
        declaredLength = BinaryPrimitives.ReadInt32BigEndian(lengthBytes);
        if (declaredLength < 0 || declaredLength > maxPacketBytes) return FrameStatus.Invalid;
        if (buffer.Length < 4L + declaredLength) return FrameStatus.Incomplete;

        payload = buffer.Slice(4, declaredLength);
        buffer = buffer.Slice(payload.End);
        return FrameStatus.Complete;
    }
}
