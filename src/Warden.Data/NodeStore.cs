using Warden.Protocol;

namespace Warden.Data;

/// <summary>
/// One znode's fields in the store. Apache's DataNode is an object with a stat object, a HashSet of child names
/// and its full path as a map key beside it; here a node is one slot of 128 bytes in a chunk of slots, named by
/// its index: its own name (not its path) inside the slot when it is short, links to its parent and siblings
/// instead of a set per parent, the ACL as an index into <see cref="AclCache"/>, and its data as an exactly-sized
/// array.
/// </summary>
internal struct NodeSlot
{
    public long Czxid;
    public long Mzxid;
    public long CtimeMs;
    public long MtimeMs;
    public long Pzxid;
    public long EphemeralOwner;
    public int Version;
    /// <summary>Stored cversion: child creations only. Clients see it through <see cref="DataNode.ToStat"/>.</summary>
    public int Cversion;
    public int Aversion;
    public int AclIndex;
    /// <summary>The parent's index; -1 for the root. On a free slot, the next free slot.</summary>
    public int Parent;
    public int FirstChild;
    public int NextSibling;
    public int PrevSibling;
    public int ChildCount;
    /// <summary>The insertion sequence the next child gets.</summary>
    public uint NextChildSequence;
    /// <summary>This node's insertion sequence among its parent's children.</summary>
    public uint Sequence;
    /// <summary>The next slot in this slot's bucket of the name index.</summary>
    public int HashNext;
    /// <summary>Java's String.hashCode of the name: the index hashes it, and children are ordered by it.</summary>
    public int NameHash;
    /// <summary>log2 of the table size Java's HashMap would have for this node's children; 0 before the first child.</summary>
    public byte ChildCapacityShift;
    /// <summary>Where the name is: nowhere (a free slot), in <see cref="InlineName"/>, or in the store's long names.</summary>
    public NameStorage NameStorage;
    /// <summary>The name's length in <see cref="InlineName"/>, one byte per character.</summary>
    public byte InlineNameLength;
    /// <summary>A name of at most <see cref="InlineNameBytes.Length"/> characters, each below U+0100, as one byte each.</summary>
    public InlineNameBytes InlineName;
    public byte[]? Data;

    /// <summary>The table size Java's HashMap would have for this node's children (0 before the first child; else 8 or more).</summary>
    public int ChildCapacity
    {
        readonly get => ChildCapacityShift == 0 ? 0 : 1 << ChildCapacityShift;
        set => ChildCapacityShift = (byte)System.Numerics.BitOperations.Log2((uint)value);
    }
}

internal enum NameStorage : byte { Free, Inline, Long }

/// <summary>Sixteen bytes inside a slot: most znode names (n123, lock-0000000001, a host name) fit, without an object of their own.</summary>
[System.Runtime.CompilerServices.InlineArray(Length)]
internal struct InlineNameBytes
{
    public const int Length = 16;
    private byte _first;
}

/// <summary>
/// The slots, and an index from (parent, name) to slot, which finds a path one segment at a time without
/// building substrings. Slots live in fixed chunks so that growing never copies them; freed slots are reused.
/// Children are a doubly linked list per parent in insertion order; the order clients see (Java's HashSet order)
/// is computed from each child's name hash and insertion sequence when asked, and cached until the next change.
/// Not thread-safe: the tree's owner is the only caller.
/// </summary>
internal sealed class NodeStore
{
    public const int None = -1;
    public const int Root = 0;

    private const int ChunkShift = 12;
    private const int ChunkLength = 1 << ChunkShift;
    private const int ChunkMask = ChunkLength - 1;
    // Java HashSet's initial capacity for a node's children (Apache's DataNode makes it with 8).
    private const int ChildrenInitialCapacity = 8;
    private const int MaxCachedChildLists = 256;

    private NodeSlot[][] _chunks = [];
    private int _highWater;
    private int _freeHead = None;
    private int[] _buckets;
    private readonly Dictionary<int, string[]> _orderedChildren = [];
    // Names that do not fit in a slot (longer than 16 characters, or with a character from U+0100 up), by slot.
    private readonly Dictionary<int, string> _longNames = [];

    public NodeStore()
    {
        _buckets = new int[256];
        Array.Fill(_buckets, None);
        int root = Allocate();
        ref var slot = ref this[root];
        slot.Parent = None;
        slot.FirstChild = None;
        slot.NextSibling = None;
        slot.PrevSibling = None;
        slot.NameStorage = NameStorage.Inline;
        Count = 1;
    }

    /// <summary>Live nodes, the root included.</summary>
    public int Count { get; private set; }

    public ref NodeSlot this[int index] => ref _chunks[index >> ChunkShift][index & ChunkMask];

    public bool IsLive(int index) => index >= 0 && index < _highWater && this[index].NameStorage != NameStorage.Free;

    /// <summary>A live node's name, as a new string when it is kept inside the slot; the root's is "".</summary>
    public string NameOf(int index)
    {
        ref var slot = ref this[index];
        if (slot.NameStorage == NameStorage.Long) return _longNames[index];
        ReadOnlySpan<byte> bytes = slot.InlineName;
        return System.Text.Encoding.Latin1.GetString(bytes[..slot.InlineNameLength]);
    }

    /// <summary>The length of a live node's name, in UTF-16 code units as a Java string counts them.</summary>
    public int NameLength(int index)
    {
        ref var slot = ref this[index];
        return slot.NameStorage == NameStorage.Long ? _longNames[index].Length : slot.InlineNameLength;
    }

    private bool NameEquals(int index, ref NodeSlot slot, ReadOnlySpan<char> name)
    {
        if (slot.NameStorage == NameStorage.Long) return name.SequenceEqual(_longNames[index]);
        if (name.Length != slot.InlineNameLength) return false;
        ReadOnlySpan<byte> bytes = slot.InlineName;
        for (int i = 0; i < name.Length; i++)
        {
            if (name[i] != bytes[i]) return false;
        }
        return true;
    }

    private void SetName(int index, ref NodeSlot slot, ReadOnlySpan<char> name)
    {
        if (name.Length <= InlineNameBytes.Length && !name.ContainsAnyExceptInRange('\0', '\u00FF'))
        {
            Span<byte> bytes = slot.InlineName;
            for (int i = 0; i < name.Length; i++) bytes[i] = (byte)name[i];
            slot.InlineNameLength = (byte)name.Length;
            slot.NameStorage = NameStorage.Inline;
            return;
        }
        _longNames[index] = name.ToString();
        slot.NameStorage = NameStorage.Long;
    }

    /// <summary>The slot of a path, or <see cref="None"/>. Only "/"-separated absolute paths are found.</summary>
    public int Find(ReadOnlySpan<char> path)
    {
        if (path.Length == 0 || path[0] != '/') return None;
        int current = Root;
        if (path.Length == 1) return current;
        var rest = path[1..];
        while (true)
        {
            int slash = rest.IndexOf('/');
            var name = slash < 0 ? rest : rest[..slash];
            current = FindChild(current, name, JavaHashOrder.StringHash(name));
            if (current == None || slash < 0) return current;
            rest = rest[(slash + 1)..];
        }
    }

    public int FindChild(int parent, ReadOnlySpan<char> name, int nameHash)
    {
        for (int index = _buckets[BucketOf(parent, nameHash)]; index != None;)
        {
            ref var slot = ref this[index];
            if (slot.NameHash == nameHash && slot.Parent == parent && NameEquals(index, ref slot, name)) return index;
            index = slot.HashNext;
        }
        return None;
    }

    /// <summary>
    /// Adds a child under a parent that has none of that name; the caller fills in the rest of the slot. The name is
    /// copied into the slot, so a caller may pass a slice of a longer path.
    /// </summary>
    public int AddChild(int parent, ReadOnlySpan<char> name)
    {
        int nameHash = JavaHashOrder.StringHash(name);
        int index = Allocate();
        ref var parentSlot = ref this[parent];
        if (parentSlot.NextChildSequence == uint.MaxValue) RenumberChildren(parent);
        if (parentSlot.ChildCapacity == 0) parentSlot.ChildCapacity = ChildrenInitialCapacity;
        parentSlot.ChildCount++;
        // Java's HashMap doubles its table once it holds more than three quarters of it, and never shrinks it.
        if (parentSlot.ChildCount > (int)(parentSlot.ChildCapacity * 0.75f) && parentSlot.ChildCapacity < 1 << 30)
        {
            parentSlot.ChildCapacity <<= 1;
        }
        ref var slot = ref this[index];
        slot = default;
        SetName(index, ref slot, name);
        slot.NameHash = nameHash;
        slot.Parent = parent;
        slot.Sequence = parentSlot.NextChildSequence++;
        slot.FirstChild = None;
        slot.PrevSibling = None;
        slot.NextSibling = parentSlot.FirstChild;
        if (parentSlot.FirstChild != None) this[parentSlot.FirstChild].PrevSibling = index;
        parentSlot.FirstChild = index;
        int bucket = BucketOf(parent, nameHash);
        slot.HashNext = _buckets[bucket];
        _buckets[bucket] = index;
        _orderedChildren.Remove(parent);
        Count++;
        if (Count > _buckets.Length) Rehash(_buckets.Length * 2);
        return index;
    }

    /// <summary>Unlinks a childless node from its parent and the index, and frees its slot.</summary>
    public void Remove(int index)
    {
        ref var slot = ref this[index];
        if (slot.FirstChild != None) throw new InvariantViolationException("a node is freed before its children");
        int parent = slot.Parent;
        ref var parentSlot = ref this[parent];
        if (slot.PrevSibling != None) this[slot.PrevSibling].NextSibling = slot.NextSibling;
        else parentSlot.FirstChild = slot.NextSibling;
        if (slot.NextSibling != None) this[slot.NextSibling].PrevSibling = slot.PrevSibling;
        parentSlot.ChildCount--;
        _orderedChildren.Remove(parent);
        _orderedChildren.Remove(index);

        ref int link = ref _buckets[BucketOf(parent, slot.NameHash)];
        while (link != index) link = ref this[link].HashNext;
        link = slot.HashNext;

        if (slot.NameStorage == NameStorage.Long) _longNames.Remove(index);
        slot = default;
        slot.Parent = _freeHead;
        _freeHead = index;
        Count--;
    }

    /// <summary>
    /// The children's names in the order Java's HashSet iterates them: by bucket of the spread name hash in the
    /// table size the set has grown to, then by insertion within a bucket. The array is shared until the next
    /// change of this node's children and never changed afterwards, so a caller may keep it.
    /// </summary>
    public string[] OrderedChildren(int parent)
    {
        if (_orderedChildren.TryGetValue(parent, out var cached)) return cached;
        ref var parentSlot = ref this[parent];
        int count = parentSlot.ChildCount;
        if (count == 0) return [];
        int mask = Math.Max(parentSlot.ChildCapacity, 1) - 1;
        var keys = new long[count];
        var names = new string[count];
        int at = 0;
        for (int child = parentSlot.FirstChild; child != None; child = this[child].NextSibling)
        {
            ref var slot = ref this[child];
            keys[at] = JavaHashOrder.SortKey(JavaHashOrder.Spread(slot.NameHash) & mask, slot.Sequence);
            names[at] = NameOf(child);
            at++;
        }
        Array.Sort(keys, names);
        if (_orderedChildren.Count >= MaxCachedChildLists) _orderedChildren.Clear();
        _orderedChildren[parent] = names;
        return names;
    }

    /// <summary>Child slots, newest first (not the order clients see).</summary>
    public ChildEnumerable ChildrenOf(int parent) => new(this, parent);

    public readonly struct ChildEnumerable(NodeStore store, int parent)
    {
        public ChildEnumerator GetEnumerator() => new(store, store[parent].FirstChild);
    }

    public struct ChildEnumerator(NodeStore store, int first)
    {
        private int _next = first;

        public int Current { get; private set; } = None;

        public bool MoveNext()
        {
            if (_next == None) return false;
            Current = _next;
            _next = store[_next].NextSibling;
            return true;
        }
    }

    /// <summary>
    /// Gives the children sequences 0..n-1 in their present order, when the next sequence would not fit: the order
    /// within a bucket depends only on which came first, which renumbering keeps.
    /// </summary>
    private void RenumberChildren(int parent)
    {
        var children = new List<int>(this[parent].ChildCount);
        foreach (int child in ChildrenOf(parent)) children.Add(child);
        children.Sort((a, b) => this[a].Sequence.CompareTo(this[b].Sequence));
        uint sequence = 0;
        foreach (int child in children) this[child].Sequence = sequence++;
        this[parent].NextChildSequence = sequence;
    }

    private int Allocate()
    {
        if (_freeHead != None)
        {
            int free = _freeHead;
            _freeHead = this[free].Parent;
            return free;
        }
        int chunk = _highWater >> ChunkShift;
        if (chunk == _chunks.Length) Array.Resize(ref _chunks, Math.Max(4, _chunks.Length * 2));
        // A chunk is made when the first slot in it is needed, so at most one chunk is allocated ahead of use.
        _chunks[chunk] ??= new NodeSlot[ChunkLength];
        return _highWater++;
    }

    private int BucketOf(int parent, int nameHash)
    {
        uint mixed = (uint)nameHash * 0x9E3779B1u ^ (uint)parent * 0x85EBCA77u;
        return (int)((mixed ^ (mixed >> 15)) & (uint)(_buckets.Length - 1));
    }

    private void Rehash(int size)
    {
        _buckets = new int[size];
        Array.Fill(_buckets, None);
        for (int index = 0; index < _highWater; index++)
        {
            ref var slot = ref this[index];
            if (slot.NameStorage == NameStorage.Free || index == Root) continue;
            int bucket = BucketOf(slot.Parent, slot.NameHash);
            slot.HashNext = _buckets[bucket];
            _buckets[bucket] = index;
        }
    }
}
