using Warden.Data;
using Warden.Protocol;
using Warden.Server.Processing;
using Warden.Server.Sessions;

namespace Warden.Server.Tests.Core;

public class ServerCoreTests
{
    [Fact]
    public async Task ANewSessionTakesAZxidAndGetsItsTimeoutClamped()
    {
        await using var harness = new CoreHarness(new ServerSettings { TickTimeMs = 2000, MinSessionTimeoutMs = 4000, MaxSessionTimeoutMs = 40000 });
        var shortOne = await harness.ConnectAsync(timeoutMs: 1000);
        var longOne = await harness.ConnectAsync(timeoutMs: 100000);
        var first = shortOne.Sent[0].AsConnectResponse();
        Assert.Equal(4000, first.TimeoutMs);
        Assert.Equal(40000, longOne.Sent[0].AsConnectResponse().TimeoutMs);
        Assert.Equal(SessionTracker.PasswordFor(first.SessionId), first.Password);
        Assert.Equal(1, first.SessionId >>> 56);
        Assert.Equal(2, harness.Core.Tree.LastProcessedZxid);
    }

    /// <summary>
    /// Found by the server-request fuzz target: a multiRead holding a write op closed the connection with an
    /// unexpected error. Apache 3.8 answers MARSHALLINGERROR (-5) and serves the session on; so does Warden.
    /// </summary>
    [Fact]
    public async Task AMultiReadHoldingAWriteIsAMarshallingErrorAndTheSessionGoesOn()
    {
        await using var harness = new CoreHarness();
        var client = await harness.ConnectAsync();
        var ops = new MultiOpsBody([(OpCode.Create, CoreHarness.Create("/m", "x")), (OpCode.Check, new CheckVersionRequest("/m", 0))]);
        var reply = await harness.CallAsync(client, OpCode.MultiRead, ops);
        Assert.Equal((int)ErrorCode.MarshallingError, reply.Header.Err);
        Assert.Null(client.ClosedBecause);
        var exists = await harness.CallAsync(client, OpCode.Exists, new PathWatchRequest("/m", false));
        Assert.Equal((int)ErrorCode.NoNode, exists.Header.Err);
    }

    private sealed record MultiOpsBody(List<(OpCode Type, IJuteRecord Op)> Ops) : IJuteRecord
    {
        public void Write(JuteWriter writer)
        {
            foreach (var (type, op) in Ops)
            {
                new MultiHeader((int)type, false, -1).Write(writer);
                op.Write(writer);
            }
            new MultiHeader(-1, true, -1).Write(writer);
        }
    }

    [Fact]
    public async Task AFailedWriteStillTakesAZxidAsOnApache()
    {
        await using var harness = new CoreHarness();
        var client = await harness.ConnectAsync();
        var created = await harness.CallAsync(client, OpCode.Create, CoreHarness.Create("/a"));
        var again = await harness.CallAsync(client, OpCode.Create, CoreHarness.Create("/a"));
        var read = await harness.CallAsync(client, OpCode.Exists, new PathWatchRequest("/a", false));
        Assert.Equal(new ReplyHeader(created.Header.Xid, 2, 0), created.Header);
        Assert.Equal(new ReplyHeader(again.Header.Xid, 3, (int)ErrorCode.NodeExists), again.Header);
        Assert.Equal(3, read.Header.Zxid);
        Assert.Equal(2, read.Body(StatResponse.Read).Stat.Czxid);
    }

    [Fact]
    public async Task SequentialNodesCountFromTheParentsStoredCversion()
    {
        await using var harness = new CoreHarness();
        var client = await harness.ConnectAsync();
        await harness.CallAsync(client, OpCode.Create, CoreHarness.Create("/q"));
        var first = await harness.CallAsync(client, OpCode.Create, CoreHarness.Create("/q/n-", mode: CreateMode.PersistentSequential));
        await harness.CallAsync(client, OpCode.Delete, new DeleteRequest("/q/n-0000000000", -1));
        var second = await harness.CallAsync(client, OpCode.Create, CoreHarness.Create("/q/n-", mode: CreateMode.PersistentSequential));
        Assert.Equal("/q/n-0000000000", first.Body(CreateResponse.Read).Path);
        Assert.Equal("/q/n-0000000001", second.Body(CreateResponse.Read).Path);
        Assert.Equal("-000000005", RequestPreparer.SequenceSuffix(-5));
        Assert.Equal("-2147483648", RequestPreparer.SequenceSuffix(int.MinValue));
    }

    [Fact]
    public async Task AReadWaitsForItsSessionsPendingWriteAndRepliesStayInOrder()
    {
        var replicator = new HeldReplicator();
        await using var harness = new CoreHarness(replicator: replicator);
        var client = harness.ConnectAsync();
        await harness.SettleAsync();
        replicator.CommitAll();
        var connection = await client;
        await harness.SettleAsync();

        int createXid = harness.Send(connection, OpCode.Create, CoreHarness.Create("/x", "1"));
        int readXid = harness.Send(connection, OpCode.GetData, new PathWatchRequest("/x", false));
        await harness.SettleAsync();
        Assert.Empty(connection.Replies);

        replicator.CommitAll();
        await harness.SettleAsync();
        Assert.Equal([createXid, readXid], connection.Replies.Select(r => r.Header.Xid));
        Assert.Equal(0, connection.Replies[1].Header.Err);
    }

    [Fact]
    public async Task PipelinedWritesFromTwoSessionsSeeEachOtherBeforeTheyAreApplied()
    {
        var replicator = new HeldReplicator();
        await using var harness = new CoreHarness(replicator: replicator);
        var a = harness.ConnectAsync();
        var b = harness.ConnectAsync();
        await harness.SettleAsync();
        replicator.CommitAll();
        var (first, second) = (await a, await b);

        harness.Send(first, OpCode.Create, CoreHarness.Create("/race"));
        harness.Send(second, OpCode.Create, CoreHarness.Create("/race"));
        await harness.SettleAsync();
        replicator.CommitAll();
        await harness.SettleAsync();
        Assert.Equal(0, first.Replies.Single().Header.Err);
        Assert.Equal((int)ErrorCode.NodeExists, second.Replies.Single().Header.Err);
    }

    [Fact]
    public async Task TheWatchEventIsQueuedBeforeTheReplyThatRevealsTheChange()
    {
        await using var harness = new CoreHarness();
        var client = await harness.ConnectAsync();
        await harness.CallAsync(client, OpCode.Create, CoreHarness.Create("/w"));
        await harness.CallAsync(client, OpCode.GetData, new PathWatchRequest("/w", true));
        var set = await harness.CallAsync(client, OpCode.SetData, new SetDataRequest("/w", [1], -1));
        int eventIndex = client.Sent.FindIndex(f => f.Header.Xid == Xids.Notification);
        int replyIndex = client.Sent.FindIndex(f => f.Header.Xid == set.Header.Xid);
        Assert.True(eventIndex >= 0 && eventIndex < replyIndex);
        Assert.Equal(new WatcherEvent(EventType.NodeDataChanged, KeeperState.SyncConnected, "/w"), client.Events.Single());
    }

    [Fact]
    public async Task AnExpiredSessionLosesItsEphemeralsAndWatchersHear()
    {
        await using var harness = new CoreHarness(new ServerSettings { TickTimeMs = 2000, MinSessionTimeoutMs = 4000, MaxSessionTimeoutMs = 40000 });
        var owner = await harness.ConnectAsync(timeoutMs: 4000);
        var watcher = await harness.ConnectAsync(timeoutMs: 40000);
        await harness.CallAsync(owner, OpCode.Create, CoreHarness.Create("/eph", mode: CreateMode.Ephemeral));
        await harness.CallAsync(watcher, OpCode.Exists, new PathWatchRequest("/eph", true));

        harness.Time.Advance(TimeSpan.FromSeconds(7));
        await harness.CallAsync(watcher, OpCode.Ping, null);
        harness.Core.Post(new TickWork());
        await harness.SettleAsync();

        Assert.Null(harness.Core.Tree.GetNode("/eph"));
        Assert.Equal(EventType.NodeDeleted, watcher.Events.Single().Type);
        Assert.Equal("the session expired", owner.ClosedBecause);
        Assert.Null(watcher.ClosedBecause);
        var reconnect = await harness.ConnectAsync(sessionId: owner.Sent[0].AsConnectResponse().SessionId, password: owner.Sent[0].AsConnectResponse().Password);
        Assert.Equal(0, reconnect.Sent[0].AsConnectResponse().SessionId);
    }

    [Fact]
    public async Task AWrongPasswordIsRefusedAsApacheDoes()
    {
        await using var harness = new CoreHarness();
        var client = await harness.ConnectAsync();
        var session = client.Sent[0].AsConnectResponse();
        var intruder = await harness.ConnectAsync(sessionId: session.SessionId, password: new byte[16]);
        var refusal = intruder.Sent.Single().AsConnectResponse();
        Assert.Equal(0, refusal.TimeoutMs);
        Assert.Equal(0, refusal.SessionId);
        Assert.Equal(new byte[16], refusal.Password);
        Assert.NotNull(intruder.ClosedBecause);

        var resumed = await harness.ConnectAsync(sessionId: session.SessionId, password: session.Password);
        Assert.Equal(session.SessionId, resumed.Sent.Single().AsConnectResponse().SessionId);
        Assert.NotNull(client.ClosedBecause);
    }

    [Fact]
    public async Task AnUnknownOpcodeIsUnimplementedAndClosesOnlyThatConnection()
    {
        await using var harness = new CoreHarness();
        var client = await harness.ConnectAsync();
        var other = await harness.ConnectAsync();
        harness.SendRaw(client, 5, (OpCode)999, null);
        await harness.SettleAsync();
        Assert.Equal(new ReplyHeader(5, -1, (int)ErrorCode.Unimplemented), client.Sent.Last().Header);
        Assert.NotNull(client.ClosedBecause);
        var stillFine = await harness.CallAsync(other, OpCode.Exists, new PathWatchRequest("/zookeeper", false));
        Assert.Equal(0, stillFine.Header.Err);
    }

    [Fact]
    public async Task CloseSessionDeletesEphemeralsAndClosesTheConnection()
    {
        await using var harness = new CoreHarness();
        var client = await harness.ConnectAsync();
        await harness.CallAsync(client, OpCode.Create, CoreHarness.Create("/e1", mode: CreateMode.Ephemeral));
        var close = await harness.CallAsync(client, OpCode.CloseSession, null);
        Assert.Equal(0, close.Header.Err);
        Assert.Equal("the client closed its session", client.ClosedBecause);
        Assert.Null(harness.Core.Tree.GetNode("/e1"));
        Assert.Equal(0, harness.Core.Sessions.Count);
    }

    [Fact]
    public async Task AFailingMultiRepliesOkInTheHeaderWithPerOpErrors()
    {
        await using var harness = new CoreHarness();
        var client = await harness.ConnectAsync();
        var multi = new MultiRequestBody([
            (OpCode.Create, CoreHarness.Create("/m1")),
            (OpCode.Delete, new DeleteRequest("/missing", -1)),
            (OpCode.SetData, new SetDataRequest("/m1", [], -1)),
        ]);
        var reply = await harness.CallAsync(client, OpCode.Multi, multi);
        Assert.Equal(0, reply.Header.Err);
        var reader = new JuteReader(reply.Bytes.AsSpan(4 + ReplyHeader.WireSize));
        var errors = new List<int>();
        for (var header = MultiHeader.Read(ref reader); !header.Done; header = MultiHeader.Read(ref reader))
        {
            Assert.Equal(-1, header.Type);
            errors.Add(ErrorResponse.Read(ref reader).Err);
        }
        Assert.Equal([0, (int)ErrorCode.NoNode, (int)ErrorCode.RuntimeInconsistency], errors);
        Assert.Null(harness.Core.Tree.GetNode("/m1"));
    }

    private sealed record MultiRequestBody(List<(OpCode Type, IJuteRecord Body)> Ops) : IJuteRecord
    {
        public void Write(JuteWriter writer)
        {
            foreach (var (type, body) in Ops)
            {
                new MultiHeader((int)type, false, -1).Write(writer);
                body.Write(writer);
            }
            new MultiHeader(-1, true, -1).Write(writer);
        }
    }
}

public class SessionPasswordTests
{
    /// <summary>Session ids and passwords that Apache ZooKeeper 3.8.0 handed out, captured from its connect responses.</summary>
    [Theory]
    [InlineData(0x0100000ae4320004L, "4801370359ff178d0fba37ea99b6d079")]
    [InlineData(0x0100000ae4320005L, "5b223103f94af7d104fd9e156c3fe546")]
    [InlineData(0x0100000ae4320006L, "22bf42031968590325346993f1a4a7df")]
    [InlineData(0x0100000ae4320007L, "35e03c03b9b338481a77d0bec52dbcac")]
    public void PasswordsMatchApaches(long sessionId, string password)
    {
        Assert.Equal(password, Convert.ToHexString(SessionTracker.PasswordFor(sessionId)).ToLowerInvariant());
        Assert.True(SessionTracker.CheckPassword(sessionId, Convert.FromHexString(password)));
    }

    [Fact]
    public void SessionIdsCarryTheServerIdInTheTopByte()
    {
        long id = SessionTracker.InitialSessionId(1, 0x0ae432L);
        Assert.Equal(1, id >>> 56);
        Assert.Equal(0x0100000ae4320000L, id);
    }
}
