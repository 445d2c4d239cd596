using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Warden.Data;
using Warden.Protocol;
using Warden.Server.Processing;

namespace Warden.Server.Tests.Core;

/// <summary>
/// Ordering rule 6 of the request path: a read waits only for its own session's earlier writes, and a write that
/// arrives behind a waiting read is prepared and logged at once; only its reply waits its turn. The loop is stepped
/// by hand (RunPending) and txns are committed one at a time, so every interleaving below is exact.
/// </summary>
public class SessionOrderingTests
{
    private readonly HeldReplicator _replicator = new();
    private readonly ServerCore _core;
    private int _xid;

    public SessionOrderingTests()
    {
        _core = new ServerCore(new ServerSettings(), _replicator, new ManualTime(), NullLogger.Instance);
    }

    private FakeConnection Connect()
    {
        var connection = new FakeConnection();
        _core.Post(new ConnectWork(connection, new ConnectRequest(0, 0, 30000, 0, new byte[16], false)));
        _core.RunPending();
        CommitAll();
        Assert.NotEqual(0, connection.Sent[0].AsConnectResponse().SessionId);
        return connection;
    }

    private int Send(FakeConnection connection, OpCode type, IJuteRecord? body)
    {
        int xid = ++_xid;
        using var writer = new JuteWriter();
        body?.Write(writer);
        _core.Post(new RequestWork(connection, xid, type, writer.ToArray(), 0));
        return xid;
    }

    private void CommitNext()
    {
        _replicator.CommitNext();
        _core.RunPending();
    }

    /// <summary>Commits everything held, and what the commits let the loop propose next, until nothing is held.</summary>
    private void CommitAll()
    {
        _core.RunPending();
        while (_replicator.Held.Count > 0)
        {
            _replicator.CommitAll();
            _core.RunPending();
        }
    }

    private static SetDataRequest Set(string path, string data) => new(path, Encoding.UTF8.GetBytes(data), -1);

    private static string DataOf(SentFrame reply) => Encoding.UTF8.GetString(reply.Body(GetDataResponse.Read).Data ?? []);

    private static List<int> ReplyXids(FakeConnection connection) => connection.Replies.Select(r => r.Header.Xid).ToList();

    [Fact]
    public void AWriteBehindAWaitingReadIsLoggedAtOnceAndItsReplyWaitsItsTurn()
    {
        var client = Connect();
        int w1 = Send(client, OpCode.Create, CoreHarness.Create("/a", "1"));
        int read = Send(client, OpCode.GetData, new PathWatchRequest("/a", false));
        int w2 = Send(client, OpCode.SetData, Set("/a", "2"));
        _core.RunPending();

        // Both writes reached the log while the read waits for the first.
        Assert.Equal([OpCode.Create, OpCode.SetData], _replicator.Held.Select(t => (OpCode)t.Header.Type));
        Assert.Empty(client.Replies);

        CommitNext();
        Assert.Equal([w1, read], ReplyXids(client));
        Assert.Equal("1", DataOf(client.Replies[1]));

        CommitNext();
        Assert.Equal([w1, read, w2], ReplyXids(client));
    }

    [Fact]
    public void AReadBetweenTwoWritesSeesTheFirstAndNotTheSecondEvenWhenBothCommitTogether()
    {
        var client = Connect();
        Send(client, OpCode.Create, CoreHarness.Create("/a", "0"));
        CommitAll();
        int w1 = Send(client, OpCode.SetData, Set("/a", "1"));
        int read = Send(client, OpCode.GetData, new PathWatchRequest("/a", false));
        int w2 = Send(client, OpCode.SetData, Set("/a", "2"));
        _core.RunPending();
        Assert.Equal(2, _replicator.Held.Count);

        // Both commits are queued before the loop runs: the read is answered between them.
        CommitAll();
        Assert.Equal([w1, read, w2], ReplyXids(client).Skip(1));
        Assert.Equal("1", DataOf(client.Replies[2]));
        var readZxid = client.Replies[2].Header.Zxid;
        Assert.Equal(client.Replies[1].Header.Zxid, readZxid);
        Assert.True(client.Replies[3].Header.Zxid > readZxid);
    }

    [Fact]
    public void EveryReadInALongPipelineSeesExactlyTheWritesSentBeforeIt()
    {
        var client = Connect();
        Send(client, OpCode.Create, CoreHarness.Create("/n", "0"));
        CommitAll();
        var expected = new Dictionary<int, string>();
        var order = new List<int>();
        int last = 0;
        var random = new Random(15);
        for (int i = 0; i < 200; i++)
        {
            if (random.Next(2) == 0)
            {
                last++;
                order.Add(Send(client, OpCode.SetData, Set("/n", last.ToString(System.Globalization.CultureInfo.InvariantCulture))));
            }
            else
            {
                int xid = Send(client, OpCode.GetData, new PathWatchRequest("/n", false));
                expected[xid] = last.ToString(System.Globalization.CultureInfo.InvariantCulture);
                order.Add(xid);
            }
        }
        _core.RunPending();
        Assert.Equal(last, _replicator.Held.Count);
        // Commits arrive in batches of varying size, as group commit delivers them.
        while (_replicator.Held.Count > 0)
        {
            int batch = Math.Min(_replicator.Held.Count, random.Next(1, 8));
            for (int i = 0; i < batch; i++) _replicator.CommitNext();
            _core.RunPending();
        }
        var replies = client.Replies.Skip(1).ToList();
        Assert.Equal(order, replies.Select(r => r.Header.Xid));
        foreach (var reply in replies.Where(r => expected.ContainsKey(r.Header.Xid)))
        {
            Assert.Equal(expected[reply.Header.Xid], DataOf(reply));
        }
    }

    [Fact]
    public void AWatchSetByAReadBetweenTwoWritesFiresForTheSecondBeforeItsReply()
    {
        var client = Connect();
        int w1 = Send(client, OpCode.Create, CoreHarness.Create("/w", "1"));
        int read = Send(client, OpCode.GetData, new PathWatchRequest("/w", true));
        int missing = Send(client, OpCode.Exists, new PathWatchRequest("/later", true));
        int w2 = Send(client, OpCode.SetData, Set("/w", "2"));
        int w3 = Send(client, OpCode.Create, CoreHarness.Create("/later"));
        _core.RunPending();
        Assert.Equal(3, _replicator.Held.Count);
        CommitAll();

        Assert.Equal([w1, read, missing, w2, w3], ReplyXids(client));
        Assert.Equal((int)ErrorCode.NoNode, client.Replies.Single(r => r.Header.Xid == missing).Header.Err);
        Assert.Equal(
            [
                new WatcherEvent(EventType.NodeDataChanged, KeeperState.SyncConnected, "/w"),
                new WatcherEvent(EventType.NodeCreated, KeeperState.SyncConnected, "/later"),
            ],
            client.Events);
        // Each event reaches the client before the reply of the write that caused it (rule 4).
        var frames = client.Sent.Skip(1).Select(f => f.Header.Xid).ToList();
        Assert.True(frames.IndexOf(Xids.Notification) < frames.IndexOf(w2));
        Assert.True(frames.LastIndexOf(Xids.Notification) < frames.IndexOf(w3));
        Assert.True(frames.IndexOf(read) < frames.IndexOf(Xids.Notification));
    }

    [Fact]
    public void ChildrenAndMultiReadsBetweenWritesSeeOnlyTheEarlierOnes()
    {
        var client = Connect();
        Send(client, OpCode.Create, CoreHarness.Create("/p"));
        CommitAll();
        Send(client, OpCode.Create, CoreHarness.Create("/p/a", "a"));
        int children = Send(client, OpCode.GetChildren, new PathWatchRequest("/p", false));
        int multi = Send(client, OpCode.MultiRead, new MultiBody([(OpCode.GetChildren, new PathWatchRequest("/p", false))]));
        Send(client, OpCode.Create, CoreHarness.Create("/p/b", "b"));
        _core.RunPending();
        Assert.Equal(2, _replicator.Held.Count);
        CommitAll();

        Assert.Equal(["a"], client.Replies.Single(r => r.Header.Xid == children).Body(GetChildrenResponse.Read).Children);
        var reader = new JuteReader(client.Replies.Single(r => r.Header.Xid == multi).Bytes.AsSpan(4 + ReplyHeader.WireSize));
        Assert.Equal((int)OpCode.GetChildren, MultiHeader.Read(ref reader).Type);
        Assert.Equal(["a"], GetChildrenResponse.Read(ref reader).Children);
    }

    [Fact]
    public void AFailedWriteBehindAWaitingReadKeepsItsPlaceAndItsZxid()
    {
        var client = Connect();
        int w1 = Send(client, OpCode.Create, CoreHarness.Create("/f", "1"));
        int read = Send(client, OpCode.Exists, new PathWatchRequest("/f", false));
        int failing = Send(client, OpCode.Create, CoreHarness.Create("/f", "again"));
        int w3 = Send(client, OpCode.SetData, Set("/f", "3"));
        _core.RunPending();
        Assert.Equal([OpCode.Create, OpCode.Error, OpCode.SetData], _replicator.Held.Select(t => (OpCode)t.Header.Type));
        CommitAll();

        Assert.Equal([w1, read, failing, w3], ReplyXids(client));
        Assert.Equal([0, 0, (int)ErrorCode.NodeExists, 0], client.Replies.Select(r => r.Header.Err));
    }

    [Fact]
    public void AnotherSessionsReadIsNotHeldBackByAWaitingSession()
    {
        var writer = Connect();
        var bystander = Connect();
        Send(writer, OpCode.Create, CoreHarness.Create("/x"));
        Send(writer, OpCode.Exists, new PathWatchRequest("/x", false));
        int other = Send(bystander, OpCode.Exists, new PathWatchRequest("/", false));
        _core.RunPending();
        Assert.Empty(writer.Replies);
        Assert.Equal([other], ReplyXids(bystander));
    }

    [Fact]
    public void AWriteBehindAWaitingAddAuthIsPreparedWithTheNewIdentity()
    {
        var client = Connect();
        Send(client, OpCode.Create, CoreHarness.Create("/g"));
        Send(client, OpCode.Exists, new PathWatchRequest("/g", false));
        Send(client, OpCode.Auth, new AuthPacket(0, "digest", Encoding.UTF8.GetBytes("user:secret")));
        int guarded = Send(client, OpCode.Create, new CreateRequest("/g/mine", [], [new Acl(Perms.All, new Id("auth", ""))], 0));
        _core.RunPending();
        // The create may not overtake the addauth that comes before it: it needs the identity it adds.
        Assert.Single(_replicator.Held);
        CommitAll();

        Assert.Equal([Xids.Auth, guarded], ReplyXids(client).Skip(2));
        Assert.Equal(0, client.Replies.Single(r => r.Header.Xid == guarded).Header.Err);
        Assert.Equal(0, client.Replies.Single(r => r.Header.Xid == Xids.Auth).Header.Err);
    }

    [Fact]
    public void AWriteBehindAWaitingCloseSessionIsNotLoggedBeforeIt()
    {
        var client = Connect();
        Send(client, OpCode.Create, CoreHarness.Create("/c"));
        Send(client, OpCode.Exists, new PathWatchRequest("/c", false));
        Send(client, OpCode.CloseSession, null);
        Send(client, OpCode.Create, CoreHarness.Create("/after-close"));
        _core.RunPending();
        Assert.Single(_replicator.Held);
        CommitAll();

        Assert.Null(_core.Tree.GetNode("/after-close"));
        Assert.NotNull(client.ClosedBecause);
    }

    [Fact]
    public void RequestsSentWhileTheSessionIsCreatedLogTheirWritesOnceItExists()
    {
        var client = new FakeConnection();
        _core.Post(new ConnectWork(client, new ConnectRequest(0, 0, 30000, 0, new byte[16], false)));
        int w1 = Send(client, OpCode.Create, CoreHarness.Create("/s", "1"));
        int read = Send(client, OpCode.GetData, new PathWatchRequest("/s", false));
        int w2 = Send(client, OpCode.SetData, Set("/s", "2"));
        _core.RunPending();
        Assert.Single(_replicator.Held);

        CommitNext();
        // The session exists: both writes are logged, and the read waits for the first one only.
        Assert.Equal([OpCode.Create, OpCode.SetData], _replicator.Held.Select(t => (OpCode)t.Header.Type));
        CommitAll();
        Assert.Equal([w1, read, w2], ReplyXids(client));
        Assert.Equal("1", DataOf(client.Replies[1]));
    }

    [Fact]
    public void AFollowerForwardsAWriteBehindAWaitingReadAndAnswersInOrder()
    {
        var loops = new TwoLoops();
        var client = loops.Connect(loops.Follower);
        int w1 = loops.Send(loops.Follower, client, OpCode.Create, CoreHarness.Create("/f", "1"));
        int read = loops.Send(loops.Follower, client, OpCode.GetData, new PathWatchRequest("/f", false));
        int w2 = loops.Send(loops.Follower, client, OpCode.SetData, Set("/f", "2"));
        loops.Follower.RunPending();
        Assert.Equal([w1, w2], loops.Forwarded.Where(f => f.Type != OpCode.CreateSession).Select(f => f.Cxid));
        Assert.Empty(client.Replies);

        loops.Pump();
        Assert.Equal([w1, read, w2], ReplyXids(client));
        Assert.Equal("1", DataOf(client.Replies[1]));
    }

    private sealed record MultiBody(List<(OpCode Type, IJuteRecord Body)> Ops) : IJuteRecord
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
