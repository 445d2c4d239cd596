namespace Warden.Server.Network;

/// <summary>
/// Wakes one waiter (a connection's read loop) when something it waits for may have changed: a reply was
/// written out, or one of its requests was answered. The waiter re-checks its condition after publishing
/// itself, so a pulse that lands between the check and the wait is never lost.
/// </summary>
internal sealed class ProgressSignal
{
    private TaskCompletionSource? _waiter;

    public async ValueTask WaitUntilAsync(Func<bool> condition, CancellationToken cancellation)
    {
        while (!condition())
        {
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Interlocked.Exchange(ref _waiter, waiter);
            if (condition()) return;
            await waiter.Task.WaitAsync(cancellation).ConfigureAwait(false);
        }
    }

    public void Pulse() => Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
}
