namespace Warden.Protocol;

/// <summary>
/// A whole frame ready for the wire, length prefix included, as a list of segments: small pieces the writer
/// copied, and large buffers it only referenced (a node's data, which never changes once stored). A thousand
/// replies to a read of the same 512 KiB node then hold one copy of the data between them, not a thousand.
/// </summary>
public sealed class OutboundFrame
{
    private readonly ReadOnlyMemory<byte>[] _segments;

    public OutboundFrame(ReadOnlyMemory<byte>[] segments)
    {
        _segments = segments;
        long length = 0;
        foreach (var segment in segments) length += segment.Length;
        Length = length;
    }

    public static OutboundFrame Of(byte[] bytes) => new([bytes]);

    public IReadOnlyList<ReadOnlyMemory<byte>> Segments => _segments;

    /// <summary>Bytes this frame puts on the wire.</summary>
    public long Length { get; }

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        int offset = 0;
        foreach (var segment in _segments)
        {
            segment.Span.CopyTo(bytes.AsSpan(offset));
            offset += segment.Length;
        }
        return bytes;
    }
}
