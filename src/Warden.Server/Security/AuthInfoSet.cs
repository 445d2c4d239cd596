using Warden.Data;
using Warden.Protocol;

namespace Warden.Server.Security;

/// <summary>
/// A connection's authenticated ids, kept as Apache keeps them: a set backed by a ConcurrentHashMap
/// (ServerCnxn.authInfo). The order shows to clients twice: in whoAmI replies and in the ACL an "auth" id
/// expands to, both of which list the set in its iteration order. That order is the map's bucket order,
/// bucket = spread(Id.hashCode()) &amp; (capacity - 1), entries of one bucket in insertion order.
/// </summary>
public static class AuthInfoSet
{
    /// <summary>Adds an id unless present (a set), then restores Apache's iteration order.</summary>
    public static void Add(List<Id> ids, Id id)
    {
        if (ids.Contains(id)) return;
        ids.Add(id);
        int capacity = Capacity(ids.Count);
        // OrderBy is stable, so ids of one bucket keep their insertion order.
        var ordered = ids.OrderBy(i => Bucket(i, capacity)).ToList();
        ids.Clear();
        ids.AddRange(ordered);
    }

    /// <summary>
    /// The jute-generated Id.hashCode: 17, then 37 × result + the hash of each field, in 32-bit wrapping arithmetic.
    /// </summary>
    public static int HashCode(Id id)
    {
        unchecked
        {
            int result = 17;
            result = 37 * result + JavaHashOrder.StringHash(id.Scheme);
            result = 37 * result + JavaHashOrder.StringHash(id.Identity);
            return result;
        }
    }

    /// <summary>
    /// ConcurrentHashMap starts with 16 buckets and doubles when it holds three quarters of them. (A resize may
    /// reorder a bucket's entries there; twelve ids on one connection is far past any real client.)
    /// </summary>
    private static int Capacity(int count)
    {
        int capacity = 16;
        while (count >= capacity - (capacity >> 2)) capacity <<= 1;
        return capacity;
    }

    private static int Bucket(Id id, int capacity) => (JavaHashOrder.Spread(HashCode(id)) & 0x7fffffff) & (capacity - 1);
}
