using BenchmarkDotNet.Attributes;
using Warden.Data;
using Warden.Protocol;
using Warden.Storage;

namespace Warden.MicroBench;

/// <summary>
/// The txn log writer's append (encode the entry, Adler32 it, frame it into the batch) for a create of 100 bytes,
/// 1,000 entries per batch, and the batch written to the file without fsync (the disk is not what is measured).
/// </summary>
[MemoryDiagnoser]
public class TxnLogBenchmarks
{
    private const int Batch = 1_000;
    private string _directory = "";
    private TxnLogWriter _writer = null!;
    private TxnLogEntry[] _entries = [];
    private long _zxid;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "warden-microbench-" + Environment.ProcessId);
        Directory.CreateDirectory(_directory);
        _writer = new TxnLogWriter(_directory, new TxnLogOptions { ForceSync = false });
        List<Acl> open = [.. Acl.OpenUnsafe];
        _entries = Enumerable.Range(0, Batch)
            .Select(i => new TxnLogEntry(new TxnHeader(0x100000001, i, 0, 1765000000000, (int)OpCode.Create),
                new CreateTxn($"/app/n{i}", new byte[100], open, false, i + 1)))
            .ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _writer.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public FlushResult AppendAndWrite()
    {
        foreach (var entry in _entries) _writer.Append(entry with { Header = entry.Header with { Zxid = ++_zxid } });
        var result = _writer.Flush();
        // A new file now and then, so the benchmark does not grow one file without end.
        if (_zxid % 200_000 == 0) _writer.Roll();
        return result;
    }
}
