using System.Buffers.Binary;
using CsCheck;

namespace Warden.Fuzz;

/// <summary>
/// Inputs for a decoder, as CsCheck generators: a seed input with one to six mutations of the kinds that break
/// decoders (flipped bits, interesting integers over length fields, truncation, inserted, deleted and repeated
/// runs, splices with another seed), or plain random bytes. CsCheck shrinks a failing input to a small one.
/// </summary>
public static class Mutator
{
    private static readonly int[] InterestingInts =
        [0, 1, -1, 2, 7, 8, 16, 255, 256, 4096, 65535, 65536, 0xfffff, 0x100000, 0x7fffffff, int.MinValue, -2, 0x40000000];

    public static Gen<byte[]> Inputs(IReadOnlyList<byte[]> seeds)
    {
        if (seeds.Count == 0) return Gen.Byte.Array[0, 512];
        var seed = Gen.Int[0, seeds.Count - 1].Select(i => seeds[i]);
        var mutation = Gen.Select(Gen.Int[0, 9], Gen.Int, Gen.Int, (kind, a, b) => (Kind: kind, A: a, B: b));
        var mutated = Gen.Select(seed, mutation.Array[1, 6], Gen.Int[0, seeds.Count - 1],
            (input, mutations, other) => Apply(input, mutations, seeds[other]));
        return Gen.Frequency((8, mutated), (1, seed), (1, Gen.Byte.Array[0, 256]));
    }

    private static byte[] Apply(byte[] input, (int Kind, int A, int B)[] mutations, byte[] other)
    {
        var bytes = new List<byte>(input);
        foreach (var (kind, a, b) in mutations) Mutate(bytes, kind, (uint)a, (uint)b, other);
        return [.. bytes];
    }

    private static void Mutate(List<byte> bytes, int kind, uint a, uint b, byte[] other)
    {
        int At(int extra = 0) => bytes.Count + extra == 0 ? 0 : (int)(a % (uint)(bytes.Count + extra));
        switch (kind)
        {
            case 0 when bytes.Count > 0: // flip a bit
                bytes[At()] ^= (byte)(1 << (int)(b % 8));
                break;
            case 1 when bytes.Count > 0: // an interesting byte
                bytes[At()] = (byte)(b % 4 switch { 0 => 0, 1 => 0xff, 2 => 0x7f, _ => 0x80 });
                break;
            case 2 or 3 when bytes.Count >= 4: // an interesting int over four bytes, where length fields live
            {
                int at = (int)(a % (uint)(bytes.Count - 3));
                Span<byte> four = stackalloc byte[4];
                BinaryPrimitives.WriteInt32BigEndian(four, InterestingInts[b % (uint)InterestingInts.Length]);
                for (int i = 0; i < 4; i++) bytes[at + i] = four[i];
                break;
            }
            case 4: // truncate
                if (bytes.Count > 0) bytes.RemoveRange(At(), bytes.Count - At());
                break;
            case 5: // insert random bytes
            {
                int count = (int)(b % 16) + 1;
                int at = At(1);
                for (int i = 0; i < count; i++) bytes.Insert(at, (byte)(a >> (i % 4 * 8)));
                break;
            }
            case 6 when bytes.Count > 0: // delete a run
            {
                int at = At();
                bytes.RemoveRange(at, Math.Min(bytes.Count - at, (int)(b % 16) + 1));
                break;
            }
            case 7 when bytes.Count > 0 && bytes.Count < 64 * 1024: // repeat a run
            {
                int at = At();
                int count = Math.Min(bytes.Count - at, (int)(b % 64) + 1);
                bytes.InsertRange(at, bytes.GetRange(at, count));
                break;
            }
            case 8 when other.Length > 0: // splice: this input's head, another's tail
            {
                int cut = At(1);
                int from = (int)(b % (uint)other.Length);
                bytes.RemoveRange(cut, bytes.Count - cut);
                bytes.AddRange(other.AsSpan(from).ToArray());
                break;
            }
            case 9 when bytes.Count >= 8: // an interesting long (zxids, session ids, counts)
            {
                int at = (int)(a % (uint)(bytes.Count - 7));
                long value = (b % 4) switch { 0 => -1L, 1 => long.MaxValue, 2 => long.MinValue, _ => 0L };
                Span<byte> eight = stackalloc byte[8];
                BinaryPrimitives.WriteInt64BigEndian(eight, value);
                for (int i = 0; i < 8; i++) bytes[at + i] = eight[i];
                break;
            }
        }
    }
}
