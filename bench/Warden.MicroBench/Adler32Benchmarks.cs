using BenchmarkDotNet.Attributes;

namespace Warden.MicroBench;

/// <summary>
/// Adler32 as the txn log (an entry of ~150 bytes), a snapshot (64 KiB buffers) and a large record use it:
/// the loop Warden carried before, System.IO.Hashing's, and Warden's Adler32 type as it now is.
/// </summary>
public class Adler32Benchmarks
{
    private byte[] _bytes = [];

    [Params(150, 4096, 65536)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _bytes = new byte[Length];
        new Random(42).NextBytes(_bytes);
    }

    [Benchmark(Baseline = true)]
    public long HandWrittenLoop() => HandWrittenAdler32.Compute(_bytes);

    [Benchmark]
    public uint SystemIOHashing() => System.IO.Hashing.Adler32.HashToUInt32(_bytes);

    [Benchmark]
    public long WardenStorage() => Warden.Storage.Adler32.Compute(_bytes);
}

/// <summary>The scalar loop Warden.Storage used before it moved to System.IO.Hashing, kept here to compare.</summary>
internal static class HandWrittenAdler32
{
    private const uint Modulus = 65521;
    private const int MaxRun = 5552;

    public static long Compute(ReadOnlySpan<byte> bytes)
    {
        uint a = 1, b = 0;
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
        return (long)((b << 16) | a);
    }
}
