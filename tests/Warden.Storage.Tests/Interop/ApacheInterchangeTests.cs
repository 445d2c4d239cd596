using System.Text.Json;
using Warden.Data;
using Warden.Storage;

namespace Warden.Storage.Tests.Interop;

/// <summary>
/// Apache ZooKeeper 3.8 started on a data directory Warden wrote serves the same tree, stats and ACLs; and Warden
/// reads back the directory after Apache has run on it (Apache snapshots at startup and logs the client's session).
/// Needs java, Debian's zookeeper package and python3-kazoo.
/// </summary>
[Trait("Category", "Apache")]
public sealed class ApacheInterchangeTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Apache_serves_the_tree_Warden_wrote_and_Warden_reads_what_Apache_then_wrote(bool gzip)
    {
        ApacheServer.RequirePrerequisites();
        var expected = WriteWardenDirectory(gzip);

        List<string> served;
        // Apache picks the snapshot format it writes from this setting and the one it reads from the file name.
        string compression = gzip ? "snapshot.compression.method=gz\n" : "";
        using (var apache = ApacheServer.Start(_dir.Path, _dir.Path, compression))
        {
            served = apache.RunKazoo(Path.Combine(AppContext.BaseDirectory, "Interop", "dump_tree.py"))
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Normalize).Order().ToList();
        }
        Assert.Equal(ClientView(expected), served);

        var reloaded = new Database(_dir.Path).Load();
        Assert.EndsWith(gzip ? "snapshot.10.gz" : "snapshot.10", reloaded.SnapshotFile);
        Assert.Empty(reloaded.TornTails);
        Assert.Equal(served, ClientView(reloaded.Tree));
        Assert.True(reloaded.LastZxid > 16, "Apache logged the kazoo session after Warden's txns");
    }

    /// <summary>A snapshot taken after txn 10 and the log after it, neither with digests.</summary>
    private DataTree WriteWardenDirectory(bool gzip)
    {
        var database = new Database(_dir.Path, null, new TxnLogOptions { PreallocateBytes = 64 * 1024 });
        database.Load();
        var history = Txns.History();
        using var writer = database.OpenLogWriter();
        foreach (var entry in history.Take(10)) writer.Append(entry);
        writer.Flush();
        var tree = Txns.Apply(history.Take(10));
        database.TakeSnapshot(tree, new Dictionary<long, int> { [Txns.Session] = 30000 }, 10, gzip);
        writer.Roll();
        foreach (var entry in history.Skip(10)) writer.Append(entry);
        writer.Flush();
        // Without the older files Apache must use Warden's snapshot.a[.gz] and log.b, not rebuild from log.1.
        File.Delete(Path.Combine(_dir.VersionDir, "snapshot.0"));
        File.Delete(Path.Combine(_dir.VersionDir, "log.1"));
        return Txns.Apply(history.Skip(10), tree);
    }

    /// <summary>Each node as the client sees it, in the JSON shape dump_tree.py prints.</summary>
    internal static List<string> ClientView(DataTree tree) =>
        tree.PreOrder().Select(n =>
        {
            var stat = n.Node.ToStat();
            return Normalize(JsonSerializer.Serialize(new
            {
                path = n.Path,
                data = n.Node.Data is null ? null : Convert.ToBase64String(n.Node.Data),
                stat = new long[]
                {
                    stat.Czxid, stat.Mzxid, stat.Ctime, stat.Mtime, stat.Version, stat.Cversion, stat.Aversion,
                    stat.EphemeralOwner, stat.DataLength, stat.NumChildren, stat.Pzxid,
                },
                acl = n.Node.Acl.Select(a => $"{a.Id.Scheme}:{a.Id.Identity}:{(int)a.Perms}").ToArray(),
            }));
        }).Order().ToList();

    internal static string Normalize(string json)
    {
        using var document = JsonDocument.Parse(json);
        return JsonSerializer.Serialize(document.RootElement);
    }
}
