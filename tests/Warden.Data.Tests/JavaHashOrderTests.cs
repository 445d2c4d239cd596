using Warden.Data;

namespace Warden.Data.Tests;

/// <summary>
/// Child lists as Apache ZooKeeper 3.8.0 returned them, captured with kazoo: forty-seven children created in
/// one order, four deleted, three (re)created. Apache lists children in java.util.HashSet order.
/// </summary>
public class JavaHashOrderTests
{
    [Fact]
    public void StringHashIsJavas()
    {
        Assert.Equal(0, JavaHashOrder.StringHash(""));
        Assert.Equal(97, JavaHashOrder.StringHash("a"));
        Assert.Equal(99162322, JavaHashOrder.StringHash("hello"));
        Assert.Equal(-502996712, JavaHashOrder.StringHash("zookeeper-quota-config"));
    }

    [Fact]
    public void ChildrenComeOutInApachesOrder()
    {
        var set = new JavaOrderedSet(8);
        var inserted = Enumerable.Range(0, 40).Select(i => $"c{i}").Concat(["zk", "node-a", "lock-", "x", "member_00001", "Ärger", "a_b"]);
        foreach (var name in inserted) set.Add(name);
        foreach (var name in new[] { "c3", "c17", "zk", "c30" }) set.Remove(name);
        foreach (var name in new[] { "c17", "zz", "c3" }) set.Add(name);
        string[] apache =
        [
            "c31", "zz", "c11", "c33", "c10", "c32", "c13", "c35", "c12", "c34", "a_b", "c15", "c37", "member_00001", "c14", "c36", "lock-", "c39", "c17", "c16", "c38", "c19", "c18", "node-a", "Ärger", "c20", "c22", "c21", "c24", "c23", "c26", "c25", "c28", "c27", "c29", "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "x",
        ];
        Assert.Equal(apache, set.Ordered());
    }

    [Fact]
    public void ASmallSetKeepsBucketOrder()
    {
        var set = new JavaOrderedSet(8);
        foreach (var name in new[] { "b", "a", "c" }) set.Add(name);
        Assert.Equal(["a", "b", "c"], set.Ordered());
    }
}
