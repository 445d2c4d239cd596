using Warden.Protocol;

namespace Warden.Data;

/// <summary>
/// Every distinct ACL list in the tree, kept once and counted, as Apache's ReferenceCountedACLCache keeps them:
/// nodes hold a small index instead of a list of their own. Almost every node of a real tree shares one of a
/// handful of lists (most often world:anyone with all permissions), so a node's ACL costs four bytes.
/// A list goes when its last node does, and its index is given to the next new list.
/// </summary>
public sealed class AclCache
{
    private readonly List<Acl[]?> _lists = [];
    private readonly List<long> _references = [];
    private readonly Dictionary<IReadOnlyList<Acl>, int> _indexByList = new(AclListComparer.Instance);
    private readonly Stack<int> _freeIndexes = new();

    /// <summary>How many distinct lists are in use.</summary>
    public int Count => _indexByList.Count;

    /// <summary>The list stored under an index. Shared: callers never change it.</summary>
    public IReadOnlyList<Acl> this[int index] => _lists[index] ?? throw new InvariantViolationException($"ACL index {index} is not in use");

    /// <summary>How many nodes use a list equal to this one (0 if none).</summary>
    public long ReferencesTo(IReadOnlyList<Acl> acl) =>
        _indexByList.TryGetValue(acl, out int index) ? _references[index] : 0;

    /// <summary>Counts one more node using this list and returns its index; an unseen list is copied in first.</summary>
    public int AddReference(IReadOnlyList<Acl> acl)
    {
        if (!_indexByList.TryGetValue(acl, out int index))
        {
            Acl[] copy = [.. acl];
            if (_freeIndexes.TryPop(out index))
            {
                _lists[index] = copy;
                _references[index] = 0;
            }
            else
            {
                index = _lists.Count;
                _lists.Add(copy);
                _references.Add(0);
            }
            _indexByList[copy] = index;
        }
        _references[index]++;
        return index;
    }

    /// <summary>Counts one node fewer using the list at this index; the list goes with its last node.</summary>
    public void RemoveReference(int index)
    {
        var list = _lists[index] ?? throw new InvariantViolationException($"ACL index {index} is not in use");
        if (--_references[index] > 0) return;
        _indexByList.Remove(list);
        _lists[index] = null;
        _freeIndexes.Push(index);
    }

    /// <summary>Compares lists by their entries in order, as java.util.List.equals does.</summary>
    public sealed class AclListComparer : IEqualityComparer<IReadOnlyList<Acl>>
    {
        public static readonly AclListComparer Instance = new();

        public bool Equals(IReadOnlyList<Acl>? x, IReadOnlyList<Acl>? y)
        {
            if (ReferenceEquals(x, y)) return true;
            if (x is null || y is null || x.Count != y.Count) return false;
            for (int i = 0; i < x.Count; i++)
            {
                if (x[i] != y[i]) return false;
            }
            return true;
        }

        public int GetHashCode(IReadOnlyList<Acl> acls)
        {
            var hash = new HashCode();
            for (int i = 0; i < acls.Count; i++) hash.Add(acls[i]);
            return hash.ToHashCode();
        }
    }
}
