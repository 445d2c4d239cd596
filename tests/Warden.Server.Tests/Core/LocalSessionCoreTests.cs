using Warden.Protocol;
using Warden.Server.Processing;
using Warden.Server.Sessions;

namespace Warden.Server.Tests.Core;

/// <summary>
/// localSessionsEnabled on a leader's and a follower's loops stepped by hand: what is forwarded, what becomes a txn,
/// and what each client is answered. The ensemble tests compare the same behaviour with Apache's servers.
/// </summary>
public class LocalSessionCoreTests
{
    private static long SessionOf(FakeConnection connection) => connection.Sent[0].AsConnectResponse().SessionId;

    [Fact]
    public void ALocalSessionIsNeitherForwardedNorReplicatedYetItsWritesAre()
    {
        var loops = new TwoLoops(localSessions: true);
        long zxidBefore = loops.Leader.Tree.LastProcessedZxid;
        var client = loops.Connect(loops.Follower);
        long sessionId = SessionOf(client);
        Assert.Equal(2, sessionId >>> 56);
        Assert.Empty(loops.Forwarded);
        Assert.Equal(zxidBefore, loops.Leader.Tree.LastProcessedZxid);
        Assert.Equal(1, loops.Follower.LocalSessions.Count);
        Assert.True(loops.Follower.LocalSessions.Get(sessionId)!.IsLocal);
        Assert.Null(loops.Leader.Sessions.Get(sessionId));

        // The leader prepares the write of a session it does not know: the id names server 2, which vouches for it.
        int xid = loops.Send(loops.Follower, client, OpCode.Create, CoreHarness.Create("/p", "x"));
        loops.Pump();
        var reply = client.Replies.Single(r => r.Header.Xid == xid);
        Assert.Equal(0, reply.Header.Err);
        Assert.NotNull(loops.Leader.Tree.GetNode("/p"));
        // The epoch's first txn: creating the session took none.
        Assert.Equal(0x100000001L, reply.Header.Zxid);
    }

    [Fact]
    public void WithoutUpgradingAnEphemeralCreateFailsWithEphemeralOnLocalSessionAndTakesAZxid()
    {
        var loops = new TwoLoops(localSessions: true);
        var onFollower = loops.Connect(loops.Follower);
        var onLeader = loops.Connect(loops.Leader);

        int fromFollower = loops.Send(loops.Follower, onFollower, OpCode.Create, CoreHarness.Create("/e1", mode: CreateMode.Ephemeral));
        int fromLeader = loops.Send(loops.Leader, onLeader, OpCode.Create2, CoreHarness.Create("/e2", mode: CreateMode.EphemeralSequential));
        loops.Pump();

        Assert.Equal((int)ErrorCode.EphemeralOnLocalSession, onFollower.Replies.Single(r => r.Header.Xid == fromFollower).Header.Err);
        Assert.Equal((int)ErrorCode.EphemeralOnLocalSession, onLeader.Replies.Single(r => r.Header.Xid == fromLeader).Header.Err);
        Assert.Null(loops.Follower.Tree.GetNode("/e1"));
        Assert.Equal(0, loops.Leader.Tree.EphemeralCount);
        // Each failed create is an error txn, as Apache's leader logs it; no session was made global.
        Assert.Equal(0x100000002L, loops.Leader.Tree.LastProcessedZxid);
        Assert.DoesNotContain(loops.Forwarded, f => f.Type == OpCode.CreateSession);
        Assert.Equal(1, loops.Follower.LocalSessions.Count);
        Assert.Equal(1, loops.Leader.LocalSessions.Count);
    }

    [Fact]
    public void WithUpgradingTheFirstEphemeralCreateMakesTheSessionGlobalUnderTheSameId()
    {
        var loops = new TwoLoops(localSessions: true, upgrading: true);
        var client = loops.Connect(loops.Follower);
        long sessionId = SessionOf(client);
        int persistent = loops.Send(loops.Follower, client, OpCode.Create, CoreHarness.Create("/p"));
        int ephemeral = loops.Send(loops.Follower, client, OpCode.Create, CoreHarness.Create("/e", mode: CreateMode.Ephemeral));
        loops.Pump();

        Assert.Equal([persistent, ephemeral], client.Replies.Select(r => r.Header.Xid));
        Assert.All(client.Replies, r => Assert.Equal(0, r.Header.Err));
        // The createSession (cxid 0) goes to the leader ahead of the create that needed it.
        var forwarded = loops.Forwarded.Where(f => f.SessionId == sessionId).Select(f => (f.Cxid, f.Type)).ToList();
        Assert.Equal([(persistent, OpCode.Create), (0, OpCode.CreateSession), (ephemeral, OpCode.Create)], forwarded);
        Assert.Equal(sessionId, loops.Leader.Tree.GetNode("/e")!.EphemeralOwner);
        Assert.Equal(0, loops.Follower.LocalSessions.Count);
        var global = loops.Follower.Sessions.Get(sessionId);
        Assert.NotNull(global);
        Assert.False(global.IsLocal);
        Assert.Same(global, client.State.Session);
        Assert.NotNull(loops.Leader.Sessions.Get(sessionId));
    }

    [Fact]
    public void ALocalSessionResumesOnlyOnItsOwnServer()
    {
        var loops = new TwoLoops(localSessions: true);
        var client = loops.Connect(loops.Follower);
        long sessionId = SessionOf(client);
        var password = SessionTracker.PasswordFor(sessionId);

        var elsewhere = loops.Connect(loops.Leader, sessionId, password);
        Assert.Equal(0, SessionOf(elsewhere));
        Assert.NotNull(elsewhere.ClosedBecause);

        var wrongPassword = loops.Connect(loops.Follower, sessionId, new byte[16]);
        Assert.Equal(0, SessionOf(wrongPassword));

        var back = loops.Connect(loops.Follower, sessionId, password);
        Assert.Equal(sessionId, SessionOf(back));
        Assert.NotNull(client.ClosedBecause);
    }

    [Fact]
    public void ALocalSessionExpiresOnItsOwnServerAndClosesWithoutATxn()
    {
        var loops = new TwoLoops(localSessions: true);
        var idle = loops.Connect(loops.Follower);
        var closing = loops.Connect(loops.Follower);
        long zxidBefore = loops.Leader.Tree.LastProcessedZxid;

        int close = loops.Send(loops.Follower, closing, OpCode.CloseSession, null);
        loops.Pump();
        var reply = closing.Replies.Single(r => r.Header.Xid == close);
        Assert.Equal(0, reply.Header.Err);
        Assert.Equal(zxidBefore, reply.Header.Zxid);
        Assert.NotNull(closing.ClosedBecause);
        Assert.Equal(1, loops.Follower.LocalSessions.Count);

        // 30 s asked for; nothing expires before that, and the session is gone one tick bucket after.
        loops.Time.Advance(TimeSpan.FromSeconds(29));
        loops.Follower.Post(new TickWork());
        loops.Pump();
        Assert.Null(idle.ClosedBecause);
        loops.Time.Advance(TimeSpan.FromSeconds(2) + TimeSpan.FromMilliseconds(new ServerSettings().TickTimeMs));
        loops.Follower.Post(new TickWork());
        loops.Pump();
        Assert.NotNull(idle.ClosedBecause);
        Assert.Equal(0, loops.Follower.LocalSessions.Count);
        Assert.Equal(zxidBefore, loops.Leader.Tree.LastProcessedZxid);
        Assert.Empty(loops.Forwarded);
    }
}
