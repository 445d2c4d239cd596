namespace Warden.Server.Processing;

/// <summary>Server-wide counters that srvr, stat and mntr report. Written only by the loop.</summary>
public sealed class ServerStats
{
    public long PacketsReceived { get; set; }
    public long PacketsSent { get; set; }
    public long MinLatencyMs { get; private set; } = long.MaxValue;
    public long MaxLatencyMs { get; private set; }
    public long TotalLatencyMs { get; private set; }
    public long LatencyCount { get; private set; }

    public void RecordLatency(long latencyMs)
    {
        MinLatencyMs = Math.Min(MinLatencyMs, latencyMs);
        MaxLatencyMs = Math.Max(MaxLatencyMs, latencyMs);
        TotalLatencyMs += latencyMs;
        LatencyCount++;
    }

    public long MinLatencyOrZero => LatencyCount == 0 ? 0 : MinLatencyMs;
    public double AverageLatencyMs => LatencyCount == 0 ? 0 : (double)TotalLatencyMs / LatencyCount;

    public void Reset()
    {
        PacketsReceived = 0;
        PacketsSent = 0;
        MinLatencyMs = long.MaxValue;
        MaxLatencyMs = 0;
        TotalLatencyMs = 0;
        LatencyCount = 0;
    }
}
