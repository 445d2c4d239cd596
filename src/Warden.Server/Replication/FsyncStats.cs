namespace Warden.Server.Replication;

/// <summary>
/// How long the txn log's flushes to disk take: Apache's fsynctime summary and fsync_threshold_exceed_count
/// (flushes slower than zookeeper.fsync.warningthresholdms, 1000 ms by default). Written by the one thread that
/// writes the log, once per batch, never by the request loop; read from anywhere.
/// </summary>
public sealed class FsyncStats
{
    private long _count;
    private long _totalMs;
    private long _minMs = long.MaxValue;
    private long _maxMs;
    private long _exceeded;

    public long WarningThresholdMs { get; set; } = 1000;

    /// <summary>Also told of every flush time when Prometheus is on (a summary, observed on the log thread).</summary>
    public Action<long>? Exported { get; set; }

    /// <summary>Runs a flush and records how long it took.</summary>
    public void Time(Action flush)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        flush();
        long elapsedMs = (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _totalMs, elapsedMs);
        if (elapsedMs < Volatile.Read(ref _minMs)) Volatile.Write(ref _minMs, elapsedMs);
        if (elapsedMs > Volatile.Read(ref _maxMs)) Volatile.Write(ref _maxMs, elapsedMs);
        if (elapsedMs > WarningThresholdMs) Interlocked.Increment(ref _exceeded);
        Exported?.Invoke(elapsedMs);
    }

    public long Count => Interlocked.Read(ref _count);
    public long TotalMs => Interlocked.Read(ref _totalMs);
    public long MinMs => Count == 0 ? 0 : Volatile.Read(ref _minMs);
    public long MaxMs => Volatile.Read(ref _maxMs);
    public double AverageMs => Count == 0 ? 0 : (double)TotalMs / Count;
    public long ThresholdExceeded => Interlocked.Read(ref _exceeded);

    /// <summary>srst clears the exceed count, as Apache's ServerStats.reset does.</summary>
    public void ResetThresholdExceeded() => Interlocked.Exchange(ref _exceeded, 0);
}

/// <summary>Last, smallest and largest proposal in bytes; written on the quorum thread, read from anywhere.</summary>
public sealed class ProposalSizes
{
    private long _last = -1;
    private long _min = -1;
    private long _max = -1;

    public void Record(int bytes)
    {
        Volatile.Write(ref _last, bytes);
        long min = Volatile.Read(ref _min);
        if (min < 0 || bytes < min) Volatile.Write(ref _min, bytes);
        if (bytes > Volatile.Read(ref _max)) Volatile.Write(ref _max, bytes);
    }

    public long Last => Volatile.Read(ref _last);
    public long Min => Volatile.Read(ref _min);
    public long Max => Volatile.Read(ref _max);
}
