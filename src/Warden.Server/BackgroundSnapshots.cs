using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Warden.Server.Processing;
using Warden.Storage;

namespace Warden.Server;

/// <summary>
/// Snapshots taken without stopping writes: the tree is captured on the request loop (a short pause for the
/// in-memory copy) and written to disk on a worker, one at a time, as Apache does. Standalone servers and ensemble
/// members share it.
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
            var image = await core.QueryAsync(core.CaptureSnapshotImage).ConfigureAwait(false);
            long captureMs = started.ElapsedMilliseconds;
            string file = await Task.Run(() => SnapshotStore.Write(snapshotDirectory, image)).ConfigureAwait(false);
            log.LogInformation("Snapshot {File} taken: {Nodes} znodes, tree captured in {CaptureMs} ms, written in {TotalMs} ms",
                Path.GetFileName(file), image.Nodes.Count, captureMs, started.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogError("Could not write a snapshot: {Reason}; the txn log still holds every change", e.Message);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }
}
