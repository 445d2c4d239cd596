namespace Warden.Storage;

/// <summary>
/// The Adler-32 checksum (RFC 1950) that java.util.zip.Adler32 computes, which Apache ZooKeeper uses for txn
/// log entries and snapshot seals. Kept incremental so a snapshot can be checksummed as it streams.
/// </summary>
public struct Adler32
{
    private const uint Modulus = 65521;

    // The largest run of bytes whose sums cannot overflow 32 bits before the modulo is taken.
    private const int MaxRun = 5552;

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
        uint a = _a, b = _b;
        while (bytes.Length > 0)
        {
            int run = Math.Min(bytes.Length, MaxRun);
            foreach (byte value in bytes[..run])
            {
                a += value;
                b += a;
            }
            a %= Modulus;
            b %= Modulus;
            bytes = bytes[run..];
        }
        _a = a;
        _b = b;
    }

    public static long Compute(ReadOnlySpan<byte> bytes)
    {
        var checksum = new Adler32();
        checksum.Update(bytes);
        return checksum.Value;
    }
}
