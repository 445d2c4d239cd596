namespace Warden.Server.Sessions;

/// <summary>
/// java.util.Random's 48-bit linear congruential generator. Apache ZooKeeper derives a session's password from
/// this generator seeded with the session id, and a client may carry that password to either server, so Warden
/// must produce the same 16 bytes.
/// </summary>
public sealed class JavaRandom
{
    private const long Multiplier = 0x5DEECE66DL;
    private const long Addend = 0xBL;
    private const long Mask = (1L << 48) - 1;
    private long _seed;

    public JavaRandom(long seed)
    {
        _seed = (seed ^ Multiplier) & Mask;
    }

    private int Next(int bits)
    {
        _seed = unchecked(_seed * Multiplier + Addend) & Mask;
        return (int)((ulong)_seed >> (48 - bits));
    }

    public int NextInt() => Next(32);

    public void NextBytes(Span<byte> bytes)
    {
        int i = 0;
        while (i < bytes.Length)
        {
            int random = NextInt();
            for (int n = Math.Min(bytes.Length - i, 4); n-- > 0; random >>= 8)
            {
                bytes[i++] = (byte)random;
            }
        }
    }
}
