using System.Buffers.Binary;
using Warden.Testing;

namespace Warden.Compat.Tests;

/// <summary>
/// Hostile and broken clients on raw sockets. Each case runs against Apache ZooKeeper (to pin
/// what the oracle does) and against the subject, and requires the same observable behaviour;
/// afterwards a fresh session must still work, because a bad client may cost its own connection
/// but never the server.
/// </summary>
public sealed class BadInputTests
{
    public static TheoryData<string> Servers => new() { "apache", "subject" };

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task GarbageBytesCloseTheConnection(string server)
    {
        await using var zk = await StartAsync(server);
        // A plausible small length (not a four-letter word) followed by bytes that are not a
        // ConnectRequest: the record runs out before it is complete.
        using (var garbage = await RawConnection.OpenAsync(zk.EndPoint))
        {
            await garbage.SendRawAsync([0, 0, 0, 12, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8]);
            Assert.True(await garbage.ClosedByServerAsync(), $"{zk} kept a connection that sent garbage open");
        }
        // Noise whose first four bytes are a negative length.
        using (var noise = await RawConnection.OpenAsync(zk.EndPoint))
        {
            var bytes = new byte[64];
            new Random(7).NextBytes(bytes);
            bytes[0] = 0xff;
            await noise.SendRawAsync(bytes);
            Assert.True(await noise.ClosedByServerAsync(), $"{zk} kept a connection with a negative frame length open");
        }
        await AssertServerCarriesOnAsync(zk);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task TruncatedFrameThenCloseLeavesTheServerWorking(string server)
    {
        await using var zk = await StartAsync(server);
        using (var truncated = await RawConnection.OpenAsync(zk.EndPoint))
        {
            await truncated.SendRawAsync([0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        }
        // The same after a handshake: half a request, then gone.
        var (session, _) = await RawConnection.OpenSessionAsync(zk.EndPoint);
        using (session)
        {
            await session.SendRawAsync([0, 0, 0, 40, 0, 0, 0, 1, 0, 0, 0, 4]);
        }
        await AssertServerCarriesOnAsync(zk);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task LengthOverMaxBufferClosesTheConnection(string server)
    {
        await using var zk = await StartAsync(server);
        // jute.maxbuffer defaults to 0xfffff; one byte more must be refused before any body
        // is read (the body never comes).
        using (var beforeHandshake = await RawConnection.OpenAsync(zk.EndPoint))
        {
            await beforeHandshake.SendRawAsync(Length(0x100000));
            Assert.True(await beforeHandshake.ClosedByServerAsync(), $"{zk} accepted an oversized first frame");
        }
        var (session, _) = await RawConnection.OpenSessionAsync(zk.EndPoint);
        using (session)
        {
            await session.SendRawAsync(Length(0x7fffffff));
            Assert.True(await session.ClosedByServerAsync(), $"{zk} accepted a 2 GiB frame length");
        }
        await AssertServerCarriesOnAsync(zk);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task UnknownOpcodeIsAnsweredUnimplementedThenClosed(string server)
    {
        await using var zk = await StartAsync(server);
        var (connection, _) = await RawConnection.OpenSessionAsync(zk.EndPoint);
        using (connection)
        {
            // Apache (ZooKeeperServer.submitRequestNow → UnimplementedRequestProcessor) replies
            // with the request's xid and UNIMPLEMENTED (-6), then closes the connection.
            await connection.SendRequestAsync(xid: 1, opCode: 999, new JuteBuffer().String("/"));
            var reply = await connection.ReadReplyAsync();
            Assert.NotNull(reply);
            Assert.Equal(1, reply.Xid);
            Assert.Equal(-6, reply.Error);
            Assert.True(reply.Body.AtEnd, "an error reply has no body");
            Assert.True(await connection.ClosedByServerAsync(), $"{zk} kept the connection open after UNIMPLEMENTED");
        }
        await AssertServerCarriesOnAsync(zk);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task RequestBeforeHandshakeGetsNoSession(string server)
    {
        await using var zk = await StartAsync(server);
        using (var connection = await RawConnection.OpenAsync(zk.EndPoint))
        {
            // A getData as the first frame. Read as a ConnectRequest its lastZxidSeen is far
            // ahead of the server's, which Apache refuses by closing the connection.
            await connection.SendRequestAsync(xid: 1, opCode: Op.GetData, new JuteBuffer().String("/zookeeper").Bool(false));
            Assert.True(await connection.ClosedByServerAsync(), $"{zk} answered a request sent before the handshake");
        }
        await AssertServerCarriesOnAsync(zk);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task ConnectionsOverMaxClientCnxnsAreRefused(string server)
    {
        const int limit = 3;
        await using var zk = await StartAsync(server, new Dictionary<string, string> { ["maxClientCnxns"] = limit.ToString() });
        var open = new List<RawConnection>();
        try
        {
            for (var i = 0; i < limit; i++)
            {
                open.Add((await RawConnection.OpenSessionAsync(zk.EndPoint)).Connection);
            }
            // Apache accepts the TCP connection and closes it at once ("Too many connections
            // from /127.0.0.1 - max is 3"); the handshake gets no answer.
            using (var extra = await RawConnection.OpenAsync(zk.EndPoint))
            {
                var refused = await extra.HandshakeAsync();
                Assert.True(refused is null, $"{zk} gave connection {limit + 1} from one address a session: {refused}");
            }
            // Closing one session frees a slot: the server closes that connection itself after
            // the closeSession reply, so once we see the close, the count is down.
            await CloseSessionAsync(open[0]);
            open[0].Dispose();
            open.RemoveAt(0);
            await AssertServerCarriesOnAsync(zk);
        }
        finally
        {
            open.ForEach(c => c.Dispose());
        }
    }

    private static async Task<ServerProcess> StartAsync(string server, IReadOnlyDictionary<string, string>? config = null) =>
        await ServerProcess.StartAsync(server == "apache" ? ServerKind.Apache : ServerProcess.SubjectFromEnvironment(), config);

    private static byte[] Length(int length)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, length);
        return bytes;
    }

    /// <summary>The server still runs and a new session can write, read and close.</summary>
    internal static async Task AssertServerCarriesOnAsync(ServerProcess zk)
    {
        Assert.True(zk.IsRunning, $"{zk} died:\n{zk.CapturedOutput}");
        var (connection, _) = await RawConnection.OpenSessionAsync(zk.EndPoint);
        using (connection)
        {
            var path = "/alive-" + Guid.NewGuid().ToString("N");
            await connection.SendRequestAsync(1, Op.Create, new JuteBuffer().String(path).Buffer([42]).OpenAcl().Int(0));
            var created = await connection.ReadReplyAsync();
            Assert.True(created is { Xid: 1, Error: 0 }, $"{zk}: create after bad input got {created}");
            Assert.Equal(path, created.Body.String());
            await connection.SendRequestAsync(2, Op.GetData, new JuteBuffer().String(path).Bool(false));
            var read = await connection.ReadReplyAsync();
            Assert.True(read is { Xid: 2, Error: 0 }, $"{zk}: getData after bad input got {read}");
            Assert.Equal([42], read.Body.Buffer());
            await CloseSessionAsync(connection);
        }
    }

    /// <summary>Sends closeSession, expects its reply, then the server's close.</summary>
    internal static async Task CloseSessionAsync(RawConnection connection)
    {
        await connection.SendRequestAsync(1000, Op.CloseSession, new JuteBuffer());
        var reply = await connection.ReadReplyAsync();
        Assert.True(reply is { Xid: 1000, Error: 0 }, $"closeSession got {reply}");
        Assert.True(await connection.ClosedByServerAsync(), "the server kept the connection open after closeSession");
    }
}
