using System.Text;
using Warden.Data;
using Warden.Protocol;
using Warden.Storage;

namespace Warden.Storage.Tests;

/// <summary>
/// Reads the files Apache ZooKeeper 3.8.0 wrote (Fixtures/README.md says how) and checks what Apache put in them.
/// </summary>
public sealed class ApacheFixtureTests : IDisposable
{
    private const long Session = 0x1000010a65d0000;
    private const long ClosedSession = 0x1000010a65d0001;
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    private static readonly string ApacheDir = Path.Combine(Fixtures, "apache", StorageFiles.VersionDirectory);
    private readonly TempDir _copy = new();

    public ApacheFixtureTests()
    {
        // Loading may cut or add files, so it works on a copy.
        Directory.CreateDirectory(_copy.VersionDir);
        foreach (string file in Directory.GetFiles(ApacheDir)) File.Copy(file, Path.Combine(_copy.VersionDir, Path.GetFileName(file)));
    }

    public void Dispose() => _copy.Dispose();

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void The_log_holds_every_txn_kind_Apache_wrote_with_its_digest()
    {
        var reader = new TxnLogReader(ApacheDir);
        var entries = reader.ReadFrom(0).ToDictionary(e => e.Zxid);
        Assert.Empty(reader.TornTails);
        Assert.Equal(Enumerable.Range(1, 0x23).Select(i => (long)i), entries.Keys.Order());
        Assert.All(entries.Values, e => Assert.NotNull(e.Digest));

        Assert.Equal(new CreateSessionTxn(10000), entries[1].Txn);
        Assert.Equal(Session, entries[1].Header.ClientId);
        var create = Assert.IsType<CreateTxn>(entries[2].Txn);
        Assert.Equal(("/app", "hello", false, 1), (create.Path, Encoding.UTF8.GetString(create.Data!), create.Ephemeral, create.ParentCversion));
        var setAcl = Assert.IsType<SetAclTxn>(entries[0xa].Txn);
        Assert.Equal(new Acl(Perms.All, new Id("digest", "user:smGaoVKd/cQkjm7b88GyorAUz20=")), setAcl.Acl[0]);
        Assert.Equal(1, setAcl.Version);
        Assert.Equal("/app/container", Assert.IsType<CreateContainerTxn>(entries[0xb].Txn).Path);
        Assert.Equal(600000, Assert.IsType<CreateTtlTxn>(entries[0xc].Txn).TtlMs);
        Assert.Equal("/app/gone", Assert.IsType<DeleteTxn>(entries[0xe].Txn).Path);
        var multi = Assert.IsType<MultiTxn>(entries[0xf].Txn);
        Assert.Equal([OpCode.Create, OpCode.Create, OpCode.SetData], multi.Txns.Select(t => t.Type));
        var failed = Assert.IsType<MultiTxn>(entries[0x10].Txn);
        Assert.Contains(failed.Txns, t => t is ErrorTxn { Error: ErrorCode.NoNode });
        Assert.Equal(["/app/eph-closed"], Assert.IsType<CloseSessionTxn>(entries[0x13].Txn).PathsToDelete!);
        Assert.Equal(ClosedSession, entries[0x13].Header.ClientId);
    }

    [Fact]
    public void Entries_reencode_to_the_bytes_Apache_checksummed()
    {
        // Re-encoding every decoded entry and re-reading it through Warden's writer proves the codec is lossless.
        var entries = new TxnLogReader(ApacheDir).ReadFrom(0).ToList();
        using (var writer = new TxnLogWriter(Path.Combine(_copy.Path, "rewritten"), new TxnLogOptions { ForceSync = false }))
        {
            foreach (var entry in entries) writer.Append(entry);
            writer.Flush();
        }
        var rewritten = new TxnLogReader(Path.Combine(_copy.Path, "rewritten")).ReadFrom(0).ToList();
        Assert.Equal(entries.Select(Txns.Bytes), rewritten.Select(Txns.Bytes));
    }

    [Fact]
    public void The_snapshot_holds_the_tree_sessions_ACLs_and_digest()
    {
        var snapshot = SnapshotFile.Read(Path.Combine(ApacheDir, "snapshot.1f"));
        Assert.Equal(0x1f, snapshot.Zxid);
        Assert.Equal(new Dictionary<long, int> { [Session] = 10000 }, snapshot.SessionTimeoutsMs);
        Assert.NotNull(snapshot.Digest);
        var tree = snapshot.Tree;
        Assert.Equal(EphemeralOwner.Container, tree.GetNode("/app/container")!.EphemeralOwner);
        Assert.Equal(EphemeralOwner.ForTtl(600000), tree.GetNode("/app/ttl")!.EphemeralOwner);
        Assert.Equal(Session, tree.GetNode("/app/eph")!.EphemeralOwner);
        Assert.Null(tree.GetNode("/app/eph-closed"));
        Assert.Equal("digest", Assert.Single(tree.GetNode("/app/secret")!.Acl).Id.Scheme);
        var data = tree.GetNode("/app/data")!;
        Assert.Equal((2, 5L, 7L), (data.Version, data.Czxid, data.Mzxid));
        Assert.Equal(Utf8("ü"), tree.GetNode("/unicode-é")!.Data);
        Assert.Equal(2, tree.EphemeralsOf(Session).Count);
    }

    [Theory]
    [InlineData("snapshot.1f")]
    [InlineData("snapshot.e")]
    public void The_snapshot_dump_matches_Apaches_SnapshotFormatter_line_for_line(string name)
    {
        string expected = File.ReadAllText(Path.Combine(Fixtures, name + ".formatter.txt"));
        Assert.Equal(expected.Split('\n'), Dump.Snapshot(Path.Combine(ApacheDir, name)).Split('\n'));
    }

    [Fact]
    public void The_log_dump_has_one_line_per_txn()
    {
        string dump = Dump.Log(Path.Combine(ApacheDir, "log.1"));
        var lines = dump.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(17, lines.Length);
        Assert.EndsWith("session 0x1000010a65d0000 cxid 0x0 zxid 0x1 createSession 10000", lines[1]);
        Assert.Contains("zxid 0xa setACL /app/acl,[digest:user:smGaoVKd/cQkjm7b88GyorAUz20=:cdrwa,world:anyone:cdrwa],1", dump);
        Assert.Contains("zxid 0xc createTtl /app/ttl,t,[world:anyone:cdrwa],7,600000", dump);
        Assert.Contains("multi create:/multi,m,[world:anyone:cdrwa],false,", dump);
        Assert.Equal("EOF reached after 15 txns.", lines[^1]);
    }

    [Fact]
    public void Loading_Apaches_directory_replays_the_log_over_the_newest_snapshot()
    {
        var result = new Database(_copy.Path).Load();
        Assert.EndsWith("snapshot.1f", result.SnapshotFile);
        Assert.Equal(0x23, result.LastZxid);
        Assert.Equal(4, result.TxnsReplayed);
        Assert.Empty(result.TornTails);
        var tree = result.Tree;
        Assert.Equal(Utf8("final"), tree.GetNode("/app/data")!.Data);
        Assert.Equal(3, tree.GetNode("/app/data")!.Version);
        Assert.Equal(Utf8("hello-multi"), tree.GetNode("/app")!.Data);
        Assert.NotNull(tree.GetNode("/multi/a"));
        Assert.Null(tree.GetNode("/multi/b"));
        Assert.Null(tree.GetNode("/app/gone"));
        Assert.NotNull(tree.GetNode("/bulk11"));
        var acl = tree.GetNode("/app/acl")!;
        Assert.Equal((1, 2), (acl.Aversion, acl.Acl.Count));
        Assert.Equal([Session], result.SessionTimeoutsMs.Keys);
    }

    [Fact]
    public void Replaying_the_whole_log_from_the_first_snapshot_gives_the_same_tree()
    {
        // The fallback path: with the newer snapshots gone, everything comes from log replay.
        File.Delete(Path.Combine(_copy.VersionDir, "snapshot.1f"));
        File.Delete(Path.Combine(_copy.VersionDir, "snapshot.e"));
        var fromLog = new Database(_copy.Path).Load();
        Assert.Equal(0x23, fromLog.TxnsReplayed);

        using var other = new TempDir();
        Directory.CreateDirectory(other.VersionDir);
        foreach (string file in Directory.GetFiles(ApacheDir)) File.Copy(file, Path.Combine(other.VersionDir, Path.GetFileName(file)));
        var fromSnapshot = new Database(other.Path).Load();
        Assert.Equal(Txns.Describe(fromSnapshot.Tree), Txns.Describe(fromLog.Tree));
    }

    [Fact]
    public void A_Warden_snapshot_of_Apaches_tree_reads_back_equal()
    {
        var loaded = new Database(_copy.Path).Load();
        using var target = new TempDir();
        string written = SnapshotStore.Write(target.VersionDir, loaded.Tree, loaded.SessionTimeoutsMs, loaded.LastZxid);
        var reread = SnapshotFile.Read(written);
        Assert.Equal(Txns.Describe(loaded.Tree), Txns.Describe(reread.Tree));
        Assert.Equal(loaded.SessionTimeoutsMs, reread.SessionTimeoutsMs);
        Assert.Null(reread.Digest);
    }
}
