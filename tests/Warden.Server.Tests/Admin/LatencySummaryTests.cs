using Warden.Protocol;
using Warden.Server.Processing;

namespace Warden.Server.Tests.Admin;

/// <summary>The latency summaries behind mntr's readlatency and updatelatency keys.</summary>
public sealed class LatencySummaryTests
{
    [Fact]
    public void ReadsAndWritesAreSummarisedApart()
    {
        var stats = new ServerStats();
        foreach (var latency in new long[] { 1, 2, 3, 4 }) stats.RecordLatency(latency, OpCode.GetData);
        stats.RecordLatency(10, OpCode.SetData);
        stats.RecordLatency(20, OpCode.CreateSession);
        stats.RecordLatency(0, OpCode.Ping);

        Assert.Equal(5, stats.ReadLatency.Count);
        Assert.Equal(10, stats.ReadLatency.Sum);
        Assert.Equal(0, stats.ReadLatency.MinOrZero);
        Assert.Equal(4, stats.ReadLatency.Max);
        Assert.Equal(2, stats.UpdateLatency.Count);
        Assert.Equal(15.0, stats.UpdateLatency.Average);
        Assert.Equal(7, stats.LatencyCount);
    }

    /// <summary>Dropwizard's quantile: position q(n+1) in the sorted sample, linear between neighbours.</summary>
    [Fact]
    public void PercentilesFollowDropwizardsSnapshot()
    {
        var summary = new LatencySummary("readlatency");
        for (long i = 1; i <= 100; i++) summary.Add(i);

        Assert.Equal(50, summary.Percentile(0.5));
        Assert.Equal(95, summary.Percentile(0.95));
        Assert.Equal(99, summary.Percentile(0.99));
        Assert.Equal(100, summary.Percentile(0.999));
        Assert.Equal(0, new LatencySummary("empty").Percentile(0.5));
    }

    /// <summary>Past the reservoir's 1028 values, the percentiles still describe every value seen, not the first ones.</summary>
    [Fact]
    public void TheReservoirSamplesTheWholeRun()
    {
        var summary = new LatencySummary("updatelatency");
        for (int i = 0; i < 10_000; i++) summary.Add(1);
        for (int i = 0; i < 90_000; i++) summary.Add(100);

        Assert.Equal(100_000, summary.Count);
        Assert.Equal(100, summary.Percentile(0.5));
        Assert.Equal(1, summary.MinOrZero);
    }

    [Fact]
    public void ResetClearsWhatSrstClears()
    {
        var stats = new ServerStats();
        stats.RecordLatency(5, OpCode.GetData);
        stats.RecordResponse(16);
        stats.ConnectionRequests = 3;
        stats.Reset();

        Assert.Equal(0, stats.ReadLatency.Count);
        Assert.Equal(-1, stats.LastResponseBytes);
        Assert.Equal(-1, stats.MaxResponseBytes);
        Assert.Equal(3, stats.ConnectionRequests);
    }
}
