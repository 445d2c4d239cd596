using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Warden.Server.Processing;
using Warden.Storage;

namespace Warden.Server;

/// <summary>
/// Snapshots taken without stopping writes: a fuzzy image of the tree is captured on the request loop a slice at a
/// time, between the loop's other work (<see cref="ServerCore.CaptureFuzzySnapshotAsync"/>), and written to disk on
/// a worker, one snapshot at a time, as Apache does. Standalone servers and ensemble members share it.
/// </summary>
public sealed class BackgroundSnapshots(string snapshotDirectory, ILogger log)
{
    private int _running;

    public async Task TakeAsync(ServerCore core)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            log.LogWarning("Too busy to snapshot, skipping");
            return;
        }
        try
        {
            var started = Stopwatch.StartNew();
            var image = await core.CaptureFuzzySnapshotAsync().ConfigureAwait(false);
            long captureMs = started.ElapsedMilliseconds;
            string file = await Task.Run(() => SnapshotStore.Write(snapshotDirectory, image)).ConfigureAwait(false);
            log.LogInformation(
                "Snapshot {File} taken: {Nodes} znodes, tree captured in {CaptureMs} ms between other work (longest slice {SliceMs:0.0} ms), written in {TotalMs} ms",
                Path.GetFileName(file), image.Nodes.Count, captureMs, image.LongestCaptureStep.TotalMilliseconds, started.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogError("Could not write a snapshot: {Reason}; the txn log still holds every change", e.Message);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
            log.LogInformation("Snapshot abandoned: {Reason}", e.Message);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }
}
