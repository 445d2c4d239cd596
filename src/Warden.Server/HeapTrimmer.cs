using System.Diagnostics;
using System.Runtime;
using Microsoft.Extensions.Logging;
using Warden.Storage;

namespace Warden.Server;

/// <summary>
/// The GC's figures that <see cref="HeapTrimPolicy"/> decides on, all in bytes: what the GC has committed from the
/// operating system, the heap it found at its last collection (live objects and the free gaps between them), and
/// the total allocated since the process started.
/// </summary>
public readonly record struct HeapFigures(long CommittedBytes, long HeapBytes, long FragmentedBytes, long AllocatedBytes)
{
    /// <summary>What the last collection found alive.</summary>
    public long LiveBytes => HeapBytes - FragmentedBytes;

    /// <summary>Committed memory that holds no live object: free gaps, generation budgets, regions kept for reuse.</summary>
    public long SlackBytes => CommittedBytes - LiveBytes;

    /// <summary>The figures of this process now.</summary>
    public static HeapFigures Current()
    {
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        return new HeapFigures(info.TotalCommittedBytes, info.HeapSizeBytes, info.FragmentedBytes, GC.GetTotalAllocatedBytes(precise: false));
    }
}

/// <summary>
/// When to give memory back after a burst of work. .NET's GC keeps what a burst made it commit (the young
/// generation's budget, regions freed by collections, gaps between survivors) until later allocations make it
/// collect again, and an idle server allocates almost nothing. Measured on a server that took 200,000 znodes of
/// 100 bytes: 58 MB alive, 77 MB committed by the GC, and no collection afterwards to give back the 19 MB.
/// The policy asks for one compacting collection once the server has been quiet for a look (little allocated
/// since the previous one), when the slack is worth it (at least <see cref="MinimumSlackBytes"/> and a sixteenth
/// of the heap), and only if the committed memory has grown by that much since the last trim, so that a quiet
/// server whose slack cannot be given back is not collected over and over. Pure: the caller brings the figures.
/// </summary>
public sealed class HeapTrimPolicy
{
    /// <summary>Below this much allocated between two looks the server counts as quiet.</summary>
    public const long QuietBytesPerLook = 4L << 20;

    /// <summary>Slack smaller than this is not worth a full collection.</summary>
    public const long MinimumSlackBytes = 8L << 20;

    private long? _allocatedAtLastLook;
    private long _committedAfterLastTrim;

    /// <summary>Takes one look at the figures; true when a compacting collection is due now.</summary>
    public bool ShouldTrim(HeapFigures now)
    {
        bool quiet = _allocatedAtLastLook is long last && now.AllocatedBytes - last <= QuietBytesPerLook;
        _allocatedAtLastLook = now.AllocatedBytes;
        return quiet && SlackWorthGivingBack(now) && now.CommittedBytes - _committedAfterLastTrim >= WorthIt(now);
    }

    /// <summary>Whether the slack is worth a full collection at all: at least 8 MiB and a sixteenth of the heap.</summary>
    public static bool SlackWorthGivingBack(HeapFigures now) => now.SlackBytes >= WorthIt(now);

    private static long WorthIt(HeapFigures now) => Math.Max(MinimumSlackBytes, now.HeapBytes / 16);

    /// <summary>Records the figures right after a trim (or after any collection that gave memory back).</summary>
    public void Trimmed(HeapFigures after)
    {
        _committedAfterLastTrim = after.CommittedBytes;
        _allocatedAtLastLook = after.AllocatedBytes;
    }
}

/// <summary>
/// Carries out <see cref="HeapTrimPolicy"/>: looks at the GC once a second and, when due, runs one blocking
/// compacting collection in the GC's aggressive mode, which also compacts the large object heap and decommits the
/// free regions and budgets. Such a collection stops every thread for as long as it takes (tens of milliseconds
/// per hundred megabytes of heap here), which is why it runs only when the server is quiet. <see cref="TrimIfWorthIt"/>
/// is also called once after a data directory is loaded, before any client is served, to give back what the
/// loader's short-lived objects made the GC commit.
/// </summary>
public static class HeapTrimmer
{
    public static readonly TimeSpan LookInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// One compacting collection now if <see cref="HeapTrimPolicy.SlackWorthGivingBack"/> says the slack is worth
    /// it (a full collection of a million znodes stops the process for a quarter of a second here); logs either way.
    /// </summary>
    public static void TrimIfWorthIt(ILogger log, string why)
    {
        var now = HeapFigures.Current();
        if (HeapTrimPolicy.SlackWorthGivingBack(now))
        {
            TrimNow(log, why);
            return;
        }
        log.LogInformation("Heap not trimmed {Why}: GC committed {CommittedMiB:0.0} MiB, live {LiveMiB:0.0} MiB, too little to give back",
            why, now.CommittedBytes / 1048576.0, now.LiveBytes / 1048576.0);
    }

    /// <summary>One compacting collection now; logs what it gave back and returns the figures after it.</summary>
    public static HeapFigures TrimNow(ILogger log, string why)
    {
        var before = HeapFigures.Current();
        long started = Stopwatch.GetTimestamp();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var pause = Stopwatch.GetElapsedTime(started);
        var after = HeapFigures.Current();
        log.LogInformation("Heap trimmed {Why}: GC committed {BeforeMiB:0.0} MiB -> {AfterMiB:0.0} MiB, live {LiveMiB:0.0} MiB, pause {PauseMs:0} ms",
            why, before.CommittedBytes / 1048576.0, after.CommittedBytes / 1048576.0, after.LiveBytes / 1048576.0, pause.TotalMilliseconds);
        return after;
    }

    /// <summary>Below this size a snapshot loads quickly enough with the collector running as usual.</summary>
    public const long HoldCollectionsFromSnapshotBytes = 16L << 20;

    /// <summary>At most this much is allocated with the collector held off; past it the load carries on with collections.</summary>
    public const long MaxHeldAllocationBytes = 256L << 20;

    /// <summary>
    /// How much a load may allocate with collections held off, given the newest snapshot's size: twice the file (the
    /// data arrays, the slots and the records read while loading come to about that), at most
    /// <see cref="MaxHeldAllocationBytes"/>; nothing for a small snapshot or none.
    /// </summary>
    public static long HeldAllocationBytesFor(long newestSnapshotBytes) =>
        newestSnapshotBytes < HoldCollectionsFromSnapshotBytes ? 0 : Math.Min(newestSnapshotBytes * 2, MaxHeldAllocationBytes);

    /// <summary>
    /// Loads a data directory with the collector held off for its first <see cref="HeldAllocationBytesFor"/> bytes.
    /// Nearly everything a snapshot load allocates stays alive (each node's data, the chunks of slots), so the
    /// collections that would run meanwhile only promote it from generation to generation: measured at 1,000,000
    /// znodes, the load took 3.3 s with them and 1.7 s without. The price is the held bytes, committed up front
    /// and given back by the trim that follows the load. If the load allocates more, the collector takes over as
    /// usual from there.
    /// </summary>
    public static T LoadHoldingCollections<T>(string dataDirectory, ILogger log, Func<T> load)
    {
        var snapshots = StorageFiles.List(StorageFiles.VersionDirectoryOf(dataDirectory), StorageFiles.SnapshotPrefix);
        long newest = snapshots.Count == 0 ? 0 : new FileInfo(snapshots[^1].Path).Length;
        long held = HeldAllocationBytesFor(newest);
        bool holding = false;
        if (held > 0)
        {
            try
            {
                holding = GC.TryStartNoGCRegion(held);
                if (holding) log.LogInformation("Loading the data directory with the collector held off for its first {HeldMiB} MiB", held >> 20);
            }
            catch (Exception e) when (e is ArgumentOutOfRangeException or InvalidOperationException)
            {
                log.LogDebug("Loading with the collector as usual: {Reason}", e.Message);
            }
        }
        try
        {
            return load();
        }
        finally
        {
            // The region ends by itself once the load allocates more than it holds; only one still open is ended here.
            if (holding && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            {
                try
                {
                    GC.EndNoGCRegion();
                }
                catch (InvalidOperationException)
                {
                }
            }
        }
    }

    /// <summary>Looks every <see cref="LookInterval"/> until cancelled, trimming when the policy says so.</summary>
    public static async Task RunAsync(ILogger log, TimeProvider time, CancellationToken cancellation)
    {
        var policy = new HeapTrimPolicy();
        policy.Trimmed(HeapFigures.Current());
        using var timer = new PeriodicTimer(LookInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellation).ConfigureAwait(false))
            {
                if (policy.ShouldTrim(HeapFigures.Current())) policy.Trimmed(TrimNow(log, "after a burst of work"));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
