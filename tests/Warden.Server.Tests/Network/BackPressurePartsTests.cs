using Microsoft.Extensions.Logging;
using Warden.Protocol;
using Warden.Server.Network;

namespace Warden.Server.Tests.Network;

public sealed class BackPressurePartsTests
{
    [Fact]
    public void SharedBuffersGoOnTheWireExactlyAsCopiedOnes()
    {
        var data = new byte[10_000];
        new Random(5).NextBytes(data);
        var response = new GetDataResponse(data, new Stat(1, 2, 3, 4, 5, 6, 7, 0, data.Length, 0, 8));

        using var copying = new JuteWriter();
        copying.BeginFrame();
        new ReplyHeader(7, 9, 0).Write(copying);
        response.Write(copying);
        copying.EndFrame();

        using var sharing = new JuteWriter { ShareBuffersFromBytes = 4096 };
        sharing.BeginFrame();
        new ReplyHeader(7, 9, 0).Write(sharing);
        response.Write(sharing);
        sharing.EndFrame();
        var frame = sharing.ToFrame();

        Assert.Equal(copying.ToArray(), frame.ToArray());
        Assert.Equal(copying.Length, frame.Length);
        // The data itself is referenced, not copied.
        Assert.Contains(frame.Segments, s => System.Runtime.InteropServices.MemoryMarshal.TryGetArray(s, out var a) && ReferenceEquals(a.Array, data));
    }

    [Fact]
    public void PastTheGlobalLimitOnlyConnectionsWithARequestInFlightWait()
    {
        var outstanding = new OutstandingRequests(limit: 2);
        outstanding.Add(2);
        Assert.True(outstanding.MustWait(connectionOutstanding: 1));
        Assert.False(outstanding.MustWait(connectionOutstanding: 0));
        outstanding.Add(-1);
        Assert.False(outstanding.MustWait(connectionOutstanding: 1));
    }

    [Fact]
    public void RepeatedWarningsAreFoldedIntoOneLineAnInterval()
    {
        var time = new ManualTime();
        var log = new ListLogger();
        var refusals = new RateLimitedLog(log, time, TimeSpan.FromSeconds(1));
        for (int i = 0; i < 41; i++) refusals.Warn("Too many connections from 10.0.0.1 - max is 60");
        Assert.Equal(["Too many connections from 10.0.0.1 - max is 60"], log.Lines);
        time.Advance(TimeSpan.FromSeconds(2));
        refusals.Warn("Too many connections from 10.0.0.1 - max is 60");
        Assert.Equal(
            ["Too many connections from 10.0.0.1 - max is 60", "[40 times] Too many connections from 10.0.0.1 - max is 60",
             "Too many connections from 10.0.0.1 - max is 60"],
            log.Lines);
        refusals.Warn("Too many connections from 10.0.0.2 - max is 60");
        Assert.Equal("Too many connections from 10.0.0.2 - max is 60", log.Lines[^1]);
    }

    [Fact]
    public void WarningsOfOneKindFoldTogetherWhateverTheirText()
    {
        var time = new ManualTime();
        var log = new ListLogger();
        var refusals = new RateLimitedLog(log, time, TimeSpan.FromSeconds(1));
        for (int i = 0; i < 100; i++) refusals.Warn($"Too many connections from 127.0.0.{2 + i} - max is 5", kind: "per-address");
        Assert.Equal(["Too many connections from 127.0.0.2 - max is 5"], log.Lines);
        time.Advance(TimeSpan.FromSeconds(2));
        refusals.Warn("Too many connections from 127.0.0.2 - max is 5", kind: "per-address");
        Assert.Equal(
            ["Too many connections from 127.0.0.2 - max is 5", "[99 times, 99 distinct] Too many connections from 127.0.0.2 - max is 5",
             "Too many connections from 127.0.0.2 - max is 5"],
            log.Lines);
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks;
        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }
}
