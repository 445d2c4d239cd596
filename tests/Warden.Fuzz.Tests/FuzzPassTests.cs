using System.Buffers.Binary;
using Warden.Fuzz;
using Xunit.Abstractions;

namespace Warden.Fuzz.Tests;

/// <summary>
/// Every decoder of outside bytes, run on its seeds, its corpus and a deterministic set of mutated inputs: it
/// returns or refuses the input with its own clear exception, and allocates in proportion to the input. CI runs
/// a short pass (WARDEN_FUZZ_INPUTS inputs per decoder, 10,000 by default); `warden-fuzz` runs long ones.
/// </summary>
public sealed class FuzzPassTests(ITestOutputHelper output)
{
    private static readonly string Corpus = Path.Combine(AppContext.BaseDirectory, "corpus");

    private static long InputsPerTarget =>
        long.TryParse(Environment.GetEnvironmentVariable("WARDEN_FUZZ_INPUTS"), out long inputs) && inputs > 0 ? inputs : 10_000;

    public static TheoryData<string> TargetNames => [.. Targets.All.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(TargetNames))]
    public void DecoderHoldsItsContractOnMutatedInputs(string name)
    {
        var target = Targets.Named(name);
        long done = Runner.RunDeterministic(target, InputsPerTarget, seed: 1, Corpus);
        output.WriteLine($"{name}: {done:N0} inputs");
        Assert.True(done > InputsPerTarget);
    }

    [Fact]
    public void EveryTargetHasACorpusFolderWithItsSeeds()
    {
        foreach (var target in Targets.All)
        {
            var folder = Path.Combine(Corpus, target.Name);
            Assert.True(Directory.Exists(folder), $"no corpus folder for {target.Name}");
            Assert.True(Directory.GetFiles(folder).Length >= target.Seeds().Count, $"{target.Name}'s corpus lacks its seeds (warden-fuzz corpus)");
        }
    }
}

/// <summary>The checks catch what they are there to catch: planted bugs fail the pass.</summary>
public sealed class FuzzCheckTests
{
    private static readonly byte[][] LengthPrefixedSeeds = [[0, 0, 0, 4, 1, 2, 3, 4], [0, 0, 0, 1, 9]];

    [Fact]
    public void ADecoderThatIndexesPastTheInputFails()
    {
        var planted = new FuzzTarget("planted-index", bytes => _ = bytes[4 + BinaryPrimitives.ReadInt32BigEndian(bytes)],
            () => LengthPrefixedSeeds, [typeof(ArgumentOutOfRangeException)]);
        var failure = Assert.Throws<FuzzFailure>(() => Runner.RunDeterministic(planted, 10_000, seed: 1, corpusRoot: null));
        Assert.Contains(nameof(IndexOutOfRangeException), failure.Message);
    }

    [Fact]
    public void ADecoderThatTrustsALengthFieldForItsAllocationFails()
    {
        var planted = new FuzzTarget("planted-allocation", bytes =>
        {
            if (bytes.Length < 4) throw new InvalidDataException("short");
            int length = BinaryPrimitives.ReadInt32BigEndian(bytes);
            if (length < 0 || length > 64 * 1024 * 1024) throw new InvalidDataException("length out of range");
            var buffer = new byte[length];
            if (bytes.Length - 4 < length) throw new InvalidDataException("short");
            bytes.AsSpan(4, length).CopyTo(buffer);
        }, () => LengthPrefixedSeeds, [typeof(InvalidDataException)]);
        var failure = Assert.Throws<FuzzFailure>(() => Runner.RunDeterministic(planted, 10_000, seed: 1, corpusRoot: null));
        Assert.Contains("allocated", failure.Message);
    }

    [Fact]
    public void ACarefulDecoderPasses()
    {
        var careful = new FuzzTarget("careful", bytes =>
        {
            if (bytes.Length < 4) throw new InvalidDataException("short");
            int length = BinaryPrimitives.ReadInt32BigEndian(bytes);
            if (length < 0 || length > bytes.Length - 4) throw new InvalidDataException("length out of range");
            _ = bytes.AsSpan(4, length).ToArray();
        }, () => LengthPrefixedSeeds, [typeof(InvalidDataException)]);
        Assert.Equal(2 + 10_000, Runner.RunDeterministic(careful, 10_000, seed: 1, corpusRoot: null));
    }
}
