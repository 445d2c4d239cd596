using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Warden.Protocol;

/// <summary>
/// Writes Apache ZooKeeper's jute encoding into a growable buffer rented from the shared pool.
/// A frame is written by <see cref="BeginFrame"/>, the records, then <see cref="EndFrame"/>, which fills in
/// the 4-byte big-endian length that precedes every packet on the wire.
/// </summary>
public sealed class JuteWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _length;
    private int _frameStart = -1;

    // Buffers referenced instead of copied, each with the offset in _buffer where it belongs on the wire.
    private readonly List<(int Offset, byte[] Buffer)> _shared = [];
    private int _sharedBytes;

    public JuteWriter(int initialCapacity = 256)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(16, initialCapacity));
    }

    /// <summary>
    /// Byte arrays at least this long, written with <see cref="WriteBuffer(byte[])"/>, are referenced rather than
    /// copied, and come out only through <see cref="ToFrame"/>. Off (0) by default: turn it on only where every
    /// array written is never changed afterwards, as a node's data is.
    /// </summary>
    public int ShareBuffersFromBytes { get; init; }

    public int Length => _length + _sharedBytes;
    public ReadOnlySpan<byte> WrittenSpan => _shared.Count == 0
        ? _buffer.AsSpan(0, _length)
        : throw new InvalidOperationException("the written bytes reference shared buffers; use ToFrame or ToArray");
    public ReadOnlyMemory<byte> WrittenMemory => _shared.Count == 0
        ? _buffer.AsMemory(0, _length)
        : throw new InvalidOperationException("the written bytes reference shared buffers; use ToFrame or ToArray");

    public void Reset()
    {
        _length = 0;
        _frameStart = -1;
        _shared.Clear();
        _sharedBytes = 0;
    }

    public byte[] ToArray() => _shared.Count == 0 ? _buffer.AsSpan(0, _length).ToArray() : ToFrame().ToArray();

    /// <summary>What was written, as segments: copies of the writer's own bytes around the shared buffers.</summary>
    public OutboundFrame ToFrame()
    {
        if (_shared.Count == 0) return OutboundFrame.Of(_buffer.AsSpan(0, _length).ToArray());
        var segments = new List<ReadOnlyMemory<byte>>(_shared.Count * 2 + 1);
        int start = 0;
        foreach (var (offset, buffer) in _shared)
        {
            if (offset > start) segments.Add(_buffer.AsSpan(start, offset - start).ToArray());
            segments.Add(buffer);
            start = offset;
        }
        if (_length > start) segments.Add(_buffer.AsSpan(start, _length - start).ToArray());
        return new OutboundFrame([.. segments]);
    }

    public void BeginFrame()
    {
        if (_frameStart >= 0) throw new InvalidOperationException("a frame is already open");
        _frameStart = _length;
        WriteInt(0);
    }

    public void EndFrame()
    {
        if (_frameStart < 0) throw new InvalidOperationException("no frame is open");
        int sharedInFrame = 0;
        foreach (var (offset, buffer) in _shared)
        {
            if (offset > _frameStart) sharedInFrame += buffer.Length;
        }
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_frameStart), _length - _frameStart - 4 + sharedInFrame);
        _frameStart = -1;
    }

    private Span<byte> Grow(int count)
    {
        if (_length + count > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + count));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    public void WriteInt(int value) => BinaryPrimitives.WriteInt32BigEndian(Grow(4), value);
    public void WriteLong(long value) => BinaryPrimitives.WriteInt64BigEndian(Grow(8), value);
    public void WriteBool(bool value) => Grow(1)[0] = value ? (byte)1 : (byte)0;
    public void WriteByte(byte value) => Grow(1)[0] = value;
    public void WriteRaw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Grow(bytes.Length));

    /// <summary>Overwrites 4 bytes at an earlier offset, for lengths known only after the body is written.</summary>
    public void PatchInt(int offset, int value) => BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(offset, 4), value);

    public void WriteBuffer(byte[]? value)
    {
        if (value is null)
        {
            WriteInt(-1);
            return;
        }
        if (ShareBuffersFromBytes > 0 && value.Length >= ShareBuffersFromBytes)
        {
            WriteInt(value.Length);
            _shared.Add((_length, value));
            _sharedBytes += value.Length;
            return;
        }
        WriteBuffer(value.AsSpan());
    }

    public void WriteBuffer(ReadOnlySpan<byte> value)
    {
        WriteInt(value.Length);
        WriteRaw(value);
    }

    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt(-1);
            return;
        }
        int byteCount = Encoding.UTF8.GetByteCount(value);
        WriteInt(byteCount);
        Encoding.UTF8.GetBytes(value, Grow(byteCount));
    }

    public void WriteStringVector(IReadOnlyCollection<string>? values)
    {
        if (values is null)
        {
            WriteInt(-1);
            return;
        }
        WriteInt(values.Count);
        foreach (var value in values) WriteString(value);
    }

    void IBufferWriter<byte>.Advance(int count) => _length += count;

    Memory<byte> IBufferWriter<byte>.GetMemory(int sizeHint)
    {
        EnsureFree(sizeHint);
        return _buffer.AsMemory(_length);
    }

    Span<byte> IBufferWriter<byte>.GetSpan(int sizeHint)
    {
        EnsureFree(sizeHint);
        return _buffer.AsSpan(_length);
    }

    private void EnsureFree(int sizeHint)
    {
        int need = Math.Max(sizeHint, 1);
        if (_length + need > _buffer.Length)
        {
            Grow(need);
            _length -= need;
        }
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = Array.Empty<byte>();
        _length = 0;
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
