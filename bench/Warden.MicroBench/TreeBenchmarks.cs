using BenchmarkDotNet.Attributes;
using Warden.Data;
using Warden.Protocol;

namespace Warden.MicroBench;

/// <summary>
/// The data tree's four busiest operations on a tree of 100,000 znodes under /bench (100 bytes each): create and
/// delete of a child, getData's lookup and stat, setData, and listing 1,000 children in Apache's order.
/// </summary>
[MemoryDiagnoser]
public class TreeBenchmarks
{
    private const int Nodes = 100_000;
    private const int Batch = 1_000;
    private readonly List<Acl> _open = [.. Acl.OpenUnsafe];
    private readonly byte[] _payload = new byte[100];
    private DataTree _tree = null!;
    private string[] _paths = [];
    private string[] _batchPaths = [];
    private long _zxid;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _tree = new DataTree();
        Apply(new CreateTxn("/bench", [], _open, false, -1));
        Apply(new CreateTxn("/list", [], _open, false, -1));
        _paths = new string[Nodes];
        for (int i = 0; i < Nodes; i++)
        {
            _paths[i] = $"/bench/n{i}";
            Apply(new CreateTxn(_paths[i], _payload, _open, false, -1));
        }
        for (int i = 0; i < Batch; i++) Apply(new CreateTxn($"/list/c{i}", _payload, _open, false, -1));
        _batchPaths = Enumerable.Range(0, Batch).Select(i => $"/bench/batch{i}").ToArray();
    }

    private ApplyResult Apply(Txn txn) => _tree.Apply(new TxnHeader(1, 0, ++_zxid, 0, (int)txn.Type), txn);

    /// <summary>A create and a delete of the same child, so the tree stays the same size run after run.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void CreateThenDelete()
    {
        foreach (var path in _batchPaths) Apply(new CreateTxn(path, _payload, _open, false, -1));
        foreach (var path in _batchPaths) Apply(new DeleteTxn(path));
    }

    [Benchmark]
    public Stat GetDataStat()
    {
        var node = _tree.GetNode(_paths[_next++ % Nodes])!;
        return node.ToStat();
    }

    [Benchmark]
    public ApplyResult SetData()
    {
        int i = _next++ % Nodes;
        return Apply(new SetDataTxn(_paths[i], _payload, (int)(_zxid & 0x7fffffff)));
    }

    /// <summary>getChildren of 1,000 children right after a change (one deleted and made again), so the order is worked out, not cached.</summary>
    [Benchmark]
    public int GetChildrenAfterAChange()
    {
        Apply(new DeleteTxn("/list/c0"));
        Apply(new CreateTxn("/list/c0", _payload, _open, false, -1));
        return _tree.GetNode("/list")!.Children.Count;
    }

    [Benchmark]
    public int GetChildrenCached() => _tree.GetNode("/list")!.Children.Count;
}
