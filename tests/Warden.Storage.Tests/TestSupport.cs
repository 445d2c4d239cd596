using System.Text;
using Warden.Data;
using Warden.Protocol;
using Warden.Storage;

namespace Warden.Storage.Tests;

/// <summary>A temporary directory removed at the end of a test.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "warden-storage-" + Guid.NewGuid().ToString("N"));

    public string VersionDir => StorageFiles.VersionDirectoryOf(Path);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Builds txns the way the server's request pipeline would, for tests.</summary>
public static class Txns
{
    public const long Session = 0x1000000abcd0000;
    public static readonly List<Acl> Open = [.. Acl.OpenUnsafe];
    public static readonly List<Acl> Digest = [new(Perms.All, new Id("digest", "user:smGaoVKd/cQkjm7b88GyorAUz20="))];

    public static TxnLogEntry Entry(long zxid, Txn txn, long session = Session) =>
        new(new TxnHeader(session, (int)zxid, zxid, 1_700_000_000_000 + zxid, (int)txn.Type), txn);

    /// <summary>A create as Apache logs it: with the parent's stored cversion after the create, which makes replay idempotent.</summary>
    public static CreateTxn Create(string path, string data, int parentCversion, bool ephemeral = false, List<Acl>? acl = null) =>
        new(path, Encoding.UTF8.GetBytes(data), acl ?? Open, ephemeral, parentCversion);

    /// <summary>A varied history: every node type, data and ACL changes, a delete, a multi, a closed session.</summary>
    public static List<TxnLogEntry> History()
    {
        const long other = 0x1000000abcd0001;
        return
        [
            Entry(1, new CreateSessionTxn(30000)),
            Entry(2, Create("/app", "hello", 1)),
            Entry(3, Create("/app/data", "v0", 1)),
            Entry(4, new SetDataTxn("/app/data", Encoding.UTF8.GetBytes("v1"), 1)),
            Entry(5, Create("/app/secret", "x", 2, acl: Digest)),
            Entry(6, new SetAclTxn("/app/data", [.. Digest, .. Open], 1)),
            Entry(7, new CreateContainerTxn("/app/container", [1, 2], Open, 3)),
            Entry(8, new CreateTtlTxn("/app/ttl", [], Open, 4, 600000)),
            Entry(9, Create("/app/gone", "", 5)),
            Entry(10, new DeleteTxn("/app/gone")),
            Entry(11, new MultiTxn([Create("/multi", "m", 2), Create("/multi/a", "1", 1), new SetDataTxn("/app", Encoding.UTF8.GetBytes("multi"), 1)])),
            Entry(12, new CreateSessionTxn(10000), other),
            Entry(13, Create("/app/eph-closed", "e", 6, ephemeral: true), other),
            Entry(14, new CloseSessionTxn(["/app/eph-closed"]), other),
            Entry(15, Create("/app/eph", "e", 7, ephemeral: true)),
            Entry(16, new MultiTxn([Create("/multi/b", "2", 2), new ErrorTxn(ErrorCode.NoNode)])),
        ];
    }

    public static DataTree Apply(IEnumerable<TxnLogEntry> entries, DataTree? tree = null)
    {
        tree ??= new DataTree();
        foreach (var entry in entries) tree.Apply(entry.Header, entry.Txn);
        return tree;
    }

    public static byte[] Bytes(TxnLogEntry entry)
    {
        using var writer = new JuteWriter();
        entry.WriteBuffer(writer);
        return writer.ToArray();
    }

    /// <summary>Every node as one line of path, data, stored stat and ACL, for whole-tree comparisons.</summary>
    public static List<string> Describe(DataTree tree) =>
        tree.PreOrder().Select(n =>
        {
            var d = n.Node;
            string acl = string.Join(",", d.Acl.Select(a => $"{a.Id}:{(int)a.Perms}"));
            string data = d.Data is null ? "null" : Convert.ToHexString(d.Data);
            return $"{n.Path} {data} {d.Czxid:x} {d.Mzxid:x} {d.CtimeMs} {d.MtimeMs} {d.Version} {d.Cversion} {d.Aversion} {d.EphemeralOwner:x} {d.Pzxid:x} [{acl}]";
        }).ToList();
}
