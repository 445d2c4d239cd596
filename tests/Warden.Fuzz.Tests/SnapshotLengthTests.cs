using Warden.Storage;

namespace Warden.Fuzz.Tests;

/// <summary>
/// Found by the snapshot target: a damaged count or length in a snapshot (a file, or a SNAP stream from a peer) made
/// the reader reserve what the field claimed (an ACL list's capacity, a node's data) before finding that the
/// stream ends. It now costs what the stream holds.
/// </summary>
public sealed class SnapshotLengthTests
{
    private static byte[] Int(int value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    private static long AllocatedBy(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void AnAclCountOfHundredsOfMillionsReservesNothing()
    {
        // No sessions; one ACL cache entry, id 2, claiming 0x0fffffff ACLs; then the stream ends.
        byte[] stream = [.. Int(0), .. Int(1), 0, 0, 0, 0, 0, 0, 0, 2, .. Int(0x0fffffff)];
        long allocated = AllocatedBy(() => Assert.Throws<InvalidDataException>(() => SnapStream.Read(stream, 1)));
        Assert.True(allocated < 1024 * 1024, $"allocated {allocated:N0} bytes");
    }

    [Fact]
    public void ANodeDataLengthOfHundredsOfMegabytesReservesOnlyWhatArrives()
    {
        // No sessions, no ACLs; node "/a" whose data claims 200 MB, followed by 100 KB.
        byte[] stream = [.. Int(0), .. Int(0), .. Int(2), (byte)'/', (byte)'a', .. Int(200 * 1024 * 1024), .. new byte[100 * 1024]];
        long allocated = AllocatedBy(() => Assert.Throws<InvalidDataException>(() => SnapStream.Read(stream, 1)));
        Assert.True(allocated < 2 * 1024 * 1024, $"allocated {allocated:N0} bytes");
    }
}
