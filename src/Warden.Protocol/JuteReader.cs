using System.Buffers.Binary;
using System.Text;

namespace Warden.Protocol;

/// <summary>
/// Thrown when a jute record cannot be decoded: the bytes end early, a length is negative or larger than
/// what is left, or a string is not UTF-8. It is bad client input, never a server fault.
/// </summary>
public sealed class JuteException(string message) : Exception(message);

/// <summary>
/// Reads Apache ZooKeeper's jute encoding (big-endian ints and longs, one-byte booleans, length-prefixed
/// buffers, strings and vectors where a length of -1 means null) from one contiguous frame payload.
/// </summary>
public ref struct JuteReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public JuteReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;
    public readonly int Remaining => _buffer.Length - _position;
    public readonly bool End => _position >= _buffer.Length;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > _buffer.Length - _position)
        {
            throw new JuteException($"record ends early: needed {count} bytes at offset {_position}, {_buffer.Length - _position} left");
        }
        var slice = _buffer.Slice(_position, count);
        _position += count;
        return slice;
    }

    public int ReadInt() => BinaryPrimitives.ReadInt32BigEndian(Take(4));
    public long ReadLong() => BinaryPrimitives.ReadInt64BigEndian(Take(8));
    public bool ReadBool() => Take(1)[0] != 0;
    public byte ReadByte() => Take(1)[0];

    /// <summary>Reads a buffer; null when its length is -1.</summary>
    public byte[]? ReadBuffer()
    {
        int length = ReadInt();
        if (length == -1) return null;
        if (length < 0) throw new JuteException($"negative buffer length {length}");
        return Take(length).ToArray();
    }

    /// <summary>Reads a buffer without copying; empty for a null buffer.</summary>
    public ReadOnlySpan<byte> ReadBufferSpan()
    {
        int length = ReadInt();
        if (length == -1) return ReadOnlySpan<byte>.Empty;
        if (length < 0) throw new JuteException($"negative buffer length {length}");
        return Take(length);
    }

    public string? ReadString()
    {
        int length = ReadInt();
        if (length == -1) return null;
        if (length < 0) throw new JuteException($"negative string length {length}");
        // Java's jute decodes with new String(bytes, UTF_8), which puts U+FFFD in place of a malformed sequence
        // instead of failing. Doing the same keeps the answer Apache's: a path with such bytes is then refused by
        // path validation (U+FFFD is in its reserved range) with BADARGUMENTS, not MARSHALLINGERROR.
        return Lenient.GetString(Take(length));
    }

    /// <summary>Reads a string that must be present; a null string becomes empty as Java's client never sends one.</summary>
    public string ReadRequiredString() => ReadString() ?? string.Empty;

    /// <summary>Reads a vector count: -1 means null. Guards against counts that cannot fit in what is left.</summary>
    public int ReadVectorCount(int minElementBytes)
    {
        int count = ReadInt();
        if (count == -1) return -1;
        if (count < 0) throw new JuteException($"negative vector length {count}");
        if (minElementBytes > 0 && (long)count * minElementBytes > Remaining)
        {
            throw new JuteException($"vector of {count} elements cannot fit in {Remaining} bytes");
        }
        return count;
    }

    public List<string>? ReadStringVector()
    {
        int count = ReadVectorCount(4);
        if (count < 0) return null;
        var list = new List<string>(count);
        for (int i = 0; i < count; i++) list.Add(ReadRequiredString());
        return list;
    }

    private static readonly UTF8Encoding Lenient = new(false, false);
}
