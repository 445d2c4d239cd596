using System.Text;
using Warden.Data;
using Warden.Protocol;
using Warden.Storage;

namespace Warden.Storage.Tests;

/// <summary>
/// A fuzzy snapshot is taken a slice at a time while txns keep being applied between the slices. Loaded back and
/// with the log replayed from its zxid, it must give the tree the server had, node for node, quotas included.
/// </summary>
public sealed class FuzzySnapshotTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private const long Session = 0x1000000abcd0000;
    private const long Other = 0x1000000abcd0001;
    private static readonly List<Acl> Open = [.. Acl.OpenUnsafe];

    /// <summary>Drives a live tree with random writes, remembering every txn, as a server's log would.</summary>
    private sealed class Writer(DataTree tree, int seed)
    {
        private readonly Random _random = new(seed);
        private readonly List<string> _paths = [];
        private int _nextName;

        public List<TxnLogEntry> Log { get; } = [];
        public long Zxid { get; private set; }

        public void Apply(Txn txn, long session = Session)
        {
            var entry = new TxnLogEntry(new TxnHeader(session, (int)(Zxid + 1), Zxid + 1, 1_700_000_000_000 + Zxid, (int)txn.Type), txn);
            tree.Apply(entry.Header, entry.Txn);
            Zxid++;
            Log.Add(entry);
        }

        public void Create(string path, string data = "", long ephemeralOwner = 0, long session = Session)
        {
            var parent = tree.GetNode(PathValidation.Parent(path))!;
            Apply(new CreateTxn(path, Encoding.UTF8.GetBytes(data), Open, ephemeralOwner != 0, parent.Cversion + 1), session);
            _paths.Add(path);
        }

        /// <summary>One random change: a create anywhere (also under parents the capture has passed), a delete, setData or setACL.</summary>
        public void Step()
        {
            var live = _paths.Where(p => tree.GetNode(p) is not null).ToList();
            string target = live.Count == 0 ? "/a" : live[_random.Next(live.Count)];
            var node = tree.GetNode(target)!;
            switch (_random.Next(6))
            {
                case 0 or 1:
                    Create($"{target}/n{_nextName++}", "c" + _nextName);
                    break;
                case 2 when node.ChildCount == 0 && target.Count(c => c == '/') > 1:
                    Apply(new DeleteTxn(target));
                    break;
                case 3:
                    Apply(new SetDataTxn(target, Encoding.UTF8.GetBytes(new string('d', _random.Next(40))), node.Version + 1));
                    break;
                case 4:
                    Apply(new SetAclTxn(target, [new Acl(Perms.Read, new Id("world", "anyone"))], node.Aversion + 1));
                    break;
                default:
                    Create($"{target}/e{_nextName++}", "eph", ephemeralOwner: Other, session: Other);
                    break;
            }
        }
    }

    private static List<string> Describe(DataTree tree) => [.. Txns.Describe(tree).Order(StringComparer.Ordinal)];

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 20)]
    public void A_snapshot_taken_while_writes_go_on_replays_to_the_live_tree(int seed, int nodesPerSlice)
    {
        var tree = new DataTree();
        var writer = new Writer(tree, seed);
        writer.Apply(new CreateSessionTxn(30000));
        writer.Apply(new CreateSessionTxn(10000), Other);
        writer.Create("/a", "root-a");
        writer.Create("/b", "root-b");
        writer.Create("/zookeeper/quota/a");
        writer.Create("/zookeeper/quota/a/" + QuotaPaths.LimitNode, "count=-1,bytes=-1");
        writer.Create("/zookeeper/quota/a/" + QuotaPaths.StatNode, "count=0,bytes=0");
        for (int i = 0; i < 200; i++) writer.Step();

        var capture = new FuzzyCapture(tree, new Dictionary<long, int> { [Session] = 30000, [Other] = 10000 });
        long startZxid = writer.Zxid;
        Assert.Equal(startZxid, capture.Zxid);
        int slices = 0;
        while (!capture.Step(nodesPerSlice))
        {
            slices++;
            for (int i = 0; i < 3; i++) writer.Step();
        }
        for (int i = 0; i < 20; i++) writer.Step();
        writer.Apply(new CloseSessionTxn([.. tree.EphemeralsOf(Other)]), Other);
        var image = capture.Finish();
        Assert.True(slices > 3);
        // The capture is fuzzy: it differs from the tree at its zxid.
        Assert.NotEqual(Describe(Txns.Apply(writer.Log.Where(e => e.Zxid <= startZxid))), Describe(Restore(image)));

        var database = new Database(_dir.Path);
        database.TakeSnapshot(image);
        using (var log = new TxnLogWriter(_dir.VersionDir, new TxnLogOptions { PreallocateBytes = 4096, ForceSync = false }))
        {
            foreach (var entry in writer.Log) log.Append(entry);
            log.Flush();
        }
        var loaded = new Database(_dir.Path).Load();

        Assert.Equal(writer.Zxid, loaded.LastZxid);
        Assert.Equal(Describe(tree), Describe(loaded.Tree));
        Assert.Equal(tree.EphemeralsOf(Session).Order(), loaded.Tree.EphemeralsOf(Session).Order());
        Assert.Empty(loaded.Tree.EphemeralsOf(Other));
        Assert.Equal(new Dictionary<long, int> { [Session] = 30000 }, loaded.SessionTimeoutsMs);
        foreach (var (path, node) in tree.PreOrder())
        {
            Assert.Equal(node.Children.Order(StringComparer.Ordinal), loaded.Tree.GetNode(path)!.Children.Order(StringComparer.Ordinal));
        }
    }

    private static DataTree Restore(SnapshotImage image) =>
        SnapStream.Read(SnapStream.ToBytes(image), image.Zxid).Tree;

    [Fact]
    public void A_quota_usage_record_read_apart_from_the_nodes_it_counts_is_counted_again_on_load()
    {
        int nodeCount = new DataTree().NodeCount + 5;
        bool sawStaleRecord = false;
        // A node created under the quota at every point of the walk: wherever the usage record was read, the loaded
        // tree's record counts the nodes the loaded tree has.
        for (int createdAfter = 0; createdAfter <= nodeCount; createdAfter++)
        {
            var tree = new DataTree();
            var writer = new Writer(tree, 5);
            writer.Create("/q");
            writer.Create("/zookeeper/quota/q");
            writer.Create("/zookeeper/quota/q/" + QuotaPaths.LimitNode, "count=-1,bytes=-1");
            writer.Create("/zookeeper/quota/q/" + QuotaPaths.StatNode, "count=0,bytes=0");
            var capture = new FuzzyCapture(tree, new Dictionary<long, int>());
            bool done = false;
            while (!done)
            {
                if (capture.NodesCaptured == createdAfter) writer.Create("/q/late", "12345");
                done = capture.Step(1);
            }
            var image = capture.Finish();
            var stored = image.Nodes.Single(n => n.Path == "/zookeeper/quota/q/" + QuotaPaths.StatNode);
            bool hasLate = image.Nodes.Any(n => n.Path == "/q/late");
            sawStaleRecord |= Encoding.UTF8.GetString(stored.Data!) != (hasLate ? "count=2,bytes=5" : "count=1,bytes=0");

            var restored = Restore(image);
            string expected = restored.GetNode("/q/late") is null ? "count=1,bytes=0" : "count=2,bytes=5";
            Assert.Equal(expected, Encoding.UTF8.GetString(restored.GetNode("/zookeeper/quota/q/" + QuotaPaths.StatNode)!.Data!));
        }
        Assert.True(sawStaleRecord, "no walk read a usage record that disagrees with the nodes it captured");
    }
}
