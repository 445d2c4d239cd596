using Microsoft.Extensions.Logging.Abstractions;
using Warden.Protocol;
using Warden.Server.Processing;
using Warden.Server.Tests.Configuration;

namespace Warden.Server.Tests.Core;

/// <summary>
/// zookeeper.request_throttle_max_requests and its companions, as Apache 3.8's RequestThrottler has them: past the
/// limit, requests wait in arrival order and each answer lets the next in; a waiting request whose client has gone is
/// dropped; one that waited past throttled_op_wait_time is answered ThrottledOp without being applied. The loop is
/// stepped by hand and txns are committed one at a time, so each case is exact.
/// </summary>
public sealed class RequestThrottleTests
{
    private readonly HeldReplicator _replicator = new();
    private readonly ManualTime _time = new();
    private int _xid;

    private ServerCore Core(RequestThrottleSettings throttle) =>
        new(new ServerSettings { RequestThrottle = throttle }, _replicator, _time, NullLogger.Instance);

    private FakeConnection Connect(ServerCore core)
    {
        var connection = new FakeConnection();
        core.Post(new ConnectWork(connection, new ConnectRequest(0, 0, 30000, 0, new byte[16], false)));
        CommitAll(core);
        Assert.NotEqual(0, connection.Sent[0].AsConnectResponse().SessionId);
        return connection;
    }

    private int Send(ServerCore core, FakeConnection connection, OpCode type, IJuteRecord? body)
    {
        int xid = ++_xid;
        using var writer = new JuteWriter();
        body?.Write(writer);
        core.Post(new RequestWork(connection, xid, type, writer.ToArray(), core.MonotonicNowMs));
        return xid;
    }

    private void CommitAll(ServerCore core)
    {
        core.RunPending();
        while (_replicator.Held.Count > 0)
        {
            _replicator.CommitAll();
            core.RunPending();
        }
    }

    private void CommitNext(ServerCore core)
    {
        _replicator.CommitNext();
        core.RunPending();
    }

    private static List<int> ReplyXids(FakeConnection connection) => connection.Replies.Select(r => r.Header.Xid).ToList();

    [Fact]
    public void SettingsAreReadAsApacheNamesThem()
    {
        var off = RequestThrottleSettings.From(new Dictionary<string, string>());
        Assert.False(off.Enabled);
        Assert.Equal(100, off.StallTimeMs);
        Assert.True(off.DropStale);
        Assert.True(off.StaleConnectionCheck);
        Assert.False(off.StaleLatencyCheck);
        Assert.Equal(0, off.ThrottledOpWaitTimeMs);

        var on = RequestThrottleSettings.From(new Dictionary<string, string>
        {
            ["zookeeper.request_throttle_max_requests"] = "0x20",
            ["zookeeper.request_throttle_stall_time"] = "bad",
            ["zookeeper.request_throttle_drop_stale"] = "FALSE",
            ["zookeeper.request_stale_latency_check"] = "True",
            ["zookeeper.throttled_op_wait_time"] = "250",
        });
        Assert.Equal(32, on.MaxRequests);
        Assert.Equal(100, on.StallTimeMs);
        Assert.False(on.DropStale);
        Assert.True(on.StaleLatencyCheck);
        Assert.Equal(250, on.ThrottledOpWaitTimeMs);
    }

    [Fact]
    public void ZooCfgKeysSetTheThrottleAsTheyDoInApache()
    {
        using var sandbox = new ConfigSandbox();
        var result = sandbox.Load("dataDir=d\nclientPort=2181\nrequest_throttle_max_requests=7\nthrottled_op_wait_time=50\n");
        Assert.Empty(result.Errors);
        var settings = ServerSettings.From(result.Config!);
        Assert.Equal(7, settings.RequestThrottle.MaxRequests);
        Assert.Equal(50, settings.RequestThrottle.ThrottledOpWaitTimeMs);
    }

    [Fact]
    public void RequestsPastTheLimitWaitInArrivalOrderAndEachAnswerLetsOneIn()
    {
        var core = Core(new RequestThrottleSettings { MaxRequests = 2 });
        var a = Connect(core);
        var b = Connect(core);
        int a1 = Send(core, a, OpCode.Create, CoreHarness.Create("/a1"));
        int b1 = Send(core, b, OpCode.Create, CoreHarness.Create("/b1"));
        int a2 = Send(core, a, OpCode.Create, CoreHarness.Create("/a2"));
        int b2 = Send(core, b, OpCode.GetData, new PathWatchRequest("/a1", false));
        core.RunPending();

        // Two in process, two waiting: only the first two reached the log.
        Assert.Equal(2, _replicator.Held.Count);
        Assert.Equal(2, core.RequestsInProcess);
        Assert.Equal(2, core.RequestsThrottled);
        Assert.Equal(2, core.Stats.RequestThrottleWaits);

        CommitNext(core);
        // a1 answered: a2 (the oldest waiting) went in and was logged; b2 still waits.
        Assert.Equal([a1], ReplyXids(a));
        Assert.Equal(2, _replicator.Held.Count);
        Assert.Equal(1, core.RequestsThrottled);

        CommitNext(core);
        // b1 answered: b2, a read, went in and was answered at once, after b1.
        Assert.Equal([b1, b2], ReplyXids(b));
        Assert.Equal(ErrorCode.Ok, (ErrorCode)b.Replies[1].Header.Err);
        Assert.Equal(0, core.RequestsThrottled);

        CommitAll(core);
        Assert.Equal([a1, a2], ReplyXids(a));
        Assert.Equal(0, core.RequestsInProcess);
        // The two that waited are in the queue-time summary.
        Assert.Equal(2, core.Stats.RequestThrottleQueueTime.Count);
    }

    [Fact]
    public void AWaitingRequestWhoseClientHasGoneIsDroppedAndCounted()
    {
        var core = Core(new RequestThrottleSettings { MaxRequests = 1 });
        var a = Connect(core);
        var b = Connect(core);
        int a1 = Send(core, a, OpCode.Create, CoreHarness.Create("/a1"));
        Send(core, b, OpCode.Create, CoreHarness.Create("/b1"));
        core.RunPending();
        core.Post(new DisconnectWork(b));
        core.RunPending();

        CommitAll(core);
        Assert.Equal([a1], ReplyXids(a));
        Assert.Empty(b.Replies);
        Assert.Equal(1, core.Stats.StaleRequestsDropped);
        Assert.Equal(0, core.RequestsThrottled);
        Assert.Equal(0, core.RequestsInProcess);
        // b's create never reached the log.
        Assert.Null(core.Tree.GetNode("/b1"));
    }

    [Fact]
    public void WithTheLatencyCheckARequestOlderThanItsSessionTimeoutIsDroppedWithItsConnection()
    {
        var core = Core(new RequestThrottleSettings { MaxRequests = 1, StaleLatencyCheck = true });
        var a = Connect(core);
        var b = Connect(core);
        int a1 = Send(core, a, OpCode.Create, CoreHarness.Create("/a1"));
        Send(core, b, OpCode.GetData, new PathWatchRequest("/", false));
        Send(core, b, OpCode.GetData, new PathWatchRequest("/", false));
        core.RunPending();
        _time.Advance(TimeSpan.FromSeconds(31));

        CommitNext(core);
        Assert.Equal([a1], ReplyXids(a));
        Assert.Empty(b.Replies);
        Assert.NotNull(b.ClosedBecause);
        // Only the first was stale and dropped; the second went with its connection, uncounted, as in Apache.
        Assert.Equal(1, core.Stats.StaleRequestsDropped);
        Assert.Equal(0, core.RequestsThrottled);
    }

    [Fact]
    public void ARequestThatWaitedPastThrottledOpWaitTimeIsAnsweredThrottledOpInItsTurnAndNotApplied()
    {
        var core = Core(new RequestThrottleSettings { MaxRequests = 1, ThrottledOpWaitTimeMs = 100 });
        var a = Connect(core);
        var b = Connect(core);
        Send(core, a, OpCode.Create, CoreHarness.Create("/a1"));
        int b1 = Send(core, b, OpCode.Create, CoreHarness.Create("/b1"));
        Send(core, b, OpCode.Ping, null);
        core.RunPending();
        _time.Advance(TimeSpan.FromMilliseconds(150));

        CommitAll(core);
        Assert.Equal([b1, Xids.Ping], ReplyXids(b));
        Assert.Equal(ErrorCode.ThrottledOp, (ErrorCode)b.Replies[0].Header.Err);
        // A ping is never throttled.
        Assert.Equal(ErrorCode.Ok, (ErrorCode)b.Replies[1].Header.Err);
        Assert.Null(core.Tree.GetNode("/b1"));
        Assert.NotNull(core.Tree.GetNode("/a1"));
        Assert.Equal(1, core.Stats.ThrottledOps);
        Assert.Equal(0, core.RequestsInProcess);
    }

    [Fact]
    public void WithoutALimitNothingWaits()
    {
        var core = Core(new RequestThrottleSettings());
        var a = Connect(core);
        for (int i = 0; i < 50; i++) Send(core, a, OpCode.Create, CoreHarness.Create($"/n{i}"));
        core.RunPending();
        Assert.Equal(50, _replicator.Held.Count);
        Assert.Equal(0, core.Stats.RequestThrottleWaits);
        CommitAll(core);
        Assert.Equal(0, core.RequestsInProcess);
    }
}
