using System.Text;
using Warden.Data;
using Warden.Protocol;
using Warden.Storage;

namespace Warden.Storage.Tests.Interop;

/// <summary>
/// The files an ensemble member writes, checked against the real Apache ZooKeeper 3.8: a log Warden truncated
/// (TRUNC) and kept appending to, a snapshot stored from a SNAP stream, and the epoch files of a quorum member.
/// Needs java, Debian's zookeeper package and python3-kazoo.
/// </summary>
[Trait("Category", "Apache")]
public sealed class ApacheEnsembleMemberTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string DumpTreeScript => Path.Combine(AppContext.BaseDirectory, "Interop", "dump_tree.py");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Apache_replays_a_log_Warden_truncated_and_continued(bool snapshotFromSnapStream)
    {
        ApacheServer.RequirePrerequisites();
        var expected = WriteTruncatedDirectory(snapshotFromSnapStream);
        List<string> served;
        using (var apache = ApacheServer.Start(_dir.Path, _dir.Path))
        {
            served = ClientLines(apache.RunKazoo(DumpTreeScript));
        }
        Assert.Equal(ClientView(expected), served);
    }

    /// <summary>
    /// History 1..16 logged; TRUNC to 9 (or a SNAP at 9 of the same tree); then two different txns 10' and 11'.
    /// With the SNAP, Apache must start from the stored snapshot.9; without, from snapshot.0 through the cut log.1.
    /// </summary>
    private DataTree WriteTruncatedDirectory(bool snapshotFromSnapStream)
    {
        var database = new Database(_dir.Path, null, new TxnLogOptions { PreallocateBytes = 64 * 1024 });
        database.Load();
        var history = Txns.History();
        var tree = Txns.Apply(history.Take(9));
        int rootCversion = tree.GetNode("/")!.Cversion;
        var after = new List<TxnLogEntry>
        {
            Txns.Entry(10, Txns.Create("/after-trunc", "new history", rootCversion + 1)),
            Txns.Entry(11, new SetDataTxn("/app", Encoding.UTF8.GetBytes("after"), 2)),
        };
        using var writer = database.OpenLogWriter();
        foreach (var entry in history) writer.Append(entry);
        writer.Flush();
        if (snapshotFromSnapStream)
        {
            var sessions = new Dictionary<long, int> { [Txns.Session] = 30000 };
            database.SaveSnapshotFromStream(9, SnapStream.ToBytes(SnapshotImage.Capture(tree, sessions, 9)), writer);
            // Without the older snapshot Apache can only have the tree from the SNAP one.
            File.Delete(Path.Combine(_dir.VersionDir, "snapshot.0"));
        }
        else
        {
            database.TruncateAfter(9, writer);
        }
        foreach (var entry in after) writer.Append(entry);
        writer.Flush();
        return Txns.Apply(after, tree);
    }

    [Fact]
    public void A_quorum_member_s_epoch_files_are_read_and_Warden_s_are_honoured()
    {
        ApacheServer.RequirePrerequisites();
        var database = new Database(_dir.Path);
        database.Load();

        // Warden's files say this member already accepted and joined epoch 5, so a new leader must pick 6.
        EpochFiles.WriteAccepted(_dir.VersionDir, 5);
        EpochFiles.WriteCurrent(_dir.VersionDir, 5);
        File.WriteAllText(Path.Combine(_dir.Path, "myid"), "1");
        string quorum = $"standaloneEnabled=false\ninitLimit=10\nsyncLimit=5\n" +
            $"server.1=127.0.0.1:{ApacheServer.FreePort()}:{ApacheServer.FreePort()}\n";
        using (var apache = ApacheServer.Start(_dir.Path, _dir.Path, quorum))
        {
            // The kazoo session is created through the leader, so the epoch files are written by then.
            apache.RunKazoo(DumpTreeScript);
        }

        Assert.Equal("6", File.ReadAllText(Path.Combine(_dir.VersionDir, "acceptedEpoch")));
        Assert.Equal("6", File.ReadAllText(Path.Combine(_dir.VersionDir, "currentEpoch")));
        var loaded = new Database(_dir.Path).LoadForQuorum();
        Assert.Equal(6, new Zxid(loaded.LastLoggedZxid).Epoch);
        Assert.Equal(new EpochState(6, 6), EpochFiles.Read(_dir.VersionDir, loaded.LastLoggedZxid));
    }

    private static List<string> ClientLines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ApacheInterchangeTests.Normalize).Order().ToList();

    private static List<string> ClientView(DataTree tree) => ApacheInterchangeTests.ClientView(tree);
}
