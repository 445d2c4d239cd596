namespace Warden.Storage;

/// <summary>
/// A txn log that cannot be read without losing committed transactions: a damaged entry with valid entries after
/// it, a checksum-valid entry that does not decode, or zxids out of order. Recovery never cuts these silently;
/// the message names the file and byte offset so an operator can inspect or restore it.
/// </summary>
public sealed class TxnLogCorruptException(string file, long offset, string message)
    : IOException($"{file} at byte {offset}: {message}")
{
    public string File { get; } = file;
    public long Offset { get; } = offset;
}

/// <summary>
/// A damaged end of a log file: an entry torn by a crash mid-write, or garbled bytes with no valid entry after
/// them. Such an entry was never fsynced, so never acknowledged, and cutting it loses nothing a client was promised.
/// </summary>
/// <param name="File">The log file.</param>
/// <param name="Offset">Where the damaged entry starts; the file is cut here.</param>
/// <param name="BytesCut">How many bytes followed (including zero padding).</param>
/// <param name="LastGoodZxid">The zxid of the last intact entry before it, or -1 if none was read.</param>
/// <param name="Reason">What was wrong with the entry.</param>
/// <param name="Truncated">Whether the file was cut (recovery) or only reported (a read-only scan).</param>
public sealed record TornTail(string File, long Offset, long BytesCut, long LastGoodZxid, string Reason, bool Truncated)
{
    public override string ToString() =>
        $"{(Truncated ? "cut" : "found")} a damaged tail in {File} at byte {Offset} ({BytesCut} bytes, {Reason}); " +
        $"last good zxid 0x{LastGoodZxid:x}";
}
