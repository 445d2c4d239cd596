using System.Buffers.Binary;
using Warden.Protocol;

namespace Warden.Storage;

/// <summary>An entry as read from a file, with where it starts and its buffer bytes exactly as stored.</summary>
public readonly record struct LoggedTxn(TxnLogEntry Entry, string File, long Offset, byte[] Buffer);

/// <summary>
/// Reads txn log files in zxid order and decides what a damaged spot means (the format is drawn on
/// <see cref="TxnLogWriter"/>).
/// <list type="bullet">
/// <item>A zero length, or the end of the file, ends a file; every byte after a zero length must be zero too.</item>
/// <item>A damaged entry (short, bad checksum, no 0x42, length past the end) with no checksum-valid entry after
/// it in the same file is a torn tail: reported in <see cref="TornTails"/>, and cut when repairing.</item>
/// <item>A damaged entry with a valid entry after it, or a valid entry that does not decode, throws
/// <see cref="TxnLogCorruptException"/> naming file and offset.</item>
/// <item>An entry whose zxid is not above every zxid read before it is a repeat and is skipped (counted in
/// <see cref="RepeatsSkipped"/>): Apache's learner logs at NEWLEADER the txns its sync brought, and when that sync
/// fails before UPTODATE it rejoins naming its last applied zxid, not its last logged one, so the leader sends the same
/// txns again and they are logged twice. Apache's loader (FileTxnSnapLog.fastForwardFromEdits) logs an error for them
/// and carries on.</item>
/// </list>
/// Apache's reader stops silently at the first short or unmarked entry of any file and fails on any bad checksum;
/// Warden is stricter about damage followed by valid entries and more forgiving about a bad checksum at the very end.
/// </summary>
public sealed class TxnLogReader(string logDirectory, bool repairTornTails = false)
{
    private const byte EndOfRecord = 0x42;
    private const int EntryPrefix = 12;

    private readonly List<TornTail> _tornTails = [];
    private long _lastZxid = -1;

    /// <summary>Entries skipped because their zxid did not rise: txns an Apache learner logged a second time.</summary>
    public int RepeatsSkipped { get; private set; }

    /// <summary>Damaged tails met so far, in file order.</summary>
    public IReadOnlyList<TornTail> TornTails => _tornTails;

    /// <summary>The file being read and how many of the files to read are done, for progress reports.</summary>
    public string? CurrentFile { get; private set; }

    public int FilesDone { get; private set; }
    public int FilesTotal { get; private set; }

    /// <summary>Every txn with a zxid of at least <paramref name="fromZxid"/>, across files, in order.</summary>
    public IEnumerable<TxnLogEntry> ReadFrom(long fromZxid)
    {
        foreach (var logged in ReadLoggedFrom(fromZxid)) yield return logged.Entry;
    }

    public IEnumerable<LoggedTxn> ReadLoggedFrom(long fromZxid)
    {
        var files = StorageFiles.LogsFrom(logDirectory, fromZxid);
        _lastZxid = -1;
        FilesTotal = files.Count;
        FilesDone = 0;
        foreach (var (path, _) in files)
        {
            CurrentFile = path;
            foreach (var logged in ReadFile(path))
            {
                if (logged.Entry.Zxid >= fromZxid) yield return logged;
            }
            FilesDone++;
        }
        CurrentFile = null;
    }

    /// <summary>Every entry of one file, in order, applying the rules above to its end.</summary>
    public IEnumerable<LoggedTxn> ReadFile(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        Damage? damage = null;
        try
        {
            long length = stream.Length;
            damage = ReadHeader(stream, path);
            if (damage is null)
            {
                long offset = StorageFiles.HeaderSize;
                while (true)
                {
                    var outcome = ReadEntry(stream, path, offset, length, out var entry, out var buffer, out long next);
                    if (outcome is null)
                    {
                        if (entry!.Zxid <= _lastZxid)
                        {
                            RepeatsSkipped++;
                        }
                        else
                        {
                            _lastZxid = entry.Zxid;
                            yield return new LoggedTxn(entry, path, offset, buffer!);
                        }
                        offset = next;
                        continue;
                    }
                    damage = outcome.Value.AtEnd ? CheckPaddingIsZero(stream, offset, length) : outcome;
                    break;
                }
            }
            if (damage is { } found) ClassifyDamage(stream, path, found, length);
        }
        finally
        {
            stream.Dispose();
        }
        if (damage is { AtEnd: false } tail) RecordTornTail(path, tail, new FileInfo(path).Length);
    }

    /// <summary>A spot where reading stopped: a clean end (AtEnd) or damage at Offset.</summary>
    private readonly record struct Damage(long Offset, string Reason, bool AtEnd);

    private static Damage? ReadHeader(FileStream stream, string path)
    {
        Span<byte> header = stackalloc byte[StorageFiles.HeaderSize];
        int got = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got < header.Length)
        {
            // A crash right after the file was created leaves it shorter than its header: nothing in it was ever synced.
            return new Damage(0, $"file header incomplete ({got} of {header.Length} bytes)", AtEnd: false);
        }
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != StorageFiles.LogMagic)
        {
            throw new TxnLogCorruptException(path, 0, $"not a txn log: magic 0x{magic:x8}, expected 0x{StorageFiles.LogMagic:x8} ('ZKLG')");
        }
        return null;
    }

    /// <summary>Reads the entry at <paramref name="offset"/>; null on success, else where and why reading stopped.</summary>
    private static Damage? ReadEntry(
        FileStream stream, string path, long offset, long length, out TxnLogEntry? entry, out byte[]? buffer, out long next)
    {
        entry = null;
        buffer = null;
        next = offset;
        Span<byte> prefix = stackalloc byte[EntryPrefix];
        stream.Position = offset;
        int got = stream.ReadAtLeast(prefix, EntryPrefix, throwOnEndOfStream: false);
        if (got < EntryPrefix)
        {
            bool empty = !prefix[..got].ContainsAnyExcept((byte)0);
            return new Damage(offset, "entry header incomplete", AtEnd: empty);
        }
        long checksum = BinaryPrimitives.ReadInt64BigEndian(prefix);
        int bufferLength = BinaryPrimitives.ReadInt32BigEndian(prefix[8..]);
        if (bufferLength == 0) return new Damage(offset, "end marker", AtEnd: true);
        if (bufferLength < 0) return new Damage(offset, $"negative entry length {bufferLength}", AtEnd: false);
        if (offset + EntryPrefix + bufferLength + 1 > length)
        {
            return new Damage(offset, $"entry of {bufferLength} bytes runs past the end of the file", AtEnd: false);
        }
        var body = new byte[bufferLength];
        stream.ReadExactly(body);
        if (stream.ReadByte() != EndOfRecord) return new Damage(offset, "end-of-record byte 0x42 missing", AtEnd: false);
        if (Adler32.Compute(body) != checksum) return new Damage(offset, "checksum mismatch", AtEnd: false);
        try
        {
            entry = TxnLogEntry.Parse(body);
            buffer = body;
        }
        catch (JuteException e)
        {
            throw new TxnLogCorruptException(path, offset, "entry has a valid checksum but does not decode: " + e.Message);
        }
        next = offset + EntryPrefix + bufferLength + 1;
        return null;
    }

    /// <summary>Preallocation leaves zeros after the end marker; anything else there is damage to look at.</summary>
    private static Damage CheckPaddingIsZero(FileStream stream, long endOffset, long length)
    {
        var chunk = new byte[1 << 20];
        stream.Position = endOffset;
        long position = endOffset;
        while (position < length)
        {
            int got = stream.ReadAtLeast(chunk, 1, throwOnEndOfStream: false);
            if (got == 0) break;
            if (chunk.AsSpan(0, got).ContainsAnyExcept((byte)0))
            {
                return new Damage(endOffset, "non-zero bytes after the end marker", AtEnd: false);
            }
            position += got;
        }
        return new Damage(endOffset, "end marker", AtEnd: true);
    }

    /// <summary>Damage is a torn tail only if no valid entry follows it in the file; otherwise txns would be lost.</summary>
    private static void ClassifyDamage(FileStream stream, string path, Damage damage, long length)
    {
        if (damage.AtEnd) return;
        long start = Math.Max(damage.Offset + 1, StorageFiles.HeaderSize);
        long validAt = FindValidEntry(stream, start, length);
        if (validAt >= 0)
        {
            throw new TxnLogCorruptException(path, damage.Offset,
                $"{damage.Reason}, yet a valid entry follows at byte {validAt}: committed txns would be lost, so the log is not cut");
        }
    }

    /// <summary>Looks at every offset from <paramref name="start"/> for a checksum-valid, decodable entry.</summary>
    private static long FindValidEntry(FileStream stream, long start, long length)
    {
        if (start >= length) return -1;
        if (length - start > int.MaxValue) throw new IOException($"cannot scan {length - start} bytes after damage");
        var rest = new byte[length - start];
        stream.Position = start;
        stream.ReadExactly(rest);
        int candidate = 0;
        while (candidate + EntryPrefix + 1 < rest.Length)
        {
            var lengthField = rest.AsSpan(candidate + 8, 4);
            if (!lengthField.ContainsAnyExcept((byte)0))
            {
                // Skip runs of zeros (the preallocated padding) quickly: a length field needs a non-zero byte.
                int nonZero = rest.AsSpan(candidate + 8).IndexOfAnyExcept((byte)0);
                if (nonZero < 0) break;
                candidate = Math.Max(candidate + 1, candidate + 8 + nonZero - 11);
                continue;
            }
            if (IsValidEntryAt(rest, candidate)) return start + candidate;
            candidate++;
        }
        return -1;
    }

    private static bool IsValidEntryAt(byte[] bytes, int at)
    {
        int bufferLength = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at + 8));
        long end = (long)at + EntryPrefix + bufferLength;
        if (bufferLength <= 0 || end >= bytes.Length || bytes[end] != EndOfRecord) return false;
        var buffer = bytes.AsSpan(at + EntryPrefix, bufferLength);
        if (Adler32.Compute(buffer) != BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(at))) return false;
        try
        {
            TxnLogEntry.Parse(buffer);
            return true;
        }
        catch (JuteException)
        {
            return false;
        }
    }

    private void RecordTornTail(string path, Damage damage, long length)
    {
        _tornTails.Add(new TornTail(path, damage.Offset, length - damage.Offset, _lastZxid, damage.Reason, repairTornTails));
        if (!repairTornTails) return;
        if (damage.Offset <= StorageFiles.HeaderSize)
        {
            // Nothing valid is left, and the writer will want this very name for the txn that was torn.
            File.Delete(path);
            return;
        }
        using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
        file.SetLength(damage.Offset);
        file.Flush(flushToDisk: true);
    }
}
