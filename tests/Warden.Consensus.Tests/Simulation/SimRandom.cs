namespace Warden.Consensus.Tests.Simulation;

/// <summary>
/// A small seeded generator (SplitMix64) written out here so that a seed replays the same run on every runtime,
/// whatever System.Random's algorithm becomes.
/// </summary>
public sealed class SimRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A number in [0, max).</summary>
    public int Next(int max) => max <= 0 ? 0 : (int)(NextUInt64() % (ulong)max);

    /// <summary>A number in [min, max].</summary>
    public int Between(int min, int max) => min + Next(max - min + 1);

    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public bool Chance(double probability) => probability > 0 && NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];
}

/// <summary>FNV-1a, for data fingerprints and the trace hash.</summary>
public static class Fnv
{
    public const ulong Offset = 14695981039346656037UL;

    public static ulong Add(ulong hash, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes) hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }

    public static ulong Add(ulong hash, long value)
    {
        for (int i = 0; i < 8; i++) hash = (hash ^ (byte)(value >> (8 * i))) * 1099511628211UL;
        return hash;
    }

    public static ulong Of(ReadOnlySpan<byte> bytes) => Add(Offset, bytes);
}
