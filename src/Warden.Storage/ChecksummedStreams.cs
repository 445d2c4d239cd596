using System.Buffers.Binary;
using System.Text;
using Warden.Protocol;

namespace Warden.Storage;

/// <summary>
/// Writes jute values to a stream while keeping the Adler32 of every byte written, as Apache's
/// CheckedOutputStream does for a snapshot. Snapshots can be far larger than memory, so nothing is buffered whole.
/// </summary>
internal sealed class ChecksummedWriter(Stream stream)
{
    private readonly byte[] _scratch = new byte[8];
    private Adler32 _checksum = new();

    public long Checksum => _checksum.Value;
    public long BytesWritten { get; private set; }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        _checksum.Update(bytes);
        stream.Write(bytes);
        BytesWritten += bytes.Length;
    }

    public void WriteInt(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_scratch, value);
        WriteRaw(_scratch.AsSpan(0, 4));
    }

    public void WriteLong(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_scratch, value);
        WriteRaw(_scratch.AsSpan(0, 8));
    }

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
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        WriteInt(bytes.Length);
        WriteRaw(bytes);
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
/// Reads jute values from a stream while keeping the Adler32 of every byte consumed, as Apache's
/// CheckedInputStream does. A short read is an <see cref="EndOfStreamException"/>; lengths are bounded by
/// <paramref name="maxLength"/> so a garbled length cannot allocate gigabytes.
/// </summary>
internal sealed class ChecksummedReader(Stream stream, int maxLength)
{
    private static readonly UTF8Encoding Strict = new(false, true);
    private readonly byte[] _scratch = new byte[8];
    private Adler32 _checksum = new();

    public long Checksum => _checksum.Value;
    public long BytesRead { get; private set; }

    private void Fill(Span<byte> target)
    {
        stream.ReadExactly(target);
        _checksum.Update(target);
        BytesRead += target.Length;
    }

    /// <summary>Reads a long, or returns false when the stream ends cleanly before it (an optional section).</summary>
    public bool TryReadLong(out long value)
    {
        int got = stream.ReadAtLeast(_scratch.AsSpan(0, 8), 8, throwOnEndOfStream: false);
        value = 0;
        if (got == 0) return false;
        if (got < 8) throw new EndOfStreamException("snapshot ends inside its digest section");
        _checksum.Update(_scratch.AsSpan(0, 8));
        BytesRead += 8;
        value = BinaryPrimitives.ReadInt64BigEndian(_scratch);
        return true;
    }

    public int ReadInt()
    {
        Fill(_scratch.AsSpan(0, 4));
        return BinaryPrimitives.ReadInt32BigEndian(_scratch);
    }

    public long ReadLong()
    {
        Fill(_scratch.AsSpan(0, 8));
        return BinaryPrimitives.ReadInt64BigEndian(_scratch);
    }

    public byte[]? ReadBuffer()
    {
        int length = ReadLength("buffer");
        if (length < 0) return null;
        var bytes = new byte[length];
        Fill(bytes);
        return bytes;
    }

    public string ReadString()
    {
        int length = ReadLength("string");
        if (length < 0) throw new InvalidDataException("a null string where a path was expected");
        var bytes = length <= 256 ? stackalloc byte[length] : new byte[length];
        Fill(bytes);
        try
        {
            return Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException("a string that is not UTF-8");
        }
    }

    public List<Acl> ReadAcls()
    {
        int count = ReadLength("ACL vector");
        var acls = new List<Acl>(Math.Max(count, 0));
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
