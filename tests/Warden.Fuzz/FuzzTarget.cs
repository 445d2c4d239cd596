namespace Warden.Fuzz;

/// <summary>
/// One decoder that reads bytes from outside the process, with what it may throw on bad input. Anything else it
/// throws (an index out of range, an overflow, a null reference) is a bug: the server would close the connection
/// with a stack trace instead of one clear line, or, for a file, fail to start for the wrong reason.
/// </summary>
/// <param name="Name">The name used on the command line and for the corpus folder.</param>
/// <param name="Decode">Decodes one input; returns normally or throws one of <paramref name="Expected"/>.</param>
/// <param name="Seeds">Well-formed inputs the mutations start from (the corpus adds to them).</param>
/// <param name="Expected">Exception types that are a decoder's clear refusal of bad input.</param>
/// <param name="AllocationBase">Bytes a call may allocate whatever its input (its fixed working set).</param>
/// <param name="AllocationPerInputByte">Bytes a call may allocate per input byte: more means a length field was trusted.</param>
public sealed record FuzzTarget(
    string Name,
    Action<byte[]> Decode,
    Func<IReadOnlyList<byte[]>> Seeds,
    IReadOnlyList<Type> Expected,
    long AllocationBase = 64 * 1024,
    long AllocationPerInputByte = 64)
{
    public long AllocationLimit(int inputLength) => AllocationBase + AllocationPerInputByte * inputLength;

    /// <summary>Whether an exception is one of the clear refusals this decoder may give.</summary>
    public bool IsExpected(Exception e) => Expected.Any(type => type.IsInstanceOfType(e));
}
