using Warden.Protocol;
using Warden.Storage;

namespace Warden.Data.Tests;

/// <summary>
/// The tree's compact store: nodes found by (parent, name) instead of full paths, children linked instead of a set
/// per parent, ACL lists interned and counted. What a client sees must not change: children in Apache's order,
/// stats as Apache computes them, and ACLs that come and go with their nodes.
/// </summary>
public class CompactStoreTests
{
    private readonly DataTree _tree = new();
    private long _zxid;

    private ApplyResult Apply(Txn txn, long session = 1) =>
        _tree.Apply(new TxnHeader(session, 0, ++_zxid, 1000 + _zxid, (int)txn.Type), txn);

    private ApplyResult Create(string path, List<Acl>? acl = null, byte[]? data = null, bool ephemeral = false, long session = 1) =>
        Apply(new CreateTxn(path, data ?? [1, 2], acl ?? [.. Acl.OpenUnsafe], ephemeral, -1), session);

    private static List<Acl> DigestAcl() => [new(Perms.All, new Id(new string("digest"), new string("bob:hash=")))];

    [Fact]
    public void ChildrenComeOutAsApacheListedThemAfterCreatesAndDeletes()
    {
        // The same history JavaHashOrderTests replays on a bare set, here through creates and deletes of znodes;
        // the expected list is what Apache ZooKeeper 3.8.0 returned for it.
        Create("/p");
        var inserted = Enumerable.Range(0, 40).Select(i => $"c{i}").Concat(["zk", "node-a", "lock-", "x", "member_00001", "Ärger", "a_b"]);
        foreach (var name in inserted) Create("/p/" + name);
        foreach (var name in new[] { "c3", "c17", "zk", "c30" }) Apply(new DeleteTxn("/p/" + name));
        foreach (var name in new[] { "c17", "zz", "c3" }) Create("/p/" + name);
        string[] apache =
        [
            "c31", "zz", "c11", "c33", "c10", "c32", "c13", "c35", "c12", "c34", "a_b", "c15", "c37", "member_00001", "c14", "c36", "lock-", "c39", "c17", "c16", "c38", "c19", "c18", "node-a", "Ärger", "c20", "c22", "c21", "c24", "c23", "c26", "c25", "c28", "c27", "c29", "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "x",
        ];
        Assert.Equal(apache, _tree.GetNode("/p")!.Children);
    }

    [Fact]
    public void ChildrenFollowJavasHashSetThroughGrowthAndChurnUnderManyParents()
    {
        // A model run: each parent's history of adds and removes is replayed on JavaOrderedSet (checked against
        // Apache's output above) and the tree must list the same order after every step.
        const int seed = 20261207;
        var random = new Random(seed);
        string[] parents = ["/a", "/b", "/a/deep"];
        var models = new Dictionary<string, JavaOrderedSet>();
        foreach (var parent in parents)
        {
            Create(parent);
            models[parent] = new JavaOrderedSet(8);
        }
        // /a also holds /a/deep, which the model of /a must count too.
        models["/a"].Add("deep");
        for (int step = 0; step < 3000; step++)
        {
            string parent = parents[random.Next(parents.Length)];
            string name = "n" + random.Next(400);
            var model = models[parent];
            if (model.Contains(name))
            {
                Assert.Equal(ErrorCode.Ok, Apply(new DeleteTxn(parent + "/" + name)).Error);
                model.Remove(name);
            }
            else
            {
                Assert.Equal(ErrorCode.Ok, Create(parent + "/" + name).Error);
                model.Add(name);
            }
            if (step % 50 == 0 || step == 2999)
            {
                foreach (var p in parents) Assert.Equal(models[p].Ordered(), _tree.GetNode(p)!.Children);
            }
        }
        foreach (var p in parents) Assert.Equal(models[p].Count, _tree.GetNode(p)!.ToStat().NumChildren);
    }

    [Fact]
    public void ANodeMadeAfterADeleteStartsWithNoneOfTheDeletedNodesState()
    {
        // A parent whose children grew its Java table to 64 buckets, then deleted with everything under it. The
        // node created next (it may reuse the freed place) must order its children as a fresh set of 8 buckets.
        Create("/old", acl: DigestAcl(), data: new byte[50]);
        for (int i = 0; i < 40; i++) Create($"/old/c{i}");
        Apply(new SetDataTxn("/old", [1], 5));
        for (int i = 0; i < 40; i++) Apply(new DeleteTxn($"/old/c{i}"));
        Apply(new DeleteTxn("/old"));
        string[] names = ["q1", "q9", "zz", "a7", "m3", "k"];
        var fresh = new JavaOrderedSet(8);
        var grown = new JavaOrderedSet(8);
        for (int i = 0; i < 40; i++) grown.Add($"c{i}");
        for (int i = 0; i < 40; i++) grown.Remove($"c{i}");
        foreach (var name in names)
        {
            fresh.Add(name);
            grown.Add(name);
        }
        Assert.NotEqual(fresh.Ordered(), grown.Ordered());

        var created = Create("/new", data: [7]);
        foreach (var name in names) Create("/new/" + name);
        Assert.Equal(fresh.Ordered(), _tree.GetNode("/new")!.Children);
        var stat = _tree.GetNode("/new")!.ToStat();
        Assert.Equal(created.Stat!.Value.Czxid, stat.Czxid);
        Assert.Equal(0, stat.Version);
        Assert.Equal(0, stat.Aversion);
        Assert.Equal(1, stat.DataLength);
        Assert.Equal(names.Length, stat.NumChildren);
        Assert.Equal(names.Length, stat.Cversion);
        Assert.Equal([.. Acl.OpenUnsafe], _tree.GetNode("/new")!.Acl);
        Assert.Null(_tree.GetNode("/old"));
        Assert.Null(_tree.GetNode("/old/c0"));
    }

    [Fact]
    public void EveryStatFieldIsKeptPerNodeAmongManySiblings()
    {
        Create("/s");
        var expected = new Dictionary<string, Stat>();
        for (int i = 0; i < 300; i++)
        {
            string path = $"/s/n{i}";
            expected[path] = Create(path, data: new byte[i % 7], ephemeral: i % 3 == 0, session: 100 + i % 5).Stat!.Value;
        }
        for (int i = 0; i < 300; i += 4)
        {
            string path = $"/s/n{i}";
            expected[path] = Apply(new SetDataTxn(path, new byte[i % 11], expected[path].Version + 1)).Stat!.Value;
        }
        for (int i = 1; i < 300; i += 6)
        {
            string path = $"/s/n{i}";
            expected[path] = Apply(new SetAclTxn(path, DigestAcl(), expected[path].Aversion + 1)).Stat!.Value;
        }
        for (int i = 2; i < 300; i += 10)
        {
            Apply(new DeleteTxn($"/s/n{i}"));
            expected.Remove($"/s/n{i}");
        }
        foreach (var (path, stat) in expected)
        {
            var node = _tree.GetNode(path)!;
            Assert.Equal(stat, node.ToStat());
            int i = int.Parse(path[4..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(i % 3 == 0 ? 100 + i % 5 : 0, node.EphemeralOwner);
            Assert.Equal(i % 4 == 0 ? i % 11 : i % 7, node.Data!.Length);
        }
        var parent = _tree.GetNode("/s")!.ToStat();
        Assert.Equal(expected.Count, parent.NumChildren);
        Assert.Equal(300 * 2 - expected.Count, parent.Cversion);
        Assert.Equal(_zxid, parent.Pzxid);
    }

    [Fact]
    public void EqualAclListsAreKeptOnceAndCountedUntilTheirLastNodeGoes()
    {
        int builtIn = _tree.Acls.Count;
        Create("/acl");
        for (int i = 0; i < 100; i++) Create($"/acl/d{i}", acl: DigestAcl());
        for (int i = 0; i < 20; i++) Create($"/acl/e{i}", acl: DigestAcl(), ephemeral: true, session: 77);
        Assert.Equal(builtIn + 1, _tree.Acls.Count);
        Assert.Equal(120, _tree.Acls.ReferencesTo(DigestAcl()));
        Assert.Same(_tree.GetNode("/acl/d0")!.Acl, _tree.GetNode("/acl/d99")!.Acl);

        for (int i = 0; i < 99; i++) Apply(new DeleteTxn($"/acl/d{i}"));
        Assert.Equal(21, _tree.Acls.ReferencesTo(DigestAcl()));
        Apply(new CloseSessionTxn(null), session: 77);
        Assert.Equal(1, _tree.Acls.ReferencesTo(DigestAcl()));
        Assert.Null(_tree.GetNode("/acl/e0"));

        // setACL moves the node's count from one list to the other; the last user of a list takes it away.
        Apply(new SetAclTxn("/acl/d99", [.. Acl.OpenUnsafe], 1));
        Assert.Equal(0, _tree.Acls.ReferencesTo(DigestAcl()));
        Assert.Equal(builtIn, _tree.Acls.Count);
        Apply(new SetAclTxn("/acl", DigestAcl(), 1));
        Assert.Equal(1, _tree.Acls.ReferencesTo(DigestAcl()));
        Assert.Equal(DigestAcl(), _tree.GetNode("/acl")!.Acl);
        Assert.Equal([.. Acl.OpenUnsafe], _tree.GetNode("/acl/d99")!.Acl);
        // A list set again on its only node stays.
        Apply(new SetAclTxn("/acl", DigestAcl(), 2));
        Assert.Equal(1, _tree.Acls.ReferencesTo(DigestAcl()));
        Assert.Equal(DigestAcl(), _tree.GetNode("/acl")!.Acl);
    }

    [Fact]
    public void OnlyExactPathsFindNodesAndCollidingNamesStayApart()
    {
        // "Aa" and "BB" have the same Java hash code, so they share a bucket in the name index.
        Assert.Equal(JavaHashOrder.StringHash("Aa"), JavaHashOrder.StringHash("BB"));
        Create("/h");
        Create("/h/Aa", data: [1]);
        Create("/h/BB", data: [2]);
        Create("/h/Aa/BB", data: [3]);
        Assert.Equal([1], _tree.GetNode("/h/Aa")!.Data);
        Assert.Equal([2], _tree.GetNode("/h/BB")!.Data);
        Assert.Equal([3], _tree.GetNode("/h/Aa/BB")!.Data);
        Apply(new DeleteTxn("/h/Aa/BB"));
        Apply(new DeleteTxn("/h/Aa"));
        Assert.Null(_tree.GetNode("/h/Aa"));
        Assert.Equal([2], _tree.GetNode("/h/BB")!.Data);
        Assert.NotNull(_tree.GetNode("/"));
        foreach (var path in new[] { "", "h", "/h/", "//h", "/h//BB", "/zookeeper/", "/h/BB/", "/hh", "/h/B" })
        {
            Assert.Null(_tree.GetNode(path));
        }
        Assert.Equal(ErrorCode.NoNode, Create("/h/missing/child").Error);
        Assert.Equal(ErrorCode.NodeExists, Create("/h/BB").Error);
    }

    [Fact]
    public void NamesKeptInsideTheSlotAndNamesKeptApartAreFoundListedSizedAndFreedAlike()
    {
        // Up to 16 characters below U+0100 live inside the slot; longer names and any other character live apart.
        string[] names =
        [
            "a", "sixteen-chars-ok", "seventeen-chars-x", "Ärger-ÿ", "名前", "emoji-\U0001F600", "lock-0000000001",
            "a-name-much-longer-than-sixteen-characters", "sixteen-chars-oK", "\u0100",
        ];
        Create("/n");
        for (int i = 0; i < names.Length; i++) Create("/n/" + names[i], data: [(byte)i]);
        for (int i = 0; i < names.Length; i++) Assert.Equal([(byte)i], _tree.GetNode("/n/" + names[i])!.Data!);
        // Names differing only past the first bytes, or in the byte a wider character would truncate to, are apart.
        foreach (var absent in new[] { "sixteen-chars-o", "sixteen-chars-ok!", "Ärger-\u01FF", "\u0000", "seventeen-chars-y", "名" })
        {
            Assert.Null(_tree.GetNode("/n/" + absent));
        }
        Assert.Equal(names.Order(StringComparer.Ordinal), _tree.GetNode("/n")!.Children.Order(StringComparer.Ordinal));
        Assert.Equal(JavaHashOrder.Order(names, 16), _tree.GetNode("/n")!.Children);
        // Apache's data size counts each path's UTF-16 length and each node's data.
        long expected = _tree.Paths.Sum(path => (long)(path == "/" ? 1 : path.Length) + (_tree.GetNode(path)!.Data?.Length ?? 0));
        Assert.Equal(expected, _tree.ApproximateDataSize());

        // Freed slots are reused: a short name where a long one was, and a long one where a short one was.
        Apply(new DeleteTxn("/n/a-name-much-longer-than-sixteen-characters"));
        Apply(new DeleteTxn("/n/a"));
        Create("/n/b", data: [20]);
        Create("/n/another-name-longer-than-sixteen", data: [21]);
        Assert.Null(_tree.GetNode("/n/a-name-much-longer-than-sixteen-characters"));
        Assert.Null(_tree.GetNode("/n/a"));
        Assert.Equal([20], _tree.GetNode("/n/b")!.Data!);
        Assert.Equal([21], _tree.GetNode("/n/another-name-longer-than-sixteen")!.Data!);
        Assert.Equal(names.Length, _tree.GetNode("/n")!.ChildCount);
        Assert.Contains("another-name-longer-than-sixteen", _tree.GetNode("/n")!.Children);
        Assert.DoesNotContain("a", _tree.GetNode("/n")!.Children);

        // A tree rebuilt from this one's walk (as a snapshot is) has the same nodes under the same names.
        Create("/n/b/c-with-a-long-enough-name", data: [22]);
        var copy = DataTree.Restore(_tree.PreOrder(), _zxid);
        Assert.Equal(Describe(_tree), Describe(copy));
        Assert.Equal([22], copy.GetNode("/n/b/c-with-a-long-enough-name")!.Data!);
    }

    [Fact]
    public void AListOfChildrenHandedOutStaysAsItWasWhenTheChildrenChange()
    {
        Create("/l");
        Create("/l/a");
        var before = _tree.GetNode("/l")!.Children;
        Create("/l/b");
        Apply(new DeleteTxn("/l/a"));
        Assert.Equal(["a"], before);
        Assert.Equal(["b"], _tree.GetNode("/l")!.Children);
    }

    [Fact]
    public void ApachesSnapshotRestoresInItsOwnOrderAndWritesBackTheSameTree()
    {
        // snapshot.1f was written by Apache ZooKeeper 3.8.0 (tests/Warden.Storage.Tests/Fixtures/README.md).
        string file = Path.Combine(AppContext.BaseDirectory, "Fixtures", "apache", "version-2", "snapshot.1f");
        var apache = SnapshotFile.Read(file);
        // Apache's formatter lists the nodes in the file's order, which is its children's HashSet order.
        var formatter = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "snapshot.1f.formatter.txt"));
        var pathsInFile = formatter.Where((line, i) => i > 0 && formatter[i - 1] == "----" && line.StartsWith('/')).ToList();
        Assert.Equal(apache.Tree.NodeCount, pathsInFile.Count);
        Assert.Equal(pathsInFile, apache.Tree.PreOrder().Select(entry => entry.Path));

        // Every node's ACL list is one of the cache's, and the counts add up to the nodes.
        var acls = apache.Tree.PreOrder().Select(entry => entry.Node.Acl).ToList();
        var distinct = acls.Distinct(AclCache.AclListComparer.Instance).ToList();
        Assert.Equal(distinct.Count, apache.Tree.Acls.Count);
        Assert.Equal(acls.Count, distinct.Sum(list => apache.Tree.Acls.ReferencesTo(list)));

        string directory = Path.Combine(Path.GetTempPath(), $"warden-data-tests-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            string written = SnapshotStore.Write(directory, apache.Tree, apache.SessionTimeoutsMs, apache.Zxid);
            var reread = SnapshotFile.Read(written);
            Assert.Equal(Describe(apache.Tree), Describe(reread.Tree));
            Assert.Equal(apache.Tree.Acls.Count, reread.Tree.Acls.Count);
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    private static List<string> Describe(DataTree tree) => tree.PreOrder().Select(entry =>
    {
        var (path, node) = entry;
        string acl = string.Join(",", node.Acl.Select(a => $"{a.Id.Scheme}:{a.Id.Identity}:{(int)a.Perms}"));
        string data = node.Data is null ? "null" : Convert.ToHexString(node.Data);
        return $"{path} {node.ToStat()} owner={node.EphemeralOwner} cversion={node.Cversion} {acl} {data}";
    }).ToList();
}
