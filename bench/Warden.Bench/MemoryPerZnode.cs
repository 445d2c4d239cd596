using System.Diagnostics;
using Warden.Data;
using Warden.Protocol;

namespace Warden.Bench;

/// <summary>
/// Memory per znode. In this process: the managed bytes a DataTree holds per node, built three ways so that the
/// difference between them shows where the bytes go (each node's own data array and ACL list, as a client's create
/// delivers them; a shared ACL list; no data). Then the servers: each starts empty, takes the same znodes of 100
/// bytes from a client (multi requests of 100 creates), and the growth of its resident memory is divided by the
/// node count. Each figure is read --settle seconds (3) after the load, once the JVM and .NET have finished the
/// background collection work the load started; a longer settle leaves time to take a heap dump of the server.
/// </summary>
public static class MemoryPerZnode
{
    private const int DataBytes = 100;
    // 100 creates make a frame of about 15 KB. Frames past 85,000 bytes would land on .NET's large object heap,
    // which is collected only with the oldest generation, and the figure would count those dead frames.
    private const int CreatesPerMulti = 100;

    public static async Task RunAsync(string root, int nodeCount, bool servers, TimeSpan settle)
    {
        Console.WriteLine($"\nmanaged heap per znode in a DataTree of {nodeCount} znodes under one parent (this process)");
        double full = TreeBytesPerNode(nodeCount, ownData: true, ownAcl: true);
        double sharedAcl = TreeBytesPerNode(nodeCount, ownData: true, ownAcl: false);
        double noData = TreeBytesPerNode(nodeCount, ownData: false, ownAcl: false);
        double listed = TreeBytesPerNode(nodeCount, ownData: false, ownAcl: false, listChildren: true);
        Console.WriteLine($"  as created by clients (own data, own ACL list): {full,7:0} bytes");
        Console.WriteLine($"  of which the ACL list:                          {full - sharedAcl,7:0} bytes");
        Console.WriteLine($"  of which the data ({DataBytes} bytes):                  {sharedAcl - noData,7:0} bytes");
        Console.WriteLine($"  the rest (node, path, name, indexes):           {noData,7:0} bytes");
        Console.WriteLine($"  after the parent's children are listed once:    {listed - noData,7:0} bytes more");
        if (!servers) return;

        Console.WriteLine($"\nresident memory per znode: {nodeCount} znodes of {DataBytes} bytes created by one client");
        Console.WriteLine($"{"server",-10}{"empty MiB",12}{"full MiB",12}{"bytes/znode",14}{"create s",10}");
        var perNode = new Dictionary<Kind, double>();
        var kinds = new List<Kind> { Kind.Apache, Kind.Warden };
        if (BenchServer.BaselineDll is not null) kinds.Add(Kind.Baseline);
        foreach (var kind in kinds)
        {
            string dir = Path.Combine(root, "memory-" + kind);
            using var server = BenchServer.Start(kind, Path.Combine(dir, "data"), Path.Combine(dir, "log"), "forceSync=no\n");
            using var client = await BenchClient.ConnectAsync(server.Port, TimeSpan.FromSeconds(60));
            // At most the default settle here: the client sends no pings, and its session must last through the load.
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(3, settle.TotalSeconds)));
            double empty = server.ResidentMiB();
            var clock = Stopwatch.StartNew();
            Check(client.Call(OpCode.Create, new CreateRequest("/m", [], [.. Acl.OpenUnsafe], 0)));
            for (int first = 0; first < nodeCount; first += CreatesPerMulti)
            {
                Check(client.Call(OpCode.Multi, new MultiCreate("/m/n", first, Math.Min(CreatesPerMulti, nodeCount - first))));
            }
            double seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"  ({kind} pid {server.ProcessId} holds the znodes; its memory is read in {settle.TotalSeconds:0} s)");
            await Task.Delay(settle);
            double fullMiB = server.ResidentMiB();
            perNode[kind] = (fullMiB - empty) * 1048576 / nodeCount;
            Console.WriteLine($"{kind,-10}{empty,12:0}{fullMiB,12:0}{perNode[kind],14:0}{seconds,10:0.0}");
        }
        Console.WriteLine($"Warden / Apache: {perNode[Kind.Warden] / perNode[Kind.Apache]:0.00} (target: <= 0.20 and <= 340 bytes/znode)");
        if (perNode.TryGetValue(Kind.Baseline, out double baseline))
        {
            Console.WriteLine($"Warden / baseline: {perNode[Kind.Warden] / baseline:0.00}");
        }
    }

    private static void Check(int err)
    {
        if (err != 0) throw new InvalidOperationException($"create failed with error {err}");
    }

    private static double TreeBytesPerNode(int nodeCount, bool ownData, bool ownAcl, bool listChildren = false)
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var tree = new DataTree();
        long zxid = 0;
        List<Acl> shared = [.. Acl.OpenUnsafe];
        var sharedData = new byte[DataBytes];
        tree.Apply(new TxnHeader(1, 0, ++zxid, 0, (int)OpCode.Create), new CreateTxn("/m", [], shared, false, -1));
        for (int i = 0; i < nodeCount; i++)
        {
            // A decoded request brings its own strings and lists; new string(...) stands for the decoder's copies.
            var acl = ownAcl ? new List<Acl> { new(Perms.All, new Id(new string("world"), new string("anyone"))) } : shared;
            byte[]? data = ownData ? new byte[DataBytes] : null;
            tree.Apply(new TxnHeader(1, 0, ++zxid, 0, (int)OpCode.Create), new CreateTxn("/m/n" + i, data, acl, false, -1));
        }
        if (listChildren) _ = tree.GetNode("/m")!.Children.Count;
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(tree);
        return (after - before) / (double)nodeCount;
    }

    /// <summary>A multi request of persistent creates /prefix{first}..., each with its own 100 bytes of data.</summary>
    private sealed class MultiCreate(string prefix, int first, int count) : IJuteRecord
    {
        public void Write(JuteWriter writer)
        {
            var data = new byte[DataBytes];
            for (int i = first; i < first + count; i++)
            {
                // MultiHeader{type, done, err}, then the op's request record.
                writer.WriteInt((int)OpCode.Create);
                writer.WriteBool(false);
                writer.WriteInt(-1);
                new CreateRequest(prefix + i, data, [.. Acl.OpenUnsafe], 0).Write(writer);
            }
            writer.WriteInt(-1);
            writer.WriteBool(true);
            writer.WriteInt(-1);
        }
    }
}
