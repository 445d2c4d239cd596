using Microsoft.Extensions.Logging.Abstractions;
using Warden.Data;
using Warden.Protocol;
using Warden.Server.Processing;

namespace Warden.Server.Tests.Core;

/// <summary>
/// A snapshot file's image is captured a slice at a time on the loop: requests and commits that arrive while it is
/// taken are served between the slices, not after the whole tree has been copied.
/// </summary>
public class FuzzySnapshotCoreTests
{
    [Fact]
    public async Task RequestsAndCommitsAreServedBetweenTheSlicesOfASnapshot()
    {
        var tree = new DataTree();
        List<Acl> open = [.. Acl.OpenUnsafe];
        long zxid = 0;
        tree.Apply(new TxnHeader(0, 0, ++zxid, 0, (int)OpCode.Create), new CreateTxn("/big", [], open, false, -1));
        for (int i = 0; i < 20_000; i++)
        {
            tree.Apply(new TxnHeader(0, 0, ++zxid, 0, (int)OpCode.Create), new CreateTxn($"/big/n{i}", [1], open, false, -1));
        }
        // The node the walk reaches last, so a write to it is surely applied before the walk gets there.
        string last = tree.PreOrder().Last().Path;
        var replicator = new HeldReplicator();
        var core = new ServerCore(new ServerSettings(), replicator, new ManualTime(), NullLogger.Instance, tree) { SnapshotSliceNodes = 1000 };
        var client = new FakeConnection();
        core.Post(new ConnectWork(client, new ConnectRequest(0, 0, 30000, 0, new byte[16], false)));
        core.RunPending();
        replicator.CommitAll();
        core.RunPending();
        long startZxid = core.Tree.LastProcessedZxid;

        var capture = core.CaptureFuzzySnapshotAsync();
        using var writer = new JuteWriter();
        new SetDataRequest(last, [2, 2], -1).Write(writer);
        core.Post(new RequestWork(client, 1, OpCode.SetData, writer.ToArray(), 0));
        bool? capturedWhenAnswered = null;
        core.Post(new QueryWork(() =>
        {
            // The commit joins the queue behind the next slice, and this check behind the commit.
            replicator.CommitAll();
            core.Post(new QueryWork(() => capturedWhenAnswered = capture.IsCompleted));
        }));
        core.RunPending();

        Assert.Equal(1, client.Replies.Single().Header.Xid);
        Assert.False(capturedWhenAnswered);
        Assert.True(capture.IsCompletedSuccessfully);
        var image = await capture;
        Assert.Equal(startZxid, image.Zxid);
        Assert.Equal(core.Tree.NodeCount, image.Nodes.Count);
        // The write committed while the walk was short of its node, so the fuzzy image already shows it.
        Assert.Equal([2, 2], image.Nodes.Single(n => n.Path == last).Data);
    }
}
