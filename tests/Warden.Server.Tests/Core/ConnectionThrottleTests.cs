using Warden.Server.Processing;

namespace Warden.Server.Tests.Core;

/// <summary>
/// zookeeper.connection_throttle_*: Apache ZooKeeper 3.8.0 with tokens=2 and a long fill time answered two
/// connect requests and closed the next two, and mntr then said zk_connection_rejected 2.
/// </summary>
public class ConnectionThrottleTests
{
    [Fact]
    public void TheBucketStartsFullRefillsByWholeStepsAndDropsTheRemainder()
    {
        var throttle = new ConnectionThrottle(new ConnectionThrottleSettings { Tokens = 3, FillTimeMs = 100, FillCount = 1 }, nowMs: 0);
        Assert.True(throttle.TryTake(3, 0));
        Assert.False(throttle.TryTake(1, 100));   // not more than one fill time has passed
        Assert.True(throttle.TryTake(1, 150));    // 150 ms: one token, the 50 ms left over are dropped
        Assert.False(throttle.TryTake(1, 240));   // 90 ms since that refill
        Assert.True(throttle.TryTake(2, 10_000)); // capped at the bucket's size
        Assert.Equal(2, throttle.Deficit);
    }

    [Fact]
    public void WeightsMakeNewSessionsCostMoreThanResumedOnes()
    {
        var plain = new ConnectionThrottle(new ConnectionThrottleSettings { Tokens = 5 }, 0);
        Assert.Equal(1, plain.Cost(resumesSession: false));
        var weighed = new ConnectionThrottle(new ConnectionThrottleSettings { Tokens = 5, WeightEnabled = true }, 0);
        Assert.Equal(3, weighed.Cost(resumesSession: false));
        Assert.Equal(2, weighed.Cost(resumesSession: true));
    }

    [Fact]
    public void SettingsAreReadAsApacheNamesThem()
    {
        var settings = ConnectionThrottleSettings.From(new Dictionary<string, string>
        {
            ["zookeeper.connection_throttle_tokens"] = "0x10",
            ["zookeeper.connection_throttle_fill_time"] = "bad",
            ["zookeeper.connection_throttle_fill_count"] = "4",
            ["zookeeper.connection_throttle_weight_enabled"] = "true",
        });
        Assert.Equal(16, settings.Tokens);
        Assert.Equal(1, settings.FillTimeMs);
        Assert.Equal(4, settings.FillCount);
        Assert.True(settings.WeightEnabled);
    }

    [Fact]
    public async Task ConnectRequestsBeyondTheTokensAreClosedAndCounted()
    {
        await using var harness = new CoreHarness(new ServerSettings
        {
            ConnectionThrottle = new ConnectionThrottleSettings { Tokens = 2, FillTimeMs = 1000, FillCount = 1 },
        });
        var first = await harness.ConnectAsync();
        var second = await harness.ConnectAsync();
        var third = await harness.ConnectAsync();
        Assert.Null(first.ClosedBecause);
        Assert.Null(second.ClosedBecause);
        Assert.NotNull(third.ClosedBecause);
        Assert.Empty(third.Sent);
        Assert.Equal(1, await harness.Core.QueryAsync(() => harness.Core.Stats.ConnectionsRejected));
        // Apache counts connection_request_count only for connects that got past the throttle.
        Assert.Equal(2, await harness.Core.QueryAsync(() => harness.Core.Stats.ConnectionRequests));

        harness.Time.Advance(TimeSpan.FromMilliseconds(1001));
        var later = await harness.ConnectAsync();
        Assert.Null(later.ClosedBecause);
    }
}
