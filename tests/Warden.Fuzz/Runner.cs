using CsCheck;

namespace Warden.Fuzz;

/// <summary>A decoder broke its contract on one input.</summary>
public sealed class FuzzFailure(string message, byte[] input, Exception? inner = null) : Exception(message, inner)
{
    public byte[] Input { get; } = input;
}

/// <summary>Runs a target's decoder on inputs and checks each call against the target's contract.</summary>
public static class Runner
{
    /// <summary>
    /// One input: the decoder returns or throws one of its expected exceptions, and allocates no more than its
    /// limit for an input of that size (so no length field read from the input is trusted before it is checked).
    /// </summary>
    public static void Check(FuzzTarget target, byte[] input)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            target.Decode(input);
        }
        catch (Exception e) when (target.IsExpected(e))
        {
        }
        catch (Exception e)
        {
            throw new FuzzFailure($"{target.Name}: {e.GetType().Name} on {input.Length} bytes: {e.Message}", input, e);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long limit = target.AllocationLimit(input.Length);
        if (allocated > limit)
        {
            throw new FuzzFailure($"{target.Name}: allocated {allocated:N0} bytes for {input.Length} bytes of input (limit {limit:N0})", input);
        }
    }

    /// <summary>The target's own seeds and the inputs kept in its corpus folder, if there is one.</summary>
    public static IReadOnlyList<byte[]> Seeds(FuzzTarget target, string? corpusRoot)
    {
        var seeds = new List<byte[]>(target.Seeds());
        string? folder = corpusRoot is null ? null : Path.Combine(corpusRoot, target.Name);
        if (folder is not null && Directory.Exists(folder))
        {
            seeds.AddRange(Directory.GetFiles(folder).Order(StringComparer.Ordinal).Select(File.ReadAllBytes));
        }
        return seeds;
    }

    /// <summary>
    /// A deterministic pass: every seed and corpus input as it is, then <paramref name="inputs"/> generated inputs,
    /// input i from PCG stream 1 at seed + i, so a failure names the index that reproduces it. One thread.
    /// </summary>
    public static long RunDeterministic(FuzzTarget target, long inputs, ulong seed, string? corpusRoot)
    {
        var seeds = Seeds(target, corpusRoot);
        foreach (var input in seeds) Check(target, input);
        var gen = Mutator.Inputs(seeds);
        for (long i = 0; i < inputs; i++)
        {
            var input = gen.Generate(new PCG(1, seed + (ulong)i), null!, out _);
            try
            {
                Check(target, input);
            }
            catch (FuzzFailure failure)
            {
                throw new FuzzFailure($"{failure.Message} (input {i} of seed {seed}: {Hex(input)})", input, failure);
            }
        }
        return seeds.Count + inputs;
    }

    /// <summary>
    /// A random pass on every core with CsCheck, which shrinks a failing input and prints the seed that replays it.
    /// For long runs by hand.
    /// </summary>
    public static void RunSampled(FuzzTarget target, long inputs, string? replaySeed, string? corpusRoot) =>
        Mutator.Inputs(Seeds(target, corpusRoot)).Sample(input => Check(target, input), seed: replaySeed, iter: inputs, print: Hex);

    public static string Hex(byte[] input) => input.Length <= 256 ? Convert.ToHexString(input) : Convert.ToHexString(input.AsSpan(0, 256)) + "...";
}
