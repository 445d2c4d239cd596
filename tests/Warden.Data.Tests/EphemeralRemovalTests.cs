using System.Diagnostics;
using Warden.Data;
using Warden.Protocol;
using Xunit.Abstractions;

namespace Warden.Data.Tests;

/// <summary>Removing a closed session's nodes runs on the loop that serves every session: it must stay linear.</summary>
public class EphemeralRemovalTests(ITestOutputHelper output)
{
    private const long Session = 7;

    private static (DataTree Tree, List<string> Paths) TreeWithEphemerals(int count)
    {
        var tree = new DataTree();
        long zxid = 0;
        tree.Apply(new TxnHeader(Session, 0, ++zxid, 1, (int)OpCode.Create), new CreateTxn("/fan", [], [.. Acl.OpenUnsafe], false, -1));
        var paths = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            string path = "/fan/e" + i;
            paths.Add(path);
            tree.Apply(new TxnHeader(Session, 0, ++zxid, 1, (int)OpCode.Create), new CreateTxn(path, [], [.. Acl.OpenUnsafe], true, -1));
        }
        return (tree, paths);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TwoHundredThousandEphemeralsGoInLinearTime(bool listedInTxn)
    {
        const int Count = 200_000;
        var (tree, paths) = TreeWithEphemerals(Count);
        var header = new TxnHeader(Session, 0, tree.LastProcessedZxid + 1, 2, (int)OpCode.CloseSession);

        var clock = Stopwatch.StartNew();
        var listed = listedInTxn ? tree.EphemeralsOf(Session) : [];
        long listMs = clock.ElapsedMilliseconds;
        tree.Apply(header, new CloseSessionTxn(listed));
        output.WriteLine($"{Count} ephemerals listed in {listMs} ms and removed in {clock.ElapsedMilliseconds - listMs} ms");

        Assert.Equal(0, tree.GetNode("/fan")!.ChildCount);
        Assert.Empty(tree.EphemeralsOf(Session));
        Assert.DoesNotContain(Session, tree.SessionsWithEphemerals);
        // Linear work here is well under a second; the quadratic removal this replaced took minutes.
        Assert.True(clock.ElapsedMilliseconds < 5000, $"removing {Count} ephemerals took {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void PathsTheTxnDoesNotListAreRemovedToo()
    {
        var (tree, paths) = TreeWithEphemerals(10);
        var header = new TxnHeader(Session, 0, tree.LastProcessedZxid + 1, 2, (int)OpCode.CloseSession);
        tree.Apply(header, new CloseSessionTxn(paths.Take(4).ToList()));
        Assert.Equal(0, tree.GetNode("/fan")!.ChildCount);
        Assert.All(paths, p => Assert.Null(tree.GetNode(p)));
    }
}
