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

    [Fact]
    public void Apache_s_learner_code_reads_the_SNAP_stream_Warden_sends()
    {
        ApacheServer.RequirePrerequisites();
        var tree = Txns.Apply(Txns.History());
        var sessions = new Dictionary<long, int> { [Txns.Session] = 30000, [0x3000000000007] = 5000 };
        string stream = Path.Combine(_dir.Path, "snap.bin");
        File.WriteAllBytes(stream, SnapStream.ToBytes(SnapshotImage.Capture(tree, sessions, 16)));
        Directory.CreateDirectory(Path.Combine(_dir.Path, "work"));

        var lines = RunTool("read", stream, Path.Combine(_dir.Path, "work")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(ClientView(tree), ClientLines(string.Join('\n', lines.Where(l => l.StartsWith('{')))));
        Assert.Equal(["session 1000000abcd0000 30000", "session 3000000000007 5000"],
            lines.Where(l => l.StartsWith("session", StringComparison.Ordinal)).Order().ToArray());
    }

    [Fact]
    public async Task Warden_reads_the_SNAP_stream_Apache_s_leader_code_sends()
    {
        ApacheServer.RequirePrerequisites();
        var database = new Database(_dir.Path);
        database.Load();
        var history = Txns.History();
        using (var writer = database.OpenLogWriter())
        {
            foreach (var entry in history) writer.Append(entry);
            writer.Flush();
        }
        var expected = new Database(_dir.Path).Load();
        string stream = Path.Combine(_dir.Path, "snap.bin");
        Assert.Equal("10", RunTool("write", _dir.Path, stream).Trim());

        byte[] bytes = File.ReadAllBytes(stream);
        using var network = new MemoryStream([.. bytes, 0, 0, 0, 0]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Equal(bytes, await SnapStream.ReadRawAsync(network, 1 << 20, timeout.Token));
        var snapshot = SnapStream.Read(bytes, 16);
        Assert.Equal(ClientView(expected.Tree), ClientView(snapshot.Tree));
        Assert.Equal(expected.SessionTimeoutsMs, snapshot.SessionTimeoutsMs);
    }

    /// <summary>Runs Interop/SnapStreamTool.java against Apache's jars and returns its standard output.</summary>
    private static string RunTool(params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo("java")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // Extended types on, as in the servers' zoo.cfg, so that a TTL node's owner marker reads as a TTL, not a session.
        foreach (string argument in new[] { "-Dzookeeper.extendedTypesEnabled=true", "-cp", "/usr/share/java/*", Path.Combine(AppContext.BaseDirectory, "Interop", "SnapStreamTool.java") }
            .Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(120)), "SnapStreamTool did not finish");
        Assert.True(process.ExitCode == 0, $"SnapStreamTool failed ({process.ExitCode}):\n{error.Result}");
        return output;
    }

    private static List<string> ClientLines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ApacheInterchangeTests.Normalize).Order().ToList();

    private static List<string> ClientView(DataTree tree) => ApacheInterchangeTests.ClientView(tree);
}
