using Warden.Data;
using Warden.Protocol;

namespace Warden.Storage;

/// <summary>TxnDigest{int version, long treeDigest}: Apache 3.6+ may append it to each logged txn.</summary>
public readonly record struct TxnDigest(int Version, long TreeDigest)
{
    public const int Size = 12;
}

/// <summary>One logged transaction: header, body (null for types that carry none) and the optional digest.</summary>
public sealed record TxnLogEntry(TxnHeader Header, Txn? Txn, TxnDigest? Digest = null)
{
    public long Zxid => Header.Zxid;

    /// <summary>
    /// The entry's buffer bytes: TxnHeader, then the txn record, then the TxnDigest if present. The Adler32 of
    /// exactly these bytes is the entry's checksum (the length prefix and the 0x42 marker are not covered).
    /// </summary>
    public void WriteBuffer(JuteWriter writer)
    {
        Header.Write(writer);
        Txn?.Write(writer);
        if (Digest is { } digest)
        {
            writer.WriteInt(digest.Version);
            writer.WriteLong(digest.TreeDigest);
        }
    }

    /// <summary>Decodes an entry's buffer bytes; throws <see cref="JuteException"/> when they do not parse.</summary>
    public static TxnLogEntry Parse(ReadOnlySpan<byte> buffer)
    {
        var reader = new JuteReader(buffer);
        var header = TxnHeader.Read(ref reader);
        if (reader.End) return new TxnLogEntry(header, null);
        // As Apache does, the body is read first and whatever 12 bytes remain are the digest.
        var txn = Txn.Read(header.OpCode, ref reader);
        TxnDigest? digest = null;
        if (reader.Remaining == TxnDigest.Size) digest = new TxnDigest(reader.ReadInt(), reader.ReadLong());
        if (!reader.End)
        {
            throw new JuteException($"{reader.Remaining} unexpected bytes after a {header.OpCode} txn at zxid 0x{header.Zxid:x}");
        }
        return new TxnLogEntry(header, txn, digest);
    }
}
