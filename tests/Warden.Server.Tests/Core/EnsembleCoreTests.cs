using Microsoft.Extensions.Logging.Abstractions;
using Warden.Data;
using Warden.Protocol;
using Warden.Server.Processing;
using Warden.Server.Replication;
using Warden.Server.Sessions;

namespace Warden.Server.Tests.Core;

/// <summary>
/// A leader's and a follower's request loops wired together in memory and stepped by hand (no threads): the
/// follower forwards raw requests and revalidations to the leader, and the leader's commits reach both loops in
/// zxid order, as the quorum host delivers them.
/// </summary>
internal sealed class TwoLoops
{
    private readonly LeaderStream _leaderStream = new();
    private readonly FollowerLink _followerLink;

    /// <param name="localSessions">localSessionsEnabled on both servers.</param>
    /// <param name="upgrading">localSessionsUpgradingEnabled on both servers.</param>
    public TwoLoops(bool localSessions = false, bool upgrading = false)
    {
        var settings = new ServerSettings { LocalSessionsEnabled = localSessions, LocalSessionsUpgradingEnabled = upgrading };
        Leader = new ServerCore(settings with { ServerId = 1 }, _leaderStream, Time, NullLogger.Instance, mode: ServingMode.NotServing);
        _followerLink = new FollowerLink(this);
        Follower = new ServerCore(settings with { ServerId = 2 }, _followerLink, Time, NullLogger.Instance, mode: ServingMode.NotServing);
        _leaderStream.Follower = Follower;
        Leader.Post(new ModeWork(ServingMode.Leader, 1));
        Follower.Post(new ModeWork(ServingMode.Follower, 1));
        Pump();
    }

    public ManualTime Time { get; } = new();
    public ServerCore Leader { get; }
    public ServerCore Follower { get; }
    public List<(long SessionId, int Cxid, OpCode Type)> Forwarded { get; } = [];
    private int _xid;

    /// <summary>Steps both loops until neither has anything left to do.</summary>
    public void Pump()
    {
        for (int round = 0; round < 1000; round++)
        {
            if (Leader.RunPending() + Follower.RunPending() == 0) return;
        }
        throw new InvalidOperationException("the loops kept finding work");
    }

    public FakeConnection Connect(ServerCore core, long sessionId = 0, byte[]? password = null)
    {
        var connection = new FakeConnection();
        core.Post(new ConnectWork(connection, new ConnectRequest(0, 0, 30000, sessionId, password ?? new byte[16], false)));
        Pump();
        return connection;
    }

    public int Send(ServerCore core, FakeConnection connection, OpCode type, IJuteRecord? body)
    {
        int xid = ++_xid;
        using var writer = new JuteWriter();
        body?.Write(writer);
        core.Post(new RequestWork(connection, xid, type, writer.ToArray(), 0));
        return xid;
    }

    /// <summary>The leader's replicator: commits at once and delivers every txn to both loops, in zxid order.</summary>
    private sealed class LeaderStream : IReplicator
    {
        private Action<TxnHeaderAndBody>? _leader;
        public ServerCore? Follower { get; set; }
        public void Start(Action<TxnHeaderAndBody> onCommitted) => _leader = onCommitted;

        public void Propose(TxnHeaderAndBody txn)
        {
            _leader!(txn);
            Follower!.Post(new CommitWork(txn));
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>The follower's link to the leader, as server 2.</summary>
    private sealed class FollowerLink(TwoLoops loops) : IReplicator, ILeaderLink
    {
        public void Start(Action<TxnHeaderAndBody> onCommitted) { }

        public void Propose(TxnHeaderAndBody txn) => throw new InvalidOperationException("a follower never proposes");

        public bool Forward(long sessionId, int cxid, OpCode type, byte[] body, IReadOnlyList<Id> authInfo)
        {
            loops.Forwarded.Add((sessionId, cxid, type));
            if (type == OpCode.Sync) return true;
            loops.Leader.Post(new ForwardedRequestWork(2, sessionId, cxid, type, body, authInfo));
            return true;
        }

        public bool Revalidate(long sessionId, int timeoutMs)
        {
            loops.Leader.Post(new RevalidateWork(2, sessionId, timeoutMs, valid => loops.Follower.Post(new RevalidatedWork(sessionId, valid))));
            return true;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

public class EnsembleCoreTests
{
    [Fact]
    public void AFollowerForwardsSessionCreationAndWritesAndAnswersWhenTheirTxnsCommit()
    {
        var loops = new TwoLoops();
        var client = loops.Connect(loops.Follower);
        var session = client.Sent[0].AsConnectResponse();
        Assert.Equal(2, session.SessionId >>> 56);
        Assert.Equal(SessionTracker.PasswordFor(session.SessionId), session.Password);
        Assert.Contains((session.SessionId, 0, OpCode.CreateSession), loops.Forwarded);

        int xid = loops.Send(loops.Follower, client, OpCode.Create, CoreHarness.Create("/a", "x"));
        loops.Pump();
        var reply = client.Replies.Single(r => r.Header.Xid == xid);
        Assert.Equal(0, reply.Header.Err);
        Assert.Equal("/a", reply.Body(CreateResponse.Read).Path);
        Assert.Equal(0x100000002L, reply.Header.Zxid);
        Assert.NotNull(loops.Leader.Tree.GetNode("/a"));
        Assert.NotNull(loops.Follower.Tree.GetNode("/a"));
        // Every server tracks every session, so any of them can lead later.
        Assert.NotNull(loops.Leader.Sessions.Get(session.SessionId));
        Assert.NotNull(loops.Follower.Sessions.Get(session.SessionId));
    }

    [Fact]
    public void AReadOnAFollowerWaitsForItsSessionsForwardedWriteButNotForOtherSessions()
    {
        var loops = new TwoLoops();
        var writer = loops.Connect(loops.Follower);
        var bystander = loops.Connect(loops.Follower);
        int create = loops.Send(loops.Follower, writer, OpCode.Create, CoreHarness.Create("/w"));
        int read = loops.Send(loops.Follower, writer, OpCode.Exists, new PathWatchRequest("/w", false));
        int other = loops.Send(loops.Follower, bystander, OpCode.Exists, new PathWatchRequest("/", false));
        loops.Follower.RunPending();
        Assert.Empty(writer.Replies);
        Assert.Single(bystander.Replies, r => r.Header.Xid == other);

        loops.Pump();
        Assert.Equal([create, read], writer.Replies.Select(r => r.Header.Xid));
        Assert.Equal(0, writer.Replies[1].Header.Err);
    }

    [Fact]
    public void TheLeaderAppliesWritesFromOtherServersWithoutAnsweringAnyOfItsOwnClients()
    {
        var loops = new TwoLoops();
        var local = loops.Connect(loops.Leader);
        var remote = loops.Connect(loops.Follower);
        int localXid = loops.Send(loops.Leader, local, OpCode.Create, CoreHarness.Create("/local"));
        int remoteXid = loops.Send(loops.Follower, remote, OpCode.Create, CoreHarness.Create("/remote"));
        loops.Pump();
        Assert.Equal([localXid], local.Replies.Select(r => r.Header.Xid));
        Assert.Equal([remoteXid], remote.Replies.Select(r => r.Header.Xid));
        Assert.Equal(["local", "remote", "zookeeper"], loops.Follower.Tree.GetNode("/")!.Children.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ASessionThatMovedToAnotherServerRefusesWritesFromTheOldOneWithSessionMoved()
    {
        var loops = new TwoLoops();
        var client = loops.Connect(loops.Follower);
        long sessionId = client.Sent[0].AsConnectResponse().SessionId;
        // The client resumes its session on the leader; a write still in flight from server 2 must not act.
        var moved = loops.Connect(loops.Leader, sessionId, SessionTracker.PasswordFor(sessionId));
        Assert.Equal(sessionId, moved.Sent[0].AsConnectResponse().SessionId);
        using var writer = new JuteWriter();
        CoreHarness.Create("/late").Write(writer);
        loops.Leader.Post(new ForwardedRequestWork(2, sessionId, 7, OpCode.Create, writer.ToArray(), []));
        loops.Pump();
        Assert.Null(loops.Leader.Tree.GetNode("/late"));
        Assert.Null(loops.Follower.Tree.GetNode("/late"));
        int xid = loops.Send(loops.Leader, moved, OpCode.Create, CoreHarness.Create("/now"));
        loops.Pump();
        Assert.Equal(0, moved.Replies.Single(r => r.Header.Xid == xid).Header.Err);
    }

    [Fact]
    public void AClientResumingItsSessionOnAFollowerIsRevalidatedByTheLeader()
    {
        var loops = new TwoLoops();
        var first = loops.Connect(loops.Leader);
        long sessionId = first.Sent[0].AsConnectResponse().SessionId;
        var resumed = loops.Connect(loops.Follower, sessionId, SessionTracker.PasswordFor(sessionId));
        var response = resumed.Sent[0].AsConnectResponse();
        Assert.Equal(sessionId, response.SessionId);
        Assert.Equal(30000, response.TimeoutMs);
        Assert.NotNull(first.ClosedBecause);

        var stranger = loops.Connect(loops.Follower, 0x0200000000000777, SessionTracker.PasswordFor(0x0200000000000777));
        Assert.Equal(0, stranger.Sent[0].AsConnectResponse().SessionId);
        Assert.NotNull(stranger.ClosedBecause);
    }

    [Fact]
    public void SyncOnAFollowerIsAnsweredWhenTheLeadersSyncArrivesAndHoldsBackLaterReads()
    {
        var loops = new TwoLoops();
        var client = loops.Connect(loops.Follower);
        int sync = loops.Send(loops.Follower, client, OpCode.Sync, new PathRequest("/"));
        int read = loops.Send(loops.Follower, client, OpCode.GetChildren, new PathWatchRequest("/", false));
        loops.Pump();
        Assert.Contains(loops.Forwarded, f => f.Type == OpCode.Sync);
        Assert.Empty(client.Replies);

        loops.Follower.Post(new SyncedWork());
        loops.Pump();
        Assert.Equal([sync, read], client.Replies.Select(r => r.Header.Xid));
        Assert.Equal("/", client.Replies[0].Body(PathResponse.Read).Path);
    }

    [Fact]
    public void OnlyTheLeaderExpiresSessionsAndTheCloseReachesEveryServer()
    {
        var loops = new TwoLoops();
        var client = loops.Connect(loops.Follower);
        long sessionId = client.Sent[0].AsConnectResponse().SessionId;
        loops.Send(loops.Follower, client, OpCode.Create, CoreHarness.Create("/eph", mode: CreateMode.Ephemeral));
        loops.Pump();
        Assert.NotNull(loops.Follower.Tree.GetNode("/eph"));

        loops.Time.Advance(TimeSpan.FromSeconds(40));
        loops.Follower.Post(new TickWork());
        loops.Pump();
        Assert.NotNull(loops.Follower.Tree.GetNode("/eph"));

        loops.Leader.Post(new TickWork());
        loops.Pump();
        Assert.Null(loops.Leader.Tree.GetNode("/eph"));
        Assert.Null(loops.Follower.Tree.GetNode("/eph"));
        Assert.Null(loops.Follower.Sessions.Get(sessionId));
        Assert.NotNull(client.ClosedBecause);
    }

    [Fact]
    public void AServerThatStopsServingDropsItsClientsAndRefusesNewOnes()
    {
        var loops = new TwoLoops();
        var client = loops.Connect(loops.Follower);
        loops.Follower.Post(new ModeWork(ServingMode.NotServing, 1));
        loops.Pump();
        Assert.NotNull(client.ClosedBecause);
        var late = loops.Connect(loops.Follower);
        Assert.Empty(late.Sent);
        Assert.NotNull(late.ClosedBecause);
    }
}
