using System.Buffers.Binary;
using System.Text;
using Warden.Protocol;

namespace Warden.Storage;

/// <summary>
/// Writes jute values to a stream through its own buffer while keeping the Adler32 of every byte written, as
/// Apache's CheckedOutputStream does for a snapshot. Snapshots can be far larger than memory, so nothing is
/// held whole; <see cref="Complete"/> must be called to write out the last buffer.
/// </summary>
internal sealed class ChecksummedWriter(Stream stream)
{
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _count;
    private Adler32 _flushed = new();

    /// <summary>The Adler32 of everything written so far, buffered bytes included.</summary>
    public long Checksum
    {
        get
        {
            var checksum = _flushed;
            checksum.Update(_buffer.AsSpan(0, _count));
            return checksum.Value;
        }
    }

    public void Complete() => FlushBuffer();

    private void FlushBuffer()
    {
        _flushed.Update(_buffer.AsSpan(0, _count));
        stream.Write(_buffer, 0, _count);
        _count = 0;
    }

    private Span<byte> Reserve(int size)
    {
        if (_count + size > _buffer.Length) FlushBuffer();
        var span = _buffer.AsSpan(_count, size);
        _count += size;
        return span;
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        if (_count + bytes.Length > _buffer.Length) FlushBuffer();
        if (bytes.Length >= _buffer.Length)
        {
            _flushed.Update(bytes);
            stream.Write(bytes);
            return;
        }
        bytes.CopyTo(Reserve(bytes.Length));
    }

    public void WriteInt(int value) => BinaryPrimitives.WriteInt32BigEndian(Reserve(4), value);

    public void WriteLong(long value) => BinaryPrimitives.WriteInt64BigEndian(Reserve(8), value);

    public void WriteBuffer(byte[]? value)
    {
        if (value is null)
        {
            WriteInt(-1);
            return;
        }
        WriteInt(value.Length);
        WriteRaw(value);
    }

    public void WriteString(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        WriteInt(length);
        if (length <= _buffer.Length / 4)
        {
            Encoding.UTF8.GetBytes(value, Reserve(length));
            return;
        }
        WriteRaw(Encoding.UTF8.GetBytes(value));
    }

    public void WriteAcls(IReadOnlyList<Acl> acls)
    {
        WriteInt(acls.Count);
        foreach (var acl in acls)
        {
            WriteInt((int)acl.Perms);
            WriteString(acl.Id.Scheme);
            WriteString(acl.Id.Identity);
        }
    }
}

/// <summary>
/// Reads jute values from a stream through its own buffer while keeping the Adler32 of every byte consumed, as
/// Apache's CheckedInputStream does. A short read is an <see cref="EndOfStreamException"/>; lengths are bounded
/// by <paramref name="maxLength"/> so a garbled length cannot allocate gigabytes.
/// </summary>
internal sealed class ChecksummedReader(Stream stream, int maxLength)
{
    private static readonly UTF8Encoding Strict = new(false, true);
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _position;
    private int _length;

    // Bytes of the buffer before this index are already in _checksum.
    private int _checksummedUpTo;
    private Adler32 _checksum = new();

    /// <summary>The Adler32 of every byte consumed so far.</summary>
    public long Checksum
    {
        get
        {
            var checksum = _checksum;
            checksum.Update(_buffer.AsSpan(_checksummedUpTo, _position - _checksummedUpTo));
            return checksum.Value;
        }
    }

    /// <summary>Moves unconsumed bytes to the front and reads until <paramref name="needed"/> are buffered or the stream ends.</summary>
    private int Fill(int needed)
    {
        _checksum.Update(_buffer.AsSpan(_checksummedUpTo, _position - _checksummedUpTo));
        int remaining = _length - _position;
        _buffer.AsSpan(_position, remaining).CopyTo(_buffer);
        _position = 0;
        _checksummedUpTo = 0;
        _length = remaining;
        while (_length < needed)
        {
            int got = stream.Read(_buffer, _length, _buffer.Length - _length);
            if (got == 0) break;
            _length += got;
        }
        return _length;
    }

    private ReadOnlySpan<byte> Take(int size)
    {
        if (_length - _position < size && Fill(size) < size) throw new EndOfStreamException("snapshot ends early");
        var span = _buffer.AsSpan(_position, size);
        _position += size;
        return span;
    }

    /// <summary>Reads a long, or returns false when the stream ends cleanly before it (an optional section).</summary>
    public bool TryReadLong(out long value)
    {
        value = 0;
        if (_length - _position < 8)
        {
            int available = Fill(8);
            if (available == 0) return false;
            if (available < 8) throw new EndOfStreamException("snapshot ends inside its digest section");
        }
        value = BinaryPrimitives.ReadInt64BigEndian(Take(8));
        return true;
    }

    /// <summary>Whether every byte of the stream has been consumed.</summary>
    public bool AtEnd() => _length - _position == 0 && Fill(1) == 0;

    public int ReadInt() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public long ReadLong() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public byte[]? ReadBuffer()
    {
        int length = ReadLength("buffer");
        return length < 0 ? null : ReadBytes(length);
    }

    private byte[] ReadBytes(int length)
    {
        if (length <= _buffer.Length)
        {
            var small = new byte[length];
            Take(length).CopyTo(small);
            return small;
        }
        // Larger than the buffer: copy what is buffered, then read the rest straight from the stream into an array
        // that grows with the bytes that actually arrive, so a damaged length costs what the stream holds, not the
        // up to maxLength it claims.
        int buffered = _length - _position;
        var bytes = new byte[Math.Min(length, 2 * _buffer.Length)];
        Take(buffered).CopyTo(bytes);
        _checksum.Update(_buffer.AsSpan(_checksummedUpTo, _position - _checksummedUpTo));
        _checksummedUpTo = _position;
        int filled = buffered;
        while (filled < length)
        {
            if (filled == bytes.Length) Array.Resize(ref bytes, (int)Math.Min(length, 2L * bytes.Length));
            int got = stream.Read(bytes, filled, bytes.Length - filled);
            if (got == 0) throw new EndOfStreamException("snapshot ends early");
            _checksum.Update(bytes.AsSpan(filled, got));
            filled += got;
        }
        return bytes;
    }

    public string ReadString()
    {
        int length = ReadLength("string");
        if (length < 0) throw new InvalidDataException("a null string where a path was expected");
        try
        {
            return length <= _buffer.Length ? Strict.GetString(Take(length)) : Strict.GetString(ReadBytes(length));
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException("a string that is not UTF-8");
        }
    }

    public List<Acl> ReadAcls()
    {
        int count = ReadLength("ACL vector");
        // The count is not trusted for the list's capacity: a damaged one would reserve gigabytes before the stream ends.
        var acls = new List<Acl>(Math.Clamp(count, 0, 64));
        for (int i = 0; i < count; i++)
        {
            var perms = (Perms)ReadInt();
            acls.Add(new Acl(perms, new Id(ReadString(), ReadString())));
        }
        return acls;
    }

    private int ReadLength(string what)
    {
        int length = ReadInt();
        if (length < -1 || length > maxLength) throw new InvalidDataException($"{what} length {length} is out of range");
        return length;
    }
}
