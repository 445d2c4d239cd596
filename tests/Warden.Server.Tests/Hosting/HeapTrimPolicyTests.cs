using Warden.Server;

namespace Warden.Server.Tests.Hosting;

/// <summary>When the server gives memory back: only when quiet, only for slack worth a collection, never twice for the same slack.</summary>
public sealed class HeapTrimPolicyTests
{
    private const long MiB = 1L << 20;

    // 60 MiB alive, 80 MiB committed: 20 MiB of slack, more than the 8 MiB minimum and a sixteenth of the heap.
    private static HeapFigures AfterBurst(long allocated) => new(80 * MiB, 62 * MiB, 2 * MiB, allocated);

    [Fact]
    public void AQuietServerWithSlackIsTrimmedOnceTheSecondLookShowsItQuiet()
    {
        var policy = new HeapTrimPolicy();
        policy.Trimmed(new HeapFigures(10 * MiB, 8 * MiB, 0, 100 * MiB));

        // The first look after the burst sees a lot allocated since the trim: still busy.
        Assert.False(policy.ShouldTrim(AfterBurst(allocated: 900 * MiB)));
        // One look later almost nothing more was allocated: quiet, and 20 MiB can be given back.
        Assert.True(policy.ShouldTrim(AfterBurst(allocated: 901 * MiB)));
    }

    [Fact]
    public void ABusyServerIsNeverTrimmedWhateverItsSlack()
    {
        var policy = new HeapTrimPolicy();
        policy.Trimmed(new HeapFigures(10 * MiB, 8 * MiB, 0, 0));
        long allocated = 0;
        for (int look = 0; look < 10; look++)
        {
            allocated += HeapTrimPolicy.QuietBytesPerLook + 1;
            Assert.False(policy.ShouldTrim(new HeapFigures(500 * MiB, 100 * MiB, 0, allocated)));
        }
    }

    [Fact]
    public void SlackBelowTheMinimumOrASixteenthOfTheHeapIsLeftAlone()
    {
        var small = new HeapTrimPolicy();
        small.Trimmed(new HeapFigures(0, 0, 0, 0));
        // 7 MiB of slack: under the 8 MiB minimum.
        Assert.False(small.ShouldTrim(new HeapFigures(67 * MiB, 60 * MiB, 0, 0)));

        var large = new HeapTrimPolicy();
        large.Trimmed(new HeapFigures(0, 0, 0, 0));
        // 50 MiB of slack beside a 1 GiB heap: under a sixteenth (64 MiB) of it.
        Assert.False(large.ShouldTrim(new HeapFigures(1074 * MiB, 1024 * MiB, 0, 0)));
        // 70 MiB is over it.
        Assert.True(large.ShouldTrim(new HeapFigures(1094 * MiB, 1024 * MiB, 0, 0)));
    }

    [Fact]
    public void FragmentationCountsAsSlack()
    {
        var policy = new HeapTrimPolicy();
        policy.Trimmed(new HeapFigures(0, 0, 0, 0));
        // Committed matches the heap, but 12 MiB of it are gaps between live objects.
        Assert.True(policy.ShouldTrim(new HeapFigures(72 * MiB, 72 * MiB, 12 * MiB, 0)));
    }

    [Fact]
    public void SlackThatATrimCouldNotGiveBackIsNotCollectedAgainUntilTheHeapGrows()
    {
        var policy = new HeapTrimPolicy();
        policy.Trimmed(new HeapFigures(0, 0, 0, 0));
        Assert.True(policy.ShouldTrim(AfterBurst(allocated: 0)));
        // The trim left 20 MiB committed beyond the live objects (pinned buffers, say).
        policy.Trimmed(new HeapFigures(80 * MiB, 60 * MiB, 0, 1 * MiB));
        for (int look = 0; look < 5; look++) Assert.False(policy.ShouldTrim(AfterBurst(allocated: 1 * MiB)));
        // Another burst commits 10 MiB more than after the trim: worth a look again.
        Assert.True(policy.ShouldTrim(new HeapFigures(90 * MiB, 62 * MiB, 2 * MiB, 1 * MiB)));
    }

    [Fact]
    public void AfterLoadingOnlySlackWorthACollectionIsGivenBack()
    {
        // A loader that left 26 MiB committed beyond 280 MiB alive: more than a sixteenth (17.5 MiB).
        Assert.True(HeapTrimPolicy.SlackWorthGivingBack(new HeapFigures(306 * MiB, 281 * MiB, 1 * MiB, 0)));
        // 3 MiB beside 249 MiB alive: a quarter-second collection for nothing.
        Assert.False(HeapTrimPolicy.SlackWorthGivingBack(new HeapFigures(252 * MiB, 249 * MiB, 0, 0)));
        // An empty server.
        Assert.False(HeapTrimPolicy.SlackWorthGivingBack(new HeapFigures(2 * MiB, 1 * MiB, 0, 0)));
    }

    [Fact]
    public void ALoadHoldsCollectionsOffForTwiceTheSnapshotUpToAQuarterGibibyte()
    {
        Assert.Equal(0, HeapTrimmer.HeldAllocationBytesFor(0));
        Assert.Equal(0, HeapTrimmer.HeldAllocationBytesFor(15 * MiB));
        Assert.Equal(32 * MiB, HeapTrimmer.HeldAllocationBytesFor(16 * MiB));
        Assert.Equal(200 * MiB, HeapTrimmer.HeldAllocationBytesFor(100 * MiB));
        Assert.Equal(256 * MiB, HeapTrimmer.HeldAllocationBytesFor(182 * MiB));
        Assert.Equal(256 * MiB, HeapTrimmer.HeldAllocationBytesFor(50L << 30));
    }
}
