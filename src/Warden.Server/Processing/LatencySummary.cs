namespace Warden.Server.Processing;

/// <summary>
/// One of Apache's AvgMinMaxPercentileCounters (readlatency, updatelatency): count, sum, min and max of every
/// value, and percentiles from a uniform sample of 1028 values (Algorithm R, as the Dropwizard reservoir Apache
/// uses). Written only by the loop, so it needs no lock; a value costs a few field writes and one random number.
/// When Prometheus is on, values are also copied into a batch that is observed off the loop.
/// </summary>
public sealed class LatencySummary
{
    private const int ReservoirSize = 1028;
    private readonly long[] _reservoir = new long[ReservoirSize];
    private readonly Random _random = new(0x5EED);

    public LatencySummary(string name) => Name = name;

    /// <summary>The name Apache gives it: readlatency, updatelatency.</summary>
    public string Name { get; }

    public long Count { get; private set; }
    public long Sum { get; private set; }
    public long Min { get; private set; } = long.MaxValue;
    public long Max { get; private set; }

    /// <summary>Where values also go for the Prometheus summary; null while Prometheus is off.</summary>
    public ObservationBatch? Exported { get; set; }

    public void Add(long value)
    {
        Count++;
        Sum += value;
        if (value < Min) Min = value;
        if (value > Max) Max = value;
        if (Count <= ReservoirSize)
        {
            _reservoir[Count - 1] = value;
        }
        else
        {
            long slot = _random.NextInt64(Count);
            if (slot < ReservoirSize) _reservoir[slot] = value;
        }
        Exported?.Add(value);
    }

    public double Average => Count == 0 ? 0 : (double)Sum / Count;
    public long MinOrZero => Count == 0 ? 0 : Min;

    /// <summary>
    /// The quantile of the sampled values the way Dropwizard's Snapshot computes it (position q·(n+1), linear
    /// between neighbours), truncated to a whole millisecond as mntr prints it.
    /// </summary>
    public long Percentile(double quantile)
    {
        int n = (int)Math.Min(Count, ReservoirSize);
        if (n == 0) return 0;
        var sorted = _reservoir.AsSpan(0, n).ToArray();
        Array.Sort(sorted);
        double position = quantile * (n + 1);
        if (position < 1) return sorted[0];
        if (position >= n) return sorted[n - 1];
        double lower = sorted[(int)position - 1];
        double upper = sorted[(int)position];
        return (long)(lower + (position - Math.Floor(position)) * (upper - lower));
    }

    public void Reset()
    {
        Count = 0;
        Sum = 0;
        Min = long.MaxValue;
        Max = 0;
    }
}

/// <summary>
/// Values collected on the loop in a plain array and handed, a full array at a time, to a thread-pool item
/// that observes them into a Prometheus summary; the loop never takes the summary's lock.
/// </summary>
public sealed class ObservationBatch(Action<long[], int> observe)
{
    private const int BatchSize = 1024;
    private long[] _values = new long[BatchSize];
    private int _count;

    public void Add(long value)
    {
        _values[_count++] = value;
        if (_count == BatchSize) Flush();
    }

    /// <summary>Hands what is collected to the thread pool; on the loop only (a scrape asks the loop to call it).</summary>
    public void Flush()
    {
        if (_count == 0) return;
        var full = _values;
        int count = _count;
        _values = new long[BatchSize];
        _count = 0;
        ThreadPool.UnsafeQueueUserWorkItem(_ => observe(full, count), null);
    }
}
