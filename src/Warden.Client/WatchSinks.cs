using System.Threading.Channels;
using Warden.Protocol;

namespace Warden.Client;

/// <summary>Where the events of one registered watch go.</summary>
internal abstract class WatchSink
{
    /// <summary>Called with the registry's lock not held, in the order events arrived from the server.</summary>
    public abstract void Deliver(WatchedEvent watchedEvent);

    /// <summary>The session ended (expiry, auth failure or close): the watch will never fire again.</summary>
    public abstract void End(ZooKeeperException? error);
}

/// <summary>A one-shot watch awaited as a task.</summary>
internal sealed class TaskWatchSink : WatchSink
{
    private readonly TaskCompletionSource<WatchedEvent> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<WatchedEvent> Task => _completion.Task;

    public override void Deliver(WatchedEvent watchedEvent) => _completion.TrySetResult(watchedEvent);

    public override void End(ZooKeeperException? error) =>
        _completion.TrySetException(error ?? new ZooKeeperException(ErrorCode.ConnectionLoss, null, "the client was closed"));
}

/// <summary>
/// A watch given as a callback. Callbacks run one at a time on the client's event dispatcher, never on the
/// connection's read loop, so a slow callback cannot stall replies. Two sinks with the same callback are the
/// same watch, as a Watcher object is in Apache's client: registered for getData and exists on one node, it
/// hears the node's deletion once.
/// </summary>
internal sealed class CallbackWatchSink(Action<WatchedEvent> callback, EventDispatcher dispatcher) : WatchSink, IEquatable<CallbackWatchSink>
{
    private readonly Action<WatchedEvent> _callback = callback;

    public override void Deliver(WatchedEvent watchedEvent) => dispatcher.Post(() => _callback(watchedEvent));

    public bool Equals(CallbackWatchSink? other) => other is not null && _callback.Equals(other._callback);

    public override bool Equals(object? obj) => obj is CallbackWatchSink other && Equals(other);

    public override int GetHashCode() => _callback.GetHashCode();

    public override void End(ZooKeeperException? error)
    {
        var state = error?.Code == ErrorCode.SessionExpired ? KeeperState.Expired
            : error?.Code == ErrorCode.AuthFailed ? KeeperState.AuthFailed : KeeperState.Closed;
        dispatcher.Post(() => _callback(new WatchedEvent(EventType.None, state, null)));
    }
}

/// <summary>
/// A persistent or recursive watch (addWatch): a stream of events read with <c>await foreach</c>.
/// Disposing it removes the watch. The stream ends with an exception when the session expires, and
/// completes when the client is closed or the watch is removed.
/// </summary>
public sealed class PersistentWatch : IAsyncEnumerable<WatchedEvent>, IAsyncDisposable
{
    private readonly Channel<WatchedEvent> _events;
    private readonly Func<PersistentWatch, ValueTask> _remove;
    private int _disposed;

    internal PersistentWatch(string path, AddWatchMode mode, int capacity, Func<PersistentWatch, ValueTask> remove)
    {
        Path = path;
        Mode = mode;
        _remove = remove;
        _events = Channel.CreateBounded<WatchedEvent>(new BoundedChannelOptions(capacity)
        {
            SingleReader = false,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        Sink = new PersistentWatchSink(this);
    }

    public string Path { get; }
    public AddWatchMode Mode { get; }
    internal WatchSink Sink { get; }

    /// <summary>Reads one event; for callers that prefer a call to a loop.</summary>
    public ValueTask<WatchedEvent> ReadAsync(CancellationToken cancellationToken = default) => _events.Reader.ReadAsync(cancellationToken);

    public async IAsyncEnumerator<WatchedEvent> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        while (await _events.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (_events.Reader.TryRead(out var item)) yield return item;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _events.Writer.TryComplete();
        await _remove(this).ConfigureAwait(false);
    }

    private sealed class PersistentWatchSink(PersistentWatch owner) : WatchSink
    {
        public override void Deliver(WatchedEvent watchedEvent)
        {
            if (!owner._events.Writer.TryWrite(watchedEvent))
            {
                owner._events.Writer.TryComplete(new InvalidOperationException(
                    $"the reader of the watch on {owner.Path} fell {owner._events.Reader.Count} events behind; " +
                    "the watch was ended rather than drop events"));
            }
            if (watchedEvent.Type == EventType.PersistentWatchRemoved) owner._events.Writer.TryComplete();
        }

        public override void End(ZooKeeperException? error) => owner._events.Writer.TryComplete(error);
    }
}

/// <summary>
/// Runs user callbacks (watch callbacks, state-change handlers) one at a time in arrival order, off the
/// connection's loops. One loop per client, not per connection or per watch.
/// </summary>
internal sealed class EventDispatcher
{
    private readonly Channel<Action> _work = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Action<Exception> _onCallbackError;
    private readonly Task _loop;

    public EventDispatcher(Action<Exception> onCallbackError)
    {
        _onCallbackError = onCallbackError;
        _loop = Task.Run(RunAsync);
    }

    public void Post(Action action) => _work.Writer.TryWrite(action);

    /// <summary>Queues an action; false once the dispatcher has stopped.</summary>
    public bool TryPost(Action action) => _work.Writer.TryWrite(action);

    /// <summary>Lets the queued callbacks run, then stops.</summary>
    public Task CompleteAsync()
    {
        _work.Writer.TryComplete();
        return _loop;
    }

    private async Task RunAsync()
    {
        await foreach (var action in _work.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                action();
            }
            catch (Exception error)
            {
                // A throwing callback is the caller's bug; it must not stop the events of every other watch.
                _onCallbackError(error);
            }
        }
    }
}
