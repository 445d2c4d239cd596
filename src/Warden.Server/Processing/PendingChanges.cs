using Warden.Data;
using Warden.Protocol;

namespace Warden.Server.Processing;

/// <summary>
/// What a node will look like once the writes already prepared but not yet applied have landed. Validation of
/// a new write reads these before the tree, so two pipelined writes see each other (Apache's ChangeRecord).
/// A null <see cref="Exists"/>-false record stands for a node that a pending write deletes.
/// </summary>
public sealed record NodeRecord(
    long Zxid, string Path, bool Exists, int Version, int Cversion, int Aversion, long EphemeralOwner, int ChildCount,
    IReadOnlyList<Acl> Acl, long Czxid = 0, int DataLength = 0)
{
    public static NodeRecord FromNode(string path, DataNode node) => new(
        -1, path, true, node.Version, node.Cversion, node.Aversion, node.EphemeralOwner, node.ChildCount, node.Acl, node.Czxid, node.Data?.Length ?? 0);

    public static NodeRecord Deleted(long zxid, string path) => new(zxid, path, false, 0, 0, 0, 0, 0, []);
}

/// <summary>The outstanding change records, in the order they were made, with the newest per path.</summary>
public sealed class PendingChanges(DataTree tree)
{
    private readonly Dictionary<string, NodeRecord> _latestByPath = new(StringComparer.Ordinal);
    private readonly Queue<NodeRecord> _inOrder = new();

    public int Count => _inOrder.Count;
    public IEnumerable<NodeRecord> InOrder => _inOrder;

    /// <summary>The node as pending writes leave it, or null when it does not exist.</summary>
    public NodeRecord? Get(string path)
    {
        if (_latestByPath.TryGetValue(path, out var record)) return record.Exists ? record : null;
        return tree.TryGetNode(path, out var node) ? NodeRecord.FromNode(path, node) : null;
    }

    /// <summary>True while a prepared write to <paramref name="path"/> has not been applied yet.</summary>
    public bool HasPending(string path) => _latestByPath.ContainsKey(path);

    public NodeRecord GetExisting(string path) => Get(path) ?? throw new KeeperException(ErrorCode.NoNode, path);

    public void Add(NodeRecord record)
    {
        _inOrder.Enqueue(record);
        _latestByPath[record.Path] = record;
    }

    /// <summary>Drops the records that a now-applied zxid produced; the tree shows them from here on.</summary>
    public void OnApplied(long zxid)
    {
        while (_inOrder.Count > 0 && _inOrder.Peek().Zxid <= zxid)
        {
            var record = _inOrder.Dequeue();
            if (_latestByPath.TryGetValue(record.Path, out var latest) && ReferenceEquals(latest, record))
            {
                _latestByPath.Remove(record.Path);
            }
        }
    }

    /// <summary>Remembers the latest records of some paths, to restore them if a multi fails.</summary>
    public Dictionary<string, NodeRecord?> Save(IEnumerable<string> paths)
    {
        var saved = new Dictionary<string, NodeRecord?>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            saved[path] = _latestByPath.GetValueOrDefault(path);
        }
        return saved;
    }

    /// <summary>Undoes the records a failed multi made at its zxid and restores what was saved.</summary>
    public void Rollback(long zxid, Dictionary<string, NodeRecord?> saved)
    {
        var kept = _inOrder.Where(r => r.Zxid != zxid).ToList();
        _inOrder.Clear();
        foreach (var record in kept) _inOrder.Enqueue(record);
        foreach (var (path, record) in saved)
        {
            if (record is null) _latestByPath.Remove(path);
            else _latestByPath[path] = record;
        }
        // Any path whose newest record was dropped and was not saved falls back to its newest surviving record.
        foreach (var path in _latestByPath.Where(p => p.Value.Zxid == zxid).Select(p => p.Key).ToList())
        {
            var previous = kept.LastOrDefault(r => r.Path == path);
            if (previous is null) _latestByPath.Remove(path);
            else _latestByPath[path] = previous;
        }
    }
}
