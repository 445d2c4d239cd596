namespace Warden.Data;

/// <summary>
/// Apache ZooKeeper keeps a node's children and a session's ephemeral paths in java.util.HashSet, and hands
/// them to clients in that set's iteration order. To be indistinguishable, Warden reproduces the order: a
/// HashMap bucket is <c>spread(String.hashCode()) &amp; (capacity - 1)</c>, buckets are visited in index order,
/// and within a bucket entries keep their insertion order (resizes split a bucket without reordering it).
/// </summary>
public static class JavaHashOrder
{
    /// <summary>Java's String.hashCode over UTF-16 code units, in 32-bit wrapping arithmetic.</summary>
    public static int StringHash(string value) => StringHash(value.AsSpan());

    /// <summary>Java's String.hashCode of the string these UTF-16 code units make.</summary>
    public static int StringHash(ReadOnlySpan<char> value)
    {
        int hash = 0;
        foreach (char c in value) hash = unchecked(31 * hash + c);
        return hash;
    }

    /// <summary>HashMap.hash: the high half folded into the low half.</summary>
    public static int Spread(int hash) => hash ^ (int)((uint)hash >> 16);

    /// <summary>HashMap.tableSizeFor: the smallest power of two at or above the requested capacity.</summary>
    public static int TableSizeFor(int capacity)
    {
        if (capacity <= 1) return 1;
        int n = 1;
        while (n < capacity && n < (1 << 30)) n <<= 1;
        return n;
    }

    public static int Bucket(string value, int capacity) => Spread(StringHash(value)) & (capacity - 1);

    /// <summary>The capacity a HashSet copy gets when built from a set of this size (HashMap.putMapEntries).</summary>
    public static int CopyCapacity(int size) => size == 0 ? 1 : TableSizeFor((int)(size / 0.75f + 1.0f));

    /// <summary>Orders items as a HashSet of the given capacity iterates them, given their insertion order.</summary>
    public static List<string> Order(IEnumerable<string> itemsInInsertionOrder, int capacity)
    {
        var items = itemsInInsertionOrder as IReadOnlyCollection<string> ?? itemsInInsertionOrder.ToList();
        var keys = new long[items.Count];
        var result = new string[items.Count];
        int sequence = 0;
        foreach (var item in items)
        {
            keys[sequence] = SortKey(Bucket(item, capacity), sequence);
            result[sequence] = item;
            sequence++;
        }
        Array.Sort(keys, result);
        return [.. result];
    }

    /// <summary>
    /// Bucket first, then insertion sequence, packed in one long so that a large set (a session's 200k
    /// ephemerals) sorts with each hash computed once and plain integer comparisons.
    /// </summary>
    internal static long SortKey(int bucket, long sequence) => ((long)bucket << 32) | (uint)sequence;
}

/// <summary>
/// A set of strings that iterates in the order java.util.HashSet would, for the same history of adds and
/// removes. It tracks the capacity HashMap would have grown to (it never shrinks) and each entry's insertion
/// sequence. The ordered view is cached until the next change.
/// </summary>
public sealed class JavaOrderedSet
{
    private readonly Dictionary<string, long> _sequenceByItem = new(StringComparer.Ordinal);
    private long _nextSequence;
    private int _capacity;
    private int _threshold;
    private List<string>? _ordered;

    /// <param name="initialCapacity">The capacity passed to Java's constructor (DataNode uses 8, a plain HashSet 16).</param>
    public JavaOrderedSet(int initialCapacity = 16)
    {
        _capacity = 0;
        _threshold = JavaHashOrder.TableSizeFor(initialCapacity);
    }

    public int Count => _sequenceByItem.Count;
    public int Capacity => _capacity;

    public bool Contains(string item) => _sequenceByItem.ContainsKey(item);

    public bool Add(string item)
    {
        if (!_sequenceByItem.TryAdd(item, _nextSequence)) return false;
        _nextSequence++;
        if (_capacity == 0)
        {
            // The table is allocated at the first insertion, with the capacity the constructor asked for.
            _capacity = _threshold;
            _threshold = (int)(_capacity * 0.75f);
        }
        if (_sequenceByItem.Count > _threshold)
        {
            _capacity <<= 1;
            _threshold = (int)(_capacity * 0.75f);
        }
        _ordered = null;
        return true;
    }

    public bool Remove(string item)
    {
        if (!_sequenceByItem.Remove(item)) return false;
        _ordered = null;
        return true;
    }

    /// <summary>The items in Java's iteration order. The list is shared until the next change: do not modify it.</summary>
    public IReadOnlyList<string> Ordered()
    {
        if (_ordered is not null) return _ordered;
        int capacity = Math.Max(_capacity, 1);
        var keys = new long[_sequenceByItem.Count];
        var items = new string[_sequenceByItem.Count];
        int index = 0;
        foreach (var (item, sequence) in _sequenceByItem)
        {
            keys[index] = JavaHashOrder.SortKey(JavaHashOrder.Bucket(item, capacity), sequence);
            items[index] = item;
            index++;
        }
        // A set that has seen more than 2^32 adds no longer fits its sequences beside the bucket in one long;
        // it falls back to comparing the two, hashing on every comparison.
        if (_nextSequence <= uint.MaxValue)
        {
            Array.Sort(keys, items);
            _ordered = [.. items];
            return _ordered;
        }
        var entries = new List<KeyValuePair<string, long>>(_sequenceByItem);
        entries.Sort((a, b) =>
        {
            int bucketA = JavaHashOrder.Bucket(a.Key, capacity), bucketB = JavaHashOrder.Bucket(b.Key, capacity);
            return bucketA != bucketB ? bucketA.CompareTo(bucketB) : a.Value.CompareTo(b.Value);
        });
        _ordered = entries.ConvertAll(static e => e.Key);
        return _ordered;
    }

    /// <summary>The order a copy of this set (HashSet.clone or new HashSet(set)) iterates in.</summary>
    public List<string> CopyOrder() => JavaHashOrder.Order(Ordered(), JavaHashOrder.CopyCapacity(Count));
}
