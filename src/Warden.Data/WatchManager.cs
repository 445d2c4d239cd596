using Warden.Protocol;

namespace Warden.Data;

/// <summary>An event to deliver to a watcher: the same shape as the WatcherEvent record clients receive.</summary>
public readonly record struct WatchedEvent(EventType Type, KeeperState State, string Path);

/// <summary>Something that can receive watch events: in the server, one client connection.</summary>
public interface IWatcher
{
    /// <summary>Called while the change is applied, so the event is queued before any reply that shows it.</summary>
    void Process(WatchedEvent watchedEvent);
}

/// <summary>How a watch behaves once it fires.</summary>
public enum WatchMode
{
    /// <summary>A one-shot watch from exists, getData or getChildren: removed when it fires.</summary>
    Standard,
    /// <summary>addWatch PERSISTENT: stays after firing.</summary>
    Persistent,
    /// <summary>addWatch PERSISTENT_RECURSIVE: stays, and covers every descendant, never with NodeChildrenChanged.</summary>
    PersistentRecursive,
}

/// <summary>
/// One table of watches (the data tree keeps two: data and child watches). Each (watcher, path) pair has one
/// mode, as in Apache's WatchManager: a later registration on the same pair replaces the mode.
/// </summary>
public sealed class WatchManager
{
    private readonly Dictionary<string, HashSet<IWatcher>> _watchersByPath = new(StringComparer.Ordinal);
    private readonly Dictionary<IWatcher, HashSet<string>> _pathsByWatcher = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<(IWatcher, string), WatchMode> _nonStandardModes = new();
    private int _recursiveCount;

    public int Count
    {
        get
        {
            int total = 0;
            foreach (var set in _watchersByPath.Values) total += set.Count;
            return total;
        }
    }

    public int PathCount => _watchersByPath.Count;

    public IEnumerable<KeyValuePair<string, HashSet<IWatcher>>> ByPath => _watchersByPath;
    public IEnumerable<KeyValuePair<IWatcher, HashSet<string>>> ByWatcher => _pathsByWatcher;

    public void Add(string path, IWatcher watcher, WatchMode mode = WatchMode.Standard)
    {
        if (!_watchersByPath.TryGetValue(path, out var watchers))
        {
            watchers = new HashSet<IWatcher>(ReferenceEqualityComparer.Instance);
            _watchersByPath[path] = watchers;
        }
        watchers.Add(watcher);
        if (!_pathsByWatcher.TryGetValue(watcher, out var paths))
        {
            paths = new HashSet<string>(StringComparer.Ordinal);
            _pathsByWatcher[watcher] = paths;
        }
        paths.Add(path);
        SetMode(watcher, path, mode);
    }

    private void SetMode(IWatcher watcher, string path, WatchMode mode)
    {
        var key = (watcher, path);
        bool wasRecursive = _nonStandardModes.TryGetValue(key, out var old) && old == WatchMode.PersistentRecursive;
        if (mode == WatchMode.Standard) _nonStandardModes.Remove(key);
        else _nonStandardModes[key] = mode;
        if (wasRecursive) _recursiveCount--;
        if (mode == WatchMode.PersistentRecursive) _recursiveCount++;
    }

    public WatchMode ModeOf(IWatcher watcher, string path) =>
        _nonStandardModes.TryGetValue((watcher, path), out var mode) ? mode : WatchMode.Standard;

    /// <summary>Whether a watcher may read a node with this ACL; set by the server, which knows who is authenticated.</summary>
    public Func<IWatcher, IReadOnlyList<Acl>, bool>? MayRead { get; set; }

    /// <summary>
    /// checkWatches as Apache's WatchManager.containsWatcher answers it: true when any watcher at all has a watch on
    /// exactly this path in this table (it tests the table entry, not the caller's membership in it).
    /// </summary>
    public bool AnyWatchOn(string path) => _watchersByPath.ContainsKey(path);

    public bool Contains(string path, IWatcher watcher) =>
        _watchersByPath.TryGetValue(path, out var set) && set.Contains(watcher);

    public bool Contains(string path, IWatcher watcher, WatchMode mode) => Contains(path, watcher) && ModeOf(watcher, path) == mode;

    public bool Remove(string path, IWatcher watcher)
    {
        if (!_watchersByPath.TryGetValue(path, out var set) || !set.Remove(watcher)) return false;
        if (set.Count == 0) _watchersByPath.Remove(path);
        if (_pathsByWatcher.TryGetValue(watcher, out var paths))
        {
            paths.Remove(path);
            if (paths.Count == 0) _pathsByWatcher.Remove(watcher);
        }
        SetMode(watcher, path, WatchMode.Standard);
        return true;
    }

    /// <summary>Drops every watch of a watcher (its connection closed).</summary>
    public void RemoveWatcher(IWatcher watcher)
    {
        if (!_pathsByWatcher.Remove(watcher, out var paths)) return;
        foreach (var path in paths)
        {
            if (_watchersByPath.TryGetValue(path, out var set))
            {
                set.Remove(watcher);
                if (set.Count == 0) _watchersByPath.Remove(path);
            }
            SetMode(watcher, path, WatchMode.Standard);
        }
    }

    /// <summary>
    /// Fires the watches an event on <paramref name="path"/> triggers: the path's own watches (one-shot ones are
    /// removed) and, when any recursive watch exists, recursive watches on its ancestors. Watchers in
    /// <paramref name="suppress"/> are removed as usual but not told. Returns the watchers triggered.
    /// </summary>
    public HashSet<IWatcher>? Trigger(string path, EventType type, HashSet<IWatcher>? suppress = null) =>
        Trigger(path, type, acl: null, suppress);

    /// <summary>
    /// Apache ZooKeeper as shipped with the fix for CVE-2024-23944 (Debian's 3.8.0 carries it) delivers an event
    /// only to a watcher that may read the node it is about, checked against <paramref name="acl"/>, the ACL of
    /// that node (the parent's, for NodeChildrenChanged); otherwise a persistent recursive watch would leak the
    /// names and changes of nodes its session cannot read. A watcher that fails the check still loses its
    /// one-shot watch, as there. <see cref="MayRead"/> decides; without it, or without an ACL, all are told.
    /// </summary>
    public HashSet<IWatcher>? Trigger(string path, EventType type, IReadOnlyList<Acl>? acl, HashSet<IWatcher>? suppress = null)
    {
        HashSet<IWatcher>? triggered = null;
        string? current = path;
        bool atParent = false;
        while (current is not null)
        {
            if (_watchersByPath.TryGetValue(current, out var watchers))
            {
                List<IWatcher>? oneShot = null;
                foreach (var watcher in watchers)
                {
                    var mode = ModeOf(watcher, current);
                    if (mode == WatchMode.PersistentRecursive)
                    {
                        if (type != EventType.NodeChildrenChanged) (triggered ??= new(ReferenceEqualityComparer.Instance)).Add(watcher);
                    }
                    else if (!atParent)
                    {
                        (triggered ??= new(ReferenceEqualityComparer.Instance)).Add(watcher);
                        if (mode == WatchMode.Standard) (oneShot ??= []).Add(watcher);
                    }
                }
                if (oneShot is not null)
                {
                    foreach (var watcher in oneShot) Remove(current, watcher);
                }
            }
            if (_recursiveCount == 0 || current == "/") break;
            current = PathValidation.Parent(current);
            atParent = true;
        }
        if (triggered is null) return null;
        var watchedEvent = new WatchedEvent(type, KeeperState.SyncConnected, path);
        foreach (var watcher in triggered)
        {
            if (suppress is not null && suppress.Contains(watcher)) continue;
            if (acl is not null && MayRead is not null && !MayRead(watcher, acl)) continue;
            watcher.Process(watchedEvent);
        }
        return triggered;
    }
}
