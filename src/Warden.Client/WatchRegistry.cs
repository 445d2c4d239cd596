using Warden.Protocol;

namespace Warden.Client;

/// <summary>What kind of table a watch sits in; a server event picks the tables it empties.</summary>
internal enum WatchKind
{
    Data,
    Exist,
    Child,
    Persistent,
    PersistentRecursive,
}

/// <summary>The watch tables' paths, for setWatches after a reconnect (client paths).</summary>
internal sealed record WatchPaths(
    List<string> Data, List<string> Exist, List<string> Child, List<string> Persistent, List<string> PersistentRecursive)
{
    public bool IsEmpty => Data.Count + Exist.Count + Child.Count + Persistent.Count + PersistentRecursive.Count == 0;
}

/// <summary>
/// The client's watch tables. The server keeps one watch per connection and path; this fans each event out
/// to every sink registered for it, following Apache's rules: data and exist watches fire on created, changed
/// and deleted; child watches on children changed and deleted; one-shot sinks go when they fire; persistent
/// sinks stay, and recursive ones see every descendant's events except children-changed.
/// </summary>
internal sealed class WatchRegistry
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HashSet<WatchSink>>[] _tables =
        [new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal)];

    private Dictionary<string, HashSet<WatchSink>> Table(WatchKind kind) => _tables[(int)kind];

    public void Add(WatchKind kind, string path, WatchSink sink)
    {
        lock (_gate)
        {
            var table = Table(kind);
            if (!table.TryGetValue(path, out var sinks)) table[path] = sinks = [];
            sinks.Add(sink);
        }
    }

    /// <summary>Delivers a server notification to the sinks it concerns.</summary>
    public void Dispatch(WatchedEvent watchedEvent)
    {
        var targets = new List<WatchSink>();
        string path = watchedEvent.Path ?? "/";
        lock (_gate)
        {
            switch (watchedEvent.Type)
            {
                case EventType.NodeCreated:
                case EventType.NodeDataChanged:
                    Take(WatchKind.Data, path, targets);
                    Take(WatchKind.Exist, path, targets);
                    break;
                case EventType.NodeChildrenChanged:
                    Take(WatchKind.Child, path, targets);
                    break;
                case EventType.NodeDeleted:
                    Take(WatchKind.Data, path, targets);
                    Take(WatchKind.Exist, path, targets);
                    Take(WatchKind.Child, path, targets);
                    break;
            }
            if (Table(WatchKind.Persistent).TryGetValue(path, out var persistent)) targets.AddRange(persistent);
            if (watchedEvent.Type != EventType.NodeChildrenChanged)
            {
                // A recursive watch on any ancestor (or the node itself) sees the event.
                var recursive = Table(WatchKind.PersistentRecursive);
                for (string? at = path; at is not null; at = at == "/" ? null : PathValidation.Parent(at))
                {
                    if (recursive.TryGetValue(at, out var sinks)) targets.AddRange(sinks);
                }
            }
        }
        foreach (var sink in targets.Distinct()) sink.Deliver(watchedEvent);
    }

    private void Take(WatchKind kind, string path, List<WatchSink> into)
    {
        if (Table(kind).Remove(path, out var sinks)) into.AddRange(sinks);
    }

    /// <summary>True when some sink of the removable kinds for <paramref name="type"/> is registered at the path.</summary>
    public bool Has(string path, WatcherType type)
    {
        lock (_gate)
        {
            return KindsFor(type).Any(kind => Table(kind).ContainsKey(path));
        }
    }

    /// <summary>True when any watch at all remains at the path.</summary>
    public bool HasAny(string path)
    {
        lock (_gate)
        {
            return _tables.Any(table => table.ContainsKey(path));
        }
    }

    /// <summary>Removes the watches of a type at a path and tells each one it was removed.</summary>
    public void Remove(string path, WatcherType type)
    {
        var removed = new List<(WatchSink Sink, EventType Type)>();
        lock (_gate)
        {
            foreach (var kind in KindsFor(type))
            {
                if (!Table(kind).Remove(path, out var sinks)) continue;
                var eventType = kind switch
                {
                    WatchKind.Child => EventType.ChildWatchRemoved,
                    WatchKind.Data or WatchKind.Exist => EventType.DataWatchRemoved,
                    _ => EventType.PersistentWatchRemoved,
                };
                removed.AddRange(sinks.Select(sink => (sink, eventType)));
            }
        }
        foreach (var (sink, eventType) in removed.Distinct()) sink.Deliver(new WatchedEvent(eventType, KeeperState.SyncConnected, path));
    }

    /// <summary>Removes one persistent sink; true when the path is left with no watch at all.</summary>
    public bool RemovePersistent(string path, WatchSink sink)
    {
        lock (_gate)
        {
            foreach (var kind in new[] { WatchKind.Persistent, WatchKind.PersistentRecursive })
            {
                var table = Table(kind);
                if (table.TryGetValue(path, out var sinks) && sinks.Remove(sink) && sinks.Count == 0) table.Remove(path);
            }
            return !_tables.Any(table => table.ContainsKey(path));
        }
    }

    private static WatchKind[] KindsFor(WatcherType type) => type switch
    {
        WatcherType.Children => [WatchKind.Child],
        WatcherType.Data => [WatchKind.Data, WatchKind.Exist],
        _ => [WatchKind.Data, WatchKind.Exist, WatchKind.Child, WatchKind.Persistent, WatchKind.PersistentRecursive],
    };

    public WatchPaths Snapshot()
    {
        lock (_gate)
        {
            return new WatchPaths(
                [.. Table(WatchKind.Data).Keys], [.. Table(WatchKind.Exist).Keys], [.. Table(WatchKind.Child).Keys],
                [.. Table(WatchKind.Persistent).Keys], [.. Table(WatchKind.PersistentRecursive).Keys]);
        }
    }

    /// <summary>The session is over: every sink hears it once and the tables are emptied.</summary>
    public void EndAll(ZooKeeperException? error)
    {
        var all = new List<WatchSink>();
        lock (_gate)
        {
            foreach (var table in _tables)
            {
                foreach (var sinks in table.Values) all.AddRange(sinks);
                table.Clear();
            }
        }
        foreach (var sink in all.Distinct()) sink.End(error);
    }
}
