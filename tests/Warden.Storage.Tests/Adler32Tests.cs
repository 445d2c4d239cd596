namespace Warden.Storage.Tests;

/// <summary>
/// Adler32 now sums each piece with System.IO.Hashing and joins the piece to the running sums; fed in any pieces
/// it must give what the definition gives for the whole (RFC 1950, java.util.zip.Adler32), or no txn log entry and
/// no snapshot seal would match Apache's.
/// </summary>
public class Adler32Tests
{
    /// <summary>The definition, one byte at a time, reduced at every step.</summary>
    private static long ByDefinition(ReadOnlySpan<byte> bytes)
    {
        long a = 1, b = 0;
        foreach (byte value in bytes)
        {
            a = (a + value) % 65521;
            b = (b + a) % 65521;
        }
        return (b << 16) | a;
    }

    [Fact]
    public void TheWellKnownExampleMatches()
    {
        // RFC 1950's algorithm on "Wikipedia" is 0x11E60398, the example every description of Adler-32 uses.
        Assert.Equal(0x11E60398, Adler32.Compute("Wikipedia"u8));
        Assert.Equal(1, Adler32.Compute([]));
    }

    [Fact]
    public void AnySplitIntoPiecesGivesTheWholesChecksum()
    {
        var random = new Random(1950);
        for (int round = 0; round < 200; round++)
        {
            // Long runs of 0xff push the sums past the modulus quickly; lengths past 5552 cross the reduction point.
            var bytes = new byte[random.Next(0, 20_000)];
            if (round % 2 == 0) random.NextBytes(bytes);
            else Array.Fill(bytes, (byte)0xff);
            long expected = ByDefinition(bytes);
            Assert.Equal(expected, Adler32.Compute(bytes));

            var checksum = new Adler32();
            int at = 0;
            while (at < bytes.Length)
            {
                int piece = Math.Min(bytes.Length - at, random.Next(0, round % 3 == 0 ? 8 : 9000));
                checksum.Update(bytes.AsSpan(at, piece));
                at += piece;
            }
            Assert.Equal(expected, checksum.Value);
        }
    }

    [Fact]
    public void ACopyCarriesOnIndependently()
    {
        var first = new Adler32();
        first.Update("Wiki"u8);
        var copy = first;
        first.Update("pedia"u8);
        copy.Update("pedia!"u8);
        Assert.Equal(0x11E60398, first.Value);
        Assert.Equal(ByDefinition("Wikipedia!"u8), copy.Value);
    }
}
