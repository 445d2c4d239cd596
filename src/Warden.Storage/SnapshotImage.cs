using Warden.Data;
using Warden.Protocol;

namespace Warden.Storage;

/// <summary>One node's persisted fields, copied out of the tree.</summary>
public readonly record struct NodeImage(
    string Path, byte[]? Data, IReadOnlyList<Acl> Acl, long Czxid, long Mzxid, long CtimeMs, long MtimeMs,
    int Version, int Cversion, int Aversion, long EphemeralOwner, long Pzxid)
{
    public static NodeImage Of((string Path, DataNode Node) entry)
    {
        var node = entry.Node;
        return new NodeImage(entry.Path, node.Data, node.Acl, node.Czxid, node.Mzxid, node.CtimeMs, node.MtimeMs,
            node.Version, node.Cversion, node.Aversion, node.EphemeralOwner, node.Pzxid);
    }
}

/// <summary>
/// A copy of the tree and sessions for a snapshot file or a SNAP, cheap to take on the thread that owns the tree
/// and slow part (encoding, compressing, fsync) left to any other thread. Node data and ACL lists are shared, not
/// copied: the tree replaces them on setData and setACL rather than changing them in place.
/// An exact image (<see cref="Capture"/>) holds exactly the txns up to <see cref="Zxid"/>; a fuzzy one
/// (<see cref="FuzzyCapture"/>) holds at least those, and some later ones, as Apache's snapshots do.
/// </summary>
public sealed class SnapshotImage
{
    internal SnapshotImage(long zxid, IReadOnlyList<NodeImage> nodes, Dictionary<long, int> sessions)
    {
        Zxid = zxid;
        Nodes = nodes;
        SessionTimeoutsMs = sessions;
    }

    public long Zxid { get; }
    public IReadOnlyList<NodeImage> Nodes { get; }
    public IReadOnlyDictionary<long, int> SessionTimeoutsMs { get; }

    /// <summary>For a fuzzy image, the longest slice of its capture; for an exact one, zero (it was one pause).</summary>
    public TimeSpan LongestCaptureStep { get; init; }

    /// <summary>Copies the tree in snapshot order. Call it where no txn can be applied meanwhile.</summary>
    public static SnapshotImage Capture(DataTree tree, IReadOnlyDictionary<long, int> sessionTimeoutsMs, long zxid)
    {
        var nodes = new List<NodeImage>(tree.NodeCount);
        foreach (var entry in tree.PreOrder()) nodes.Add(NodeImage.Of(entry));
        return new SnapshotImage(zxid, nodes, new Dictionary<long, int>(sessionTimeoutsMs));
    }
}

/// <summary>
/// A fuzzy snapshot taken a slice at a time by the thread that owns the tree, with txns applied between the slices,
/// so that the pause it costs is bounded by the slice, not by the size of the tree (Apache serialises its live tree
/// while writes go on, for the same reason).
/// The image is named by the last zxid applied when the capture began. Every node in it shows that txn's effects
/// and may show some later ones; recovery replays the log from the next zxid onto it, and replaying a txn whose
/// effect is already there leaves the node as the live tree has it: a create finds the node and only moves its
/// parent's counters, a delete finds nothing, setData and setACL carry the resulting version. The walk is in
/// snapshot order and reads each node when it reaches it: a node created under a parent already passed is missing
/// and comes back with its create, one deleted before it is reached is missing as it should be. Sessions are
/// copied when the capture begins, as Apache writes them before the tree; later ones come back from the log.
/// </summary>
public sealed class FuzzyCapture
{
    private readonly DataTree _tree;
    // The walk: for each node on the way down, its path, its children as listed when it was reached, and the next
    // one to visit. A node with a million children costs one frame, not a million paths built at once.
    private readonly Stack<(string Path, IReadOnlyList<string> Children, int Next)> _walk = new();
    private readonly SegmentedList<NodeImage> _nodes = new();
    private readonly Dictionary<long, int> _sessions;
    private bool _started;
    private bool _done;

    public FuzzyCapture(DataTree tree, IReadOnlyDictionary<long, int> sessionTimeoutsMs)
    {
        _tree = tree;
        Zxid = tree.LastProcessedZxid;
        _sessions = new Dictionary<long, int>(sessionTimeoutsMs);
    }

    /// <summary>The last zxid applied when the capture began: the log is replayed from the next one.</summary>
    public long Zxid { get; }

    /// <summary>The tree being captured; a capture of a tree that was since replaced is worthless.</summary>
    public DataTree Tree => _tree;

    public int NodesCaptured => _nodes.Count;

    /// <summary>The longest single <see cref="Step"/>: the longest pause the capture put in its thread's other work.</summary>
    public TimeSpan LongestStep { get; private set; }

    /// <summary>Copies up to <paramref name="maxNodes"/> more nodes; true once every node has been reached.</summary>
    public bool Step(int maxNodes)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!_started)
        {
            _started = true;
            Visit("/");
            maxNodes--;
        }
        for (int copied = 0; copied < maxNodes && _walk.Count > 0;)
        {
            var (path, children, next) = _walk.Pop();
            if (next >= children.Count) continue;
            _walk.Push((path, children, next + 1));
            if (Visit(PathValidation.Join(path, children[next]))) copied++;
        }
        _done = _walk.Count == 0;
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        if (elapsed > LongestStep) LongestStep = elapsed;
        return _done;
    }

    /// <summary>Copies a node if it is still there, and goes down to its children next.</summary>
    private bool Visit(string path)
    {
        var node = _tree.GetNode(path);
        if (node is null) return false;
        _nodes.Add(NodeImage.Of((path, node)));
        if (node.ChildCount > 0) _walk.Push((path, node.Children, 0));
        return true;
    }

    /// <summary>The image, once <see cref="Step"/> has returned true.</summary>
    public SnapshotImage Finish()
    {
        if (!_done) throw new InvalidOperationException("the capture has not reached every node yet");
        return new SnapshotImage(Zxid, _nodes, _sessions) { LongestCaptureStep = LongestStep };
    }
}

/// <summary>
/// A list that grows by fixed segments, below the large-object threshold, so that adding to it never copies what it
/// holds nor allocates one huge array: the fuzzy capture adds a million entries a slice at a time.
/// </summary>
internal sealed class SegmentedList<T> : IReadOnlyList<T>
{
    private const int SegmentLength = 512;
    private readonly List<T[]> _segments = [];

    public int Count { get; private set; }

    public T this[int index] => (uint)index < (uint)Count
        ? _segments[index / SegmentLength][index % SegmentLength]
        : throw new ArgumentOutOfRangeException(nameof(index));

    public void Add(T item)
    {
        if (Count % SegmentLength == 0) _segments.Add(new T[SegmentLength]);
        _segments[^1][Count % SegmentLength] = item;
        Count++;
    }

    public IEnumerator<T> GetEnumerator()
    {
        for (int i = 0; i < Count; i++) yield return _segments[i / SegmentLength][i % SegmentLength];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
