using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Warden.Server.Processing;
using Warden.Storage;

namespace Warden.Server.Replication;

/// <summary>
/// The standalone replicator: a write is committed once it is in the txn log on stable storage (ordering rule 5).
/// One writer thread takes every txn waiting, appends them all, and makes them durable with one flush (group
/// commit), then delivers them committed in zxid order. Every snapCount txns or so (randomised as Apache does,
/// so that servers do not snapshot in step) it rolls to a new log file and asks for a snapshot.
/// </summary>
public sealed class LogReplicator : IReplicator
{
    /// <summary>The most txns made durable by one flush, so commits keep flowing under a flood.</summary>
    private const int MaxBatch = 2000;

    private readonly TxnLogWriter _writer;
    private readonly ILogger _log;
    private readonly Channel<TxnHeaderAndBody> _queue = Channel.CreateUnbounded<TxnHeaderAndBody>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly int _snapCountTxns;
    private readonly Random _random;
    private Action<TxnHeaderAndBody>? _onCommitted;
    private Thread? _thread;
    private int _txnsSinceSnapshot;
    private int _snapshotThreshold;
    private long _lastDurableZxid = -1;

    public LogReplicator(TxnLogWriter writer, int snapCountTxns, ILogger log, Random? random = null)
    {
        _writer = writer;
        _snapCountTxns = Math.Max(2, snapCountTxns);
        _log = log;
        _random = random ?? new Random();
        _snapshotThreshold = NextThreshold();
    }

    /// <summary>Raised on the writer thread when the log has rolled and a snapshot should be taken.</summary>
    public event Action? SnapshotDue;

    /// <summary>Raised once if the log cannot be written: nothing after that is acknowledged.</summary>
    public event Action<Exception>? Failed;

    /// <summary>How long the last flush waited for the disk.</summary>
    public TimeSpan LastFsyncDuration => _writer.LastFsyncDuration;

    public void Start(Action<TxnHeaderAndBody> onCommitted)
    {
        _onCommitted = onCommitted;
        _thread = new Thread(WriteLoop) { IsBackground = true, Name = "warden-txn-log" };
        _thread.Start();
    }

    public void Propose(TxnHeaderAndBody txn) => _queue.Writer.TryWrite(txn);

    public FsyncStats Fsync { get; } = new();

    /// <summary>Apache snapshots after snapCount/2 plus a random share of snapCount/2 txns.</summary>
    private int NextThreshold() => _snapCountTxns / 2 + _random.Next(_snapCountTxns / 2);

    private void WriteLoop()
    {
        var reader = _queue.Reader;
        var batch = new List<TxnHeaderAndBody>(MaxBatch);
        try
        {
            while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                while (batch.Count < MaxBatch && reader.TryRead(out var txn))
                {
                    _writer.Append(txn.Header, txn.Body);
                    batch.Add(txn);
                }
                Fsync.Time(() => _writer.Flush());
                _lastDurableZxid = batch[^1].Header.Zxid;
                foreach (var txn in batch) _onCommitted!(txn);
                _txnsSinceSnapshot += batch.Count;
                batch.Clear();
                if (_txnsSinceSnapshot > _snapshotThreshold)
                {
                    _writer.Roll();
                    _txnsSinceSnapshot = 0;
                    _snapshotThreshold = NextThreshold();
                    SnapshotDue?.Invoke();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogCritical("Cannot write the transaction log: {Reason}. Nothing after zxid 0x{Zxid:x} was acknowledged.",
                e.Message, _lastDurableZxid);
            Failed?.Invoke(e);
        }
    }

    public ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        _thread?.Join();
        _writer.Dispose();
        return ValueTask.CompletedTask;
    }
}
