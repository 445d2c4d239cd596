using System.Buffers.Binary;
using System.Diagnostics;
using Warden.Data;
using Warden.Protocol;

namespace Warden.Storage;

public sealed class TxnLogOptions
{
    /// <summary>Files grow in steps of this many zero bytes (Apache's preAllocSize, 64 MiB by default).</summary>
    public long PreallocateBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>When false, <see cref="TxnLogWriter.Flush"/> hands bytes to the OS without waiting for the disk
    /// (Apache's forceSync=no): faster, but a power loss can lose acknowledged writes.</summary>
    public bool ForceSync { get; init; } = true;
}

/// <summary>What one group commit did.</summary>
public readonly record struct FlushResult(int Entries, long Bytes, TimeSpan FsyncDuration);

/// <summary>
/// Appends transactions to <c>log.&lt;zxid&gt;</c> files with group commit: <see cref="Append"/> only encodes
/// into memory, <see cref="Flush"/> writes the batch and fsyncs once. A writer always starts a new file for its
/// first txn (as Apache does after a restart), so it never appends behind a tail that recovery cut.
/// Not thread-safe: one writer thread owns it.
/// </summary>
/// <remarks>
/// Log file layout (FileTxnLog):
/// <code>
/// FileHeader   int magic 'ZKLG' | int version 2 | long dbid 0
/// entry*       long adler32(buffer) | int length | buffer[length] | byte 0x42 'B'
///              buffer = TxnHeader{long clientId, int cxid, long zxid, long time, int type} txn [TxnDigest]
/// end          int length 0, then zero padding to a multiple of preAllocSize
/// </code>
/// </remarks>
public sealed class TxnLogWriter : IDisposable
{
    private const byte EndOfRecord = 0x42;

    // Apache extends the file when the write position comes within this distance of the preallocated end.
    private const long PreallocateMargin = 4096;

    private readonly string _directory;
    private readonly TxnLogOptions _options;
    private readonly JuteWriter _pending = new(64 * 1024);
    private readonly JuteWriter _entryBuffer = new(1024);
    private int _pendingEntries;
    private FileStream? _file;
    private long _position;
    private long _preallocatedLength;
    private long _pendingFirstZxid = -1;

    /// <param name="logDirectory">The <c>version-2</c> directory the log files live in; created if missing.</param>
    public TxnLogWriter(string logDirectory, TxnLogOptions? options = null)
    {
        _directory = logDirectory;
        _options = options ?? new TxnLogOptions();
        Directory.CreateDirectory(logDirectory);
    }

    /// <summary>The zxid of the last appended txn (flushed or not); -1 before the first.</summary>
    public long LastZxid { get; private set; } = -1;

    /// <summary>The file being written, or null before the first flush after opening or rolling.</summary>
    public string? CurrentFile { get; private set; }

    public TimeSpan LastFsyncDuration { get; private set; }

    public int PendingEntries => _pendingEntries;

    /// <summary>Encodes one txn into the pending batch. Zxids must rise strictly; anything else is a server bug.</summary>
    public void Append(TxnLogEntry entry)
    {
        if (entry.Zxid <= LastZxid)
        {
            throw new InvariantViolationException(
                $"txn log appends must rise in zxid: 0x{entry.Zxid:x} after 0x{LastZxid:x}");
        }
        _entryBuffer.Reset();
        entry.WriteBuffer(_entryBuffer);
        var buffer = _entryBuffer.WrittenSpan;
        _pending.WriteLong(Adler32.Compute(buffer));
        _pending.WriteBuffer(buffer);
        _pending.WriteByte(EndOfRecord);
        if (_pendingEntries == 0 && _file is null) _pendingFirstZxid = entry.Zxid;
        _pendingEntries++;
        LastZxid = entry.Zxid;
    }

    public void Append(TxnHeader header, Txn? txn, TxnDigest? digest = null) => Append(new TxnLogEntry(header, txn, digest));

    /// <summary>
    /// Writes the pending batch and, with ForceSync, waits until it is on stable storage. Only after this returns
    /// may the batch's txns be acknowledged.
    /// </summary>
    public FlushResult Flush()
    {
        if (_pendingEntries == 0) return new FlushResult(0, 0, TimeSpan.Zero);
        var file = _file ?? OpenNewFile(_pendingFirstZxid);
        var bytes = _pending.WrittenSpan;
        Preallocate(file, _position + bytes.Length);
        file.Position = _position;
        file.Write(bytes);
        _position += bytes.Length;
        var fsync = Sync(file);
        var result = new FlushResult(_pendingEntries, bytes.Length, fsync);
        _pending.Reset();
        _pendingEntries = 0;
        return result;
    }

    /// <summary>Flushes what is pending and closes the current file; the next txn starts a new one.</summary>
    public void Roll()
    {
        Flush();
        CloseFile();
    }

    /// <summary>
    /// Removes every logged txn above <paramref name="zxid"/> (a learner's TRUNC) and keeps the writer usable:
    /// pending txns are flushed first (those above the zxid are then cut with the rest), the current file is
    /// closed, and the next txn starts a new file named by its zxid. Appends must then rise from the last txn kept.
    /// </summary>
    public TxnLogTruncationResult TruncateAfter(long zxid)
    {
        Roll();
        var result = TxnLogTruncation.TruncateAfter(_directory, zxid);
        if (LastZxid > zxid) LastZxid = result.LastKeptZxid;
        return result;
    }

    private TimeSpan Sync(FileStream file)
    {
        if (!_options.ForceSync)
        {
            file.Flush(flushToDisk: false);
            LastFsyncDuration = TimeSpan.Zero;
            return TimeSpan.Zero;
        }
        long started = Stopwatch.GetTimestamp();
        file.Flush(flushToDisk: true);
        LastFsyncDuration = Stopwatch.GetElapsedTime(started);
        return LastFsyncDuration;
    }

    private FileStream OpenNewFile(long firstZxid)
    {
        string path = Path.Combine(_directory, StorageFiles.LogName(firstZxid));
        // CreateNew: a log file with this name already holds txns from this zxid on, and overwriting it would lose them.
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.None);
        Span<byte> header = stackalloc byte[StorageFiles.HeaderSize];
        BinaryPrimitives.WriteInt32BigEndian(header, StorageFiles.LogMagic);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], StorageFiles.FormatVersion);
        BinaryPrimitives.WriteInt64BigEndian(header[8..], StorageFiles.LogDbId);
        file.Write(header);
        _file = file;
        _position = StorageFiles.HeaderSize;
        _preallocatedLength = StorageFiles.HeaderSize;
        CurrentFile = path;
        return file;
    }

    /// <summary>
    /// Grows the file in preAllocSize steps so that most appends do not change the file's length, which makes
    /// each fsync cheaper. The extension reads back as zeros, which the reader takes as the end of the log.
    /// </summary>
    private void Preallocate(FileStream file, long endOfWrite)
    {
        long step = _options.PreallocateBytes;
        if (step <= 0 || endOfWrite + PreallocateMargin < _preallocatedLength) return;
        long target = (endOfWrite + PreallocateMargin) / step * step + step;
        file.SetLength(target);
        _preallocatedLength = target;
    }

    private void CloseFile()
    {
        _file?.Dispose();
        _file = null;
        CurrentFile = null;
    }

    public void Dispose()
    {
        CloseFile();
        _pending.Dispose();
        _entryBuffer.Dispose();
    }
}
