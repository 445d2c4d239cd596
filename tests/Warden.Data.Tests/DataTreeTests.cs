using Warden.Data;
using Warden.Protocol;

namespace Warden.Data.Tests;

public class DataTreeTests
{
    private readonly DataTree _tree = new();
    private long _zxid;

    private ApplyResult Apply(Txn txn, long session = 1) =>
        _tree.Apply(new TxnHeader(session, 0, ++_zxid, 1000 + _zxid, (int)txn.Type), txn);

    private ApplyResult Create(string path, bool ephemeral = false, long session = 1) =>
        Apply(new CreateTxn(path, [1, 2], [.. Acl.OpenUnsafe], ephemeral, -1), session);

    [Fact]
    public void AFreshTreeLooksLikeApaches()
    {
        Assert.Equal(5, _tree.NodeCountAsReported);
        Assert.Equal(["zookeeper"], _tree.GetNode("/")!.Children);
        Assert.Equal(["config", "quota"], _tree.GetNode("/zookeeper")!.Children);
        var config = _tree.GetNode(DataTree.ConfigPath)!;
        Assert.Equal(-1, config.ToStat().Aversion);
        Assert.Equal([new Acl(Perms.Read, Id.Anyone)], config.Acl);
        // The visible cversion is computed (stored 0, one child), so a fresh root shows -1, as on Apache.
        Assert.Equal(-1, _tree.GetNode("/")!.ToStat().Cversion);
    }

    [Fact]
    public void CreateBumpsTheParentsCversionAndPzxid()
    {
        Create("/a");
        Create("/a/b");
        var parent = _tree.GetNode("/a")!.ToStat();
        Assert.Equal(1, parent.Czxid);
        Assert.Equal(2, parent.Pzxid);
        Assert.Equal(1, parent.NumChildren);
        Assert.Equal(1, parent.Cversion);
        var child = _tree.GetNode("/a/b")!.ToStat();
        Assert.Equal(new Stat(2, 2, 1002, 1002, 0, 0, 0, 0, 2, 0, 2), child);
    }

    [Fact]
    public void DeleteMovesPzxidAndTheVisibleCversionAsApacheComputesIt()
    {
        Create("/a");
        Create("/a/b");
        Create("/a/c");
        Apply(new DeleteTxn("/a/b"));
        var stat = _tree.GetNode("/a")!.ToStat();
        Assert.Equal(4, stat.Pzxid);
        Assert.Equal(1, stat.NumChildren);
        // Stored cversion counts the two creates; clients see 2 * 2 - 1.
        Assert.Equal(3, stat.Cversion);
        Assert.Null(_tree.GetNode("/a/b"));
    }

    [Fact]
    public void SetDataTakesTheVersionTheTxnCarries()
    {
        Create("/a");
        var result = Apply(new SetDataTxn("/a", [9], 1));
        Assert.Equal(1, result.Stat!.Value.Version);
        Assert.Equal(2, result.Stat!.Value.Mzxid);
        Assert.Equal(1, result.Stat!.Value.DataLength);
    }

    [Fact]
    public void AFailedMultiAppliesNothingAndReportsApachesCodes()
    {
        Create("/a");
        var result = Apply(new MultiTxn([
            new CreateTxn("/x", null, [.. Acl.OpenUnsafe], false, -1),
            new ErrorTxn(ErrorCode.NoNode),
            new DeleteTxn("/a"),
        ]));
        Assert.Equal([ErrorCode.Ok, ErrorCode.NoNode, ErrorCode.RuntimeInconsistency], result.MultiResults!.Select(r => r.Error));
        Assert.Equal(ErrorCode.NoNode, result.Error);
        Assert.Null(_tree.GetNode("/x"));
        Assert.NotNull(_tree.GetNode("/a"));
        Assert.Equal(2, _tree.LastProcessedZxid);
    }

    [Fact]
    public void ClosingASessionDeletesItsEphemeralsInTheTxnsOrder()
    {
        Create("/a");
        Create("/a/e1", ephemeral: true, session: 7);
        Create("/a/e2", ephemeral: true, session: 7);
        Create("/a/other", ephemeral: true, session: 8);
        Assert.Equal(["/a/e1", "/a/e2"], _tree.EphemeralsOf(7).Order());
        var watcher = new RecordingWatcher();
        _tree.DataWatches.Add("/a/e2", watcher);
        _tree.DataWatches.Add("/a/e1", watcher);
        Apply(new CloseSessionTxn(["/a/e2", "/a/e1"]), session: 7);
        Assert.Equal(["/a/e2", "/a/e1"], watcher.Events.Select(e => e.Path));
        Assert.Equal(["other"], _tree.GetNode("/a")!.Children);
        Assert.Empty(_tree.EphemeralsOf(7));
    }

    [Fact]
    public void ZxidsMustRise()
    {
        Create("/a");
        Assert.Throws<InvariantViolationException>(() =>
            _tree.Apply(new TxnHeader(1, 0, 1, 0, (int)OpCode.Create), new CreateTxn("/b", null, [], false, -1)));
    }

    [Fact]
    public void RestoreRebuildsChildrenAndEphemeralsFromAPreOrderWalk()
    {
        Create("/a");
        Create("/a/e", ephemeral: true, session: 5);
        Apply(new CreateContainerTxn("/c", null, [.. Acl.OpenUnsafe], -1));
        var restored = DataTree.Restore(_tree.PreOrder().ToList(), _tree.LastProcessedZxid);
        Assert.Equal(_tree.PreOrder().Select(p => p.Path), restored.PreOrder().Select(p => p.Path));
        Assert.Equal(["/a/e"], restored.EphemeralsOf(5));
        Assert.Equal(["/c"], restored.Containers);
        Assert.Equal(_tree.GetNode("/a")!.ToStat(), restored.GetNode("/a")!.ToStat());
        Assert.Equal(3, restored.LastProcessedZxid);
    }
}

internal static class ListExtensions
{
    public static List<string> Order(this List<string> list) => [.. list.Order(StringComparer.Ordinal)];
}

internal sealed class RecordingWatcher : IWatcher
{
    public List<WatchedEvent> Events { get; } = [];
    public void Process(WatchedEvent watchedEvent) => Events.Add(watchedEvent);
}
