using Warden.Testing;

namespace Warden.Compat.Tests;

/// <summary>
/// Session resumption on the wire, where kazoo cannot reach: reconnect with id, password and
/// lastZxidSeen, setWatches firing the events missed while away, and the refusals. Each case runs
/// against Apache (the expectations below are what Apache 3.8 does) and against the subject.
/// </summary>
public sealed class SessionWireTests
{
    private const int NodeCreated = 1, NodeDeleted = 2, NodeDataChanged = 3, NodeChildrenChanged = 4;
    private const int SyncConnected = 3;

    public static TheoryData<string> Servers => BadInputTests.Servers;

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task SetWatchesOnReconnectFiresMissedEvents(string server)
    {
        await using var zk = await StartAsync(server);
        var (first, session) = await RawConnection.OpenSessionAsync(zk.EndPoint);
        long lastZxid;
        using (first)
        {
            var client = new Requests(first);
            await client.CreateAsync("/sw", "0");
            await client.CreateAsync("/sw/kids", "");
            await client.CreateAsync("/sw/del", "");
            await client.CallAsync(Op.GetData, new JuteBuffer().String("/sw").Bool(true));
            await client.CallAsync(Op.GetData, new JuteBuffer().String("/sw/del").Bool(true));
            await client.CallAsync(Op.GetData, new JuteBuffer().String("/sw/kids").Bool(true));
            var missing = await client.CallAsync(Op.Exists, new JuteBuffer().String("/sw/new").Bool(true), expectError: -101);
            await client.CallAsync(Op.GetChildren, new JuteBuffer().String("/sw/kids").Bool(true));
            lastZxid = missing.Zxid;
            // Dropped without closeSession: the session lives on for its timeout.
        }

        var (other, _) = await RawConnection.OpenSessionAsync(zk.EndPoint);
        using (other)
        {
            var changer = new Requests(other);
            await changer.CallAsync(Op.SetData, new JuteBuffer().String("/sw").Buffer("1"u8.ToArray()).Int(-1));
            await changer.CreateAsync("/sw/new", "");
            await changer.CreateAsync("/sw/kids/k", "");
            await changer.CallAsync(2, new JuteBuffer().String("/sw/del").Int(-1));
            await BadInputTests.CloseSessionAsync(other);
        }

        using var second = await RawConnection.OpenAsync(zk.EndPoint);
        var resumed = await second.HandshakeAsync(session.SessionId, session.Password, lastZxid);
        Assert.True(resumed is not null && resumed.SessionId == session.SessionId,
            $"{zk} did not resume session 0x{session.SessionId:x}: {resumed}");
        await second.SendRequestAsync(Op.SetWatchesXid, Op.SetWatches, new JuteBuffer()
            .Long(lastZxid)
            .Strings(["/sw", "/sw/del", "/sw/kids"])
            .Strings(["/sw/new"])
            .Strings(["/sw/kids"]));
        var events = await ReadEventsUntilReplyAsync(second, Op.SetWatchesXid);
        // DataTree.setWatches: data watches in order (changed since relativeZxid → DataChanged,
        // gone → Deleted, unchanged → kept), then exist watches (now there → Created), then child
        // watches (pzxid moved → ChildrenChanged). Notification headers carry zxid -1 in 3.8.
        Assert.Equal(
            [
                (-1L, NodeDataChanged, SyncConnected, "/sw"),
                (-1L, NodeDeleted, SyncConnected, "/sw/del"),
                (-1L, NodeCreated, SyncConnected, "/sw/new"),
                (-1L, NodeChildrenChanged, SyncConnected, "/sw/kids"),
            ],
            events);

        // The unchanged data watch on /sw/kids was registered again and still fires.
        var (third, _) = await RawConnection.OpenSessionAsync(zk.EndPoint);
        using (third)
        {
            await new Requests(third).CallAsync(Op.SetData, new JuteBuffer().String("/sw/kids").Buffer([]).Int(-1));
        }
        var late = await second.ReadReplyAsync();
        Assert.True(late is { Xid: Op.NotificationXid }, $"expected the re-registered watch to fire, got {late}");
        Assert.Equal((NodeDataChanged, SyncConnected, "/sw/kids"), (late.Body.Int(), late.Body.Int(), late.Body.String()));
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task ResumingWithAWrongPasswordOrUnknownSessionIsRefused(string server)
    {
        await using var zk = await StartAsync(server);
        var (owner, session) = await RawConnection.OpenSessionAsync(zk.EndPoint);
        using (owner)
        {
            foreach (var (sessionId, password, what) in new[]
                     {
                         (session.SessionId, new byte[16], "wrong password"),
                         (session.SessionId ^ 0x5a5a5a, session.Password, "unknown session"),
                     })
            {
                using var intruder = await RawConnection.OpenAsync(zk.EndPoint);
                var refused = await intruder.HandshakeAsync(sessionId, password);
                // Apache answers an invalid session with timeout 0, session 0 and a zero
                // password, then closes.
                Assert.True(refused is { TimeoutMs: 0, SessionId: 0 }, $"{zk}, {what}: expected a refusal, got {refused}");
                Assert.Equal(new byte[16], refused.Password);
                Assert.True(await intruder.ClosedByServerAsync(), $"{zk}, {what}: connection left open after the refusal");
            }
        }
        await BadInputTests.AssertServerCarriesOnAsync(zk);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task AClientThatHasSeenTheFutureIsRefused(string server)
    {
        await using var zk = await StartAsync(server);
        using (var connection = await RawConnection.OpenAsync(zk.EndPoint))
        {
            // lastZxidSeen beyond the server's last zxid: the client has seen a newer server,
            // and Apache closes rather than give it a session on stale data.
            var answer = await connection.HandshakeAsync(lastZxidSeen: 1L << 40);
            Assert.True(answer is null, $"{zk} accepted a client ahead of it: {answer}");
        }
        await BadInputTests.AssertServerCarriesOnAsync(zk);
    }

    private static async Task<List<(long Zxid, int Type, int State, string? Path)>> ReadEventsUntilReplyAsync(RawConnection connection, int replyXid)
    {
        var events = new List<(long, int, int, string?)>();
        for (var frames = 0; frames < 100; frames++)
        {
            var reply = await connection.ReadReplyAsync() ?? throw new InvalidDataException("the server closed the connection");
            if (reply.Xid == replyXid)
            {
                Assert.Equal(0, reply.Error);
                return events;
            }
            Assert.Equal(Op.NotificationXid, reply.Xid);
            events.Add((reply.Zxid, reply.Body.Int(), reply.Body.Int(), reply.Body.String()));
        }
        throw new InvalidDataException("no setWatches reply after 100 frames");
    }

    private static async Task<ServerProcess> StartAsync(string server) =>
        await ServerProcess.StartAsync(server == "apache" ? ServerKind.Apache : ServerProcess.SubjectFromEnvironment());

    /// <summary>Sequential request/reply on one raw connection, failing on unexpected errors.</summary>
    private sealed class Requests(RawConnection connection)
    {
        private int xid;

        public Task<Reply> CreateAsync(string path, string data) =>
            CallAsync(Op.Create, new JuteBuffer().String(path).Buffer(System.Text.Encoding.UTF8.GetBytes(data)).OpenAcl().Int(0));

        public async Task<Reply> CallAsync(int opCode, JuteBuffer body, int expectError = 0)
        {
            var id = ++xid;
            await connection.SendRequestAsync(id, opCode, body);
            var reply = await connection.ReadReplyAsync() ?? throw new InvalidDataException($"closed while waiting for xid {id}");
            Assert.True(reply.Xid == id && reply.Error == expectError,
                $"op {opCode}: expected xid {id} error {expectError}, got xid {reply.Xid} error {reply.Error}");
            return reply;
        }
    }
}
