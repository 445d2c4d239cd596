using Warden.Data;
using Warden.Protocol;

namespace Warden.Data.Tests;

/// <summary>
/// Events reach only watchers that may read the node (Apache with the CVE-2024-23944 fix), and
/// checkWatches answers whether anyone watches the exact path, as Apache's containsWatcher does.
/// </summary>
public class WatchReadFilterTests
{
    private static readonly Id Bob = new("digest", "bob:hash");
    private readonly DataTree _tree = new();
    private long _zxid;

    private void Apply(Txn txn) => _tree.Apply(new TxnHeader(1, 0, ++_zxid, 0, (int)txn.Type), txn);

    [Fact]
    public void ARecursiveWatchDoesNotReportANodeItsWatcherCannotRead()
    {
        var reader = new RecordingWatcher();
        var outsider = new RecordingWatcher();
        // The filter stands in for the server's ACL check: only `reader` holds bob's id.
        Func<IWatcher, IReadOnlyList<Acl>, bool> mayRead = (watcher, acl) =>
            acl.Any(a => a.Id == Id.Anyone) || (ReferenceEquals(watcher, reader) && acl.Any(a => a.Id == Bob));
        _tree.DataWatches.MayRead = mayRead;
        _tree.ChildWatches.MayRead = mayRead;
        Apply(new CreateTxn("/p", null, [.. Acl.OpenUnsafe], false, -1));
        _tree.AddPersistentWatch("/p", reader, WatchMode.PersistentRecursive);
        _tree.AddPersistentWatch("/p", outsider, WatchMode.PersistentRecursive);

        Apply(new CreateTxn("/p/secret", null, [new Acl(Perms.Read, Bob)], false, -1));
        Apply(new CreateTxn("/p/open", null, [.. Acl.OpenUnsafe], false, -1));

        Assert.Equal(["/p/secret", "/p/open"], reader.Events.Select(e => e.Path));
        Assert.Equal(["/p/open"], outsider.Events.Select(e => e.Path));
    }

    [Fact]
    public void AOneShotWatchIsConsumedEvenWhenItsEventIsWithheld()
    {
        var outsider = new RecordingWatcher();
        _tree.DataWatches.MayRead = (_, acl) => acl.Any(a => a.Id == Id.Anyone);
        Apply(new CreateTxn("/s", null, [new Acl(Perms.All, Bob)], false, -1));
        _tree.DataWatches.Add("/s", outsider);

        Apply(new SetDataTxn("/s", [1], 1));

        Assert.Empty(outsider.Events);
        Assert.False(_tree.DataWatches.Contains("/s", outsider));
    }

    [Fact]
    public void AnyWatchOnAnswersForEveryWatcherOfThePath()
    {
        var someone = new RecordingWatcher();
        _tree.DataWatches.Add("/w", someone);

        Assert.True(_tree.DataWatches.AnyWatchOn("/w"));
        Assert.False(_tree.DataWatches.AnyWatchOn("/w/child"));
    }
}
