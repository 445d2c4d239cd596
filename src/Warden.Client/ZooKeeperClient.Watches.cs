using Microsoft.Extensions.Logging;
using Warden.Protocol;

namespace Warden.Client;

public sealed partial class ZooKeeperClient
{
    /// <summary>
    /// Adds a persistent watch (the node's data and children events) or a recursive one (every event on the
    /// node and its descendants, except children-changed). The watch is in place when this returns; read its
    /// events with <c>await foreach</c>, and dispose it to remove it. It survives reconnects.
    /// </summary>
    public async Task<PersistentWatch> AddWatchAsync(string path, AddWatchMode mode = AddWatchMode.PersistentRecursive,
        CancellationToken cancellationToken = default)
    {
        var watch = new PersistentWatch(path, mode, _options.MaxBufferedWatchEvents, RemovePersistentAsync);
        var kind = mode == AddWatchMode.Persistent ? WatchKind.Persistent : WatchKind.PersistentRecursive;
        var registration = new WatchRegistration(_watches, path, watch.Sink, kind, null);
        await SendAsync(OpCode.AddWatch, path, new AddWatchRequest(ServerPath(path), (int)mode),
            static (ref JuteReader _) => true, registration, cancellationToken).ConfigureAwait(false);
        return watch;
    }

    /// <summary>
    /// Adds a persistent or recursive watch whose events go to <paramref name="watcher"/> on the client's event
    /// dispatcher, in order, until it is removed with <see cref="RemoveWatchesAsync"/> (the callback then hears
    /// PersistentWatchRemoved) or the session ends. The same callback added twice at a path is one watch.
    /// </summary>
    public async Task AddWatchAsync(string path, AddWatchMode mode, Action<WatchedEvent> watcher,
        CancellationToken cancellationToken = default)
    {
        var kind = mode == AddWatchMode.Persistent ? WatchKind.Persistent : WatchKind.PersistentRecursive;
        var registration = new WatchRegistration(_watches, path, new CallbackWatchSink(watcher, _dispatcher), kind, null);
        await SendAsync(OpCode.AddWatch, path, new AddWatchRequest(ServerPath(path), (int)mode),
            static (ref JuteReader _) => true, registration, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes this client's watches of a type at a path, on the server and here; each removed watch hears a
    /// DataWatchRemoved, ChildWatchRemoved or PersistentWatchRemoved event. <see cref="WatcherType.Any"/>
    /// includes persistent watches. With <paramref name="local"/>, the watches are removed here even when the
    /// server cannot be reached. Throws NoWatcher when there is none.
    /// </summary>
    public async Task RemoveWatchesAsync(string path, WatcherType type, bool local = false, CancellationToken cancellationToken = default)
    {
        string serverPath = ServerPath(path);
        if (!_watches.Has(path, type)) throw new ZooKeeperException(ErrorCode.NoWatcher, path);
        try
        {
            await SendAsync(OpCode.RemoveWatches, path, new WatchesRequest(serverPath, (int)type),
                static (ref JuteReader _) => true, null, cancellationToken).ConfigureAwait(false);
        }
        catch (ZooKeeperException error) when (local && error.Code is ErrorCode.ConnectionLoss or ErrorCode.NoWatcher)
        {
            _logger.LogDebug("removeWatches for {Path} not confirmed by the server ({Code}); removed locally", path, error.Code);
        }
        _watches.Remove(path, type);
    }

    /// <summary>
    /// Removes a disposed persistent watch here, and on the server once no other watch of this client needs
    /// that path (the server holds one watch per path for the whole connection).
    /// </summary>
    private async ValueTask RemovePersistentAsync(PersistentWatch watch)
    {
        if (!_watches.RemovePersistent(watch.Path, watch.Sink) || State.IsTerminal()) return;
        try
        {
            await SendAsync(OpCode.RemoveWatches, watch.Path, new WatchesRequest(ServerPath(watch.Path), (int)WatcherType.Any),
                static (ref JuteReader _) => true, null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ZooKeeperException error)
        {
            // Stray events for a path nobody watches are dropped anyway; this only saves the server the work.
            _logger.LogDebug("removing the server's watch on {Path} failed: {Code}", watch.Path, error.Code);
        }
    }
}
