using Warden.Data;
using Warden.Protocol;

namespace Warden.Data.Tests;

public class WatchManagerTests
{
    private readonly DataTree _tree = new();
    private long _zxid;

    private void Apply(Txn txn) => _tree.Apply(new TxnHeader(1, 0, ++_zxid, 0, (int)txn.Type), txn);
    private void Create(string path) => Apply(new CreateTxn(path, null, [.. Acl.OpenUnsafe], false, -1));

    [Fact]
    public void AOneShotDataWatchFiresOnce()
    {
        Create("/a");
        var watcher = new RecordingWatcher();
        _tree.DataWatches.Add("/a", watcher);
        Apply(new SetDataTxn("/a", [1], 1));
        Apply(new SetDataTxn("/a", [2], 2));
        Assert.Equal([new WatchedEvent(EventType.NodeDataChanged, KeeperState.SyncConnected, "/a")], watcher.Events);
    }

    [Fact]
    public void DeletingANodeWithBothWatchesTellsTheWatcherOnceThenThePanentsChildWatch()
    {
        Create("/a");
        Create("/a/b");
        var watcher = new RecordingWatcher();
        _tree.DataWatches.Add("/a/b", watcher);
        _tree.ChildWatches.Add("/a/b", watcher);
        _tree.ChildWatches.Add("/a", watcher);
        Apply(new DeleteTxn("/a/b"));
        Assert.Equal([(EventType.NodeDeleted, "/a/b"), (EventType.NodeChildrenChanged, "/a")],
            watcher.Events.Select(e => (e.Type, e.Path)));
        Assert.Equal(0, _tree.DataWatches.Count + _tree.ChildWatches.Count);
    }

    [Fact]
    public void AnExistsWatchOnAMissingNodeFiresWhenItIsCreated()
    {
        var watcher = new RecordingWatcher();
        _tree.DataWatches.Add("/later", watcher);
        Create("/later");
        Assert.Equal(EventType.NodeCreated, Assert.Single(watcher.Events).Type);
    }

    [Fact]
    public void PersistentWatchesStayAndRecursiveOnesSkipChildEvents()
    {
        Create("/r");
        var persistent = new RecordingWatcher();
        var recursive = new RecordingWatcher();
        _tree.AddPersistentWatch("/r", persistent, WatchMode.Persistent);
        _tree.AddPersistentWatch("/r", recursive, WatchMode.PersistentRecursive);
        Create("/r/x");
        Apply(new SetDataTxn("/r/x", [1], 1));
        Apply(new SetDataTxn("/r", [1], 1));
        Apply(new SetDataTxn("/r", [2], 2));
        Assert.Equal([(EventType.NodeChildrenChanged, "/r"), (EventType.NodeDataChanged, "/r"), (EventType.NodeDataChanged, "/r")],
            persistent.Events.Select(e => (e.Type, e.Path)));
        Assert.Equal([(EventType.NodeCreated, "/r/x"), (EventType.NodeDataChanged, "/r/x"), (EventType.NodeDataChanged, "/r"), (EventType.NodeDataChanged, "/r")],
            recursive.Events.Select(e => (e.Type, e.Path)));
    }

    [Fact]
    public void RemovingAWatcherDropsAllItsWatches()
    {
        Create("/a");
        var watcher = new RecordingWatcher();
        _tree.DataWatches.Add("/a", watcher);
        _tree.ChildWatches.Add("/a", watcher);
        _tree.RemoveWatcher(watcher);
        Create("/a/b");
        Apply(new SetDataTxn("/a", [1], 1));
        Assert.Empty(watcher.Events);
    }
}
