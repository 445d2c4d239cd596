namespace Warden.Storage;

/// <summary>
/// The Adler-32 checksum (RFC 1950) that java.util.zip.Adler32 computes, which Apache ZooKeeper uses for txn
/// log entries and snapshot seals. Kept incremental so a snapshot can be checksummed as it streams.
/// The bytes are summed by System.IO.Hashing's Adler32, which is vectorised and measured several times faster
/// than a scalar loop (bench/Warden.MicroBench, Adler32Benchmarks); each piece's sums are then joined to the
/// running ones, so this stays a small copyable value.
/// </summary>
public struct Adler32
{
    private const uint Modulus = 65521;

    private uint _a;
    private uint _b;

    public Adler32()
    {
        _a = 1;
        _b = 0;
    }

    /// <summary>The checksum so far, widened to a long as Java's Checksum.getValue returns it.</summary>
    public readonly long Value => (long)((_b << 16) | _a);

    public void Update(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return;
        uint piece = System.IO.Hashing.Adler32.HashToUInt32(bytes);
        // The piece's sums start from a = 1, b = 0. Continuing from (a, b) instead adds a - 1 to every running a
        // of the piece, so: a' = a + pieceA - 1, and b' = b + pieceB + length * (a - 1), all modulo 65521.
        ulong pieceA = piece & 0xffff, pieceB = piece >> 16;
        ulong length = (ulong)bytes.Length % Modulus;
        ulong a = _a, b = _b;
        _a = (uint)((a + pieceA + Modulus - 1) % Modulus);
        _b = (uint)((b + pieceB + length * ((a + Modulus - 1) % Modulus)) % Modulus);
    }

    public static long Compute(ReadOnlySpan<byte> bytes) => System.IO.Hashing.Adler32.HashToUInt32(bytes);
}
