using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Warden.Consensus;
using Warden.Consensus.Wire;
using Warden.Protocol;
using Warden.Server.Quorum.Transport;
using static Warden.Server.Tests.Quorum.Transport.TransportTestKit;
using ZabChannel = Warden.Consensus.Channel;

namespace Warden.Server.Tests.Quorum.Transport;

public sealed class QuorumPortTests
{
    [Fact]
    public async Task A_learners_followerinfo_reaches_the_leader_and_the_reply_comes_back_on_the_same_connection()
    {
        var peers = new[] { Address(1), Address(2) };
        await using var leader = new QuorumTransport(Options(1, peers), NullLogger.Instance);
        await using var learner = new QuorumTransport(Options(2, peers), NullLogger.Instance);
        var leaderInbox = new Inbox(leader);
        var learnerInbox = new Inbox(learner);
        leader.StartLeading();

        learner.Send(Packet(2, 1, ZabChannel.ToLeader, FollowerInfo(2)));
        var info = await leaderInbox.NextAsync();
        Assert.Equal(new ServerId(2), info.From);
        Assert.Equal(ZabChannel.ToLeader, info.Channel);
        Assert.Equal(PacketType.FollowerInfo, ((PacketMessage)info.Message).Packet.Type);

        leader.Send(Packet(1, 2, ZabChannel.ToLearner, new QuorumPacket(PacketType.LeaderInfo, Zxid.From(1, 0), QuorumPacket.IntPayload(0x10000))));
        var reply = await learnerInbox.NextAsync();
        Assert.Equal(new ServerId(1), reply.From);
        Assert.Equal(ZabChannel.ToLearner, reply.Channel);
        var packet = ((PacketMessage)reply.Message).Packet;
        Assert.Equal(PacketType.LeaderInfo, packet.Type);
        Assert.Equal(Zxid.From(1, 0), packet.Zxid);

        // Packets keep their order on the stream in both directions.
        for (int i = 1; i <= 50; i++)
        {
            learner.Send(Packet(2, 1, ZabChannel.ToLeader, new QuorumPacket(PacketType.Ack, Zxid.From(1, i))));
            leader.Send(Packet(1, 2, ZabChannel.ToLearner, new QuorumPacket(PacketType.Commit, Zxid.From(1, i))));
        }
        for (int i = 1; i <= 50; i++)
        {
            Assert.Equal(Zxid.From(1, i), ((PacketMessage)(await leaderInbox.NextAsync()).Message).Packet.Zxid);
            Assert.Equal(Zxid.From(1, i), ((PacketMessage)(await learnerInbox.NextAsync()).Message).Packet.Zxid);
        }
    }

    [Fact]
    public async Task A_snap_packet_delivers_the_snapshot_that_follows_it_and_the_stream_continues()
    {
        var peers = new[] { Address(1), Address(2) };
        await using var leader = new QuorumTransport(Options(1, peers), NullLogger.Instance);
        await using var learner = new QuorumTransport(Options(2, peers), NullLogger.Instance);
        var leaderInbox = new Inbox(leader);
        var learnerInbox = new Inbox(learner);
        leader.StartLeading();
        learner.Send(Packet(2, 1, ZabChannel.ToLeader, FollowerInfo(2)));
        await leaderInbox.NextAsync();

        var blob = new byte[300_000];
        new Random(42).NextBytes(blob);
        var snapshot = LengthPrefixed(blob);
        leader.Send(Packet(1, 2, ZabChannel.ToLearner, new QuorumPacket(PacketType.Snap, Zxid.From(1, 7)), snapshot));
        leader.Send(Packet(1, 2, ZabChannel.ToLearner, new QuorumPacket(PacketType.NewLeader, Zxid.From(2, 0), "version=0"u8.ToArray())));

        var snap = (PacketMessage)(await learnerInbox.NextAsync()).Message;
        Assert.Equal(PacketType.Snap, snap.Packet.Type);
        Assert.Equal(snapshot, snap.Snapshot);
        var next = (PacketMessage)(await learnerInbox.NextAsync()).Message;
        Assert.Equal(PacketType.NewLeader, next.Packet.Type);
        Assert.Null(next.Snapshot);
    }

    [Fact]
    public async Task Either_end_hears_of_a_connection_the_other_side_closed_but_not_of_its_own_close()
    {
        var peers = new[] { Address(1), Address(2) };
        await using var leader = new QuorumTransport(Options(1, peers), NullLogger.Instance);
        await using var learner = new QuorumTransport(Options(2, peers), NullLogger.Instance);
        var leaderInbox = new Inbox(leader);
        var learnerInbox = new Inbox(learner);
        leader.StartLeading();

        learner.Send(Packet(2, 1, ZabChannel.ToLeader, FollowerInfo(2)));
        await leaderInbox.NextAsync();
        learner.CloseLeaderConnection();
        Assert.Equal(new ServerId(2), await leaderInbox.NextDisconnectedAsync());

        learner.Send(Packet(2, 1, ZabChannel.ToLeader, FollowerInfo(2)));
        await leaderInbox.NextAsync();
        leader.StopLeading();
        Assert.Equal(new ServerId(1), await learnerInbox.NextDisconnectedAsync());
        Assert.Equal(0, leaderInbox.DisconnectedCount);
        Assert.Equal(0, learnerInbox.DisconnectedCount);
    }

    [Fact]
    public async Task A_learner_gives_up_after_five_refused_dials_and_reports_the_leader_disconnected()
    {
        var peers = new[] { Address(1), Address(2) };
        var log = new ListLogger();
        await using var learner = new QuorumTransport(Options(2, peers), log);
        var inbox = new Inbox(learner);
        learner.Send(Packet(2, 1, ZabChannel.ToLeader, FollowerInfo(2)));
        Assert.Equal(new ServerId(1), await inbox.NextDisconnectedAsync());
        Assert.Equal(1, log.Count(LogLevel.Warning, "after 5 tries"));
    }

    [Fact]
    public async Task A_learner_whose_leader_goes_silent_times_out_after_init_limit_ticks()
    {
        var peers = new[] { Address(1), Address(2) };
        using var silentLeader = new TcpListener(IPAddress.Loopback, peers[0].QuorumPort);
        silentLeader.Start();
        // tickTime 20 ms and initLimit 10: a silent leader is noticed after 200 ms.
        await using var learner = new QuorumTransport(Options(2, peers, tickTimeMs: 20), NullLogger.Instance);
        var inbox = new Inbox(learner);
        learner.Send(Packet(2, 1, ZabChannel.ToLeader, FollowerInfo(2)));
        using var timeout = new CancellationTokenSource(Bound);
        using var accepted = await silentLeader.AcceptSocketAsync(timeout.Token);
        var info = await ReadPacketAsync(accepted);
        Assert.Equal(PacketType.FollowerInfo, info.Type);
        Assert.Equal(new ServerId(1), await inbox.NextDisconnectedAsync());
    }

    [Fact]
    public async Task A_second_connection_from_the_same_sid_replaces_the_first()
    {
        var peers = new[] { Address(1), Address(2) };
        await using var leader = new QuorumTransport(Options(1, peers), NullLogger.Instance);
        var inbox = new Inbox(leader);
        leader.StartLeading();
        int port = leader.QuorumEndPoint!.Port;

        using var first = await ConnectAsync(port);
        await first.SendAsync(FollowerInfo(5).Encode(), SocketFlags.None);
        Assert.Equal(new ServerId(5), (await inbox.NextAsync()).From);
        using var second = await ConnectAsync(port);
        await second.SendAsync(FollowerInfo(5).Encode(), SocketFlags.None);
        Assert.Equal(new ServerId(5), (await inbox.NextAsync()).From);

        Assert.True(await ClosedByPeerAsync(first), "the older connection from sid 5 must be closed");
        leader.Send(Packet(1, 5, ZabChannel.ToLearner, new QuorumPacket(PacketType.Ping, Zxid.From(1, 3))));
        Assert.Equal(PacketType.Ping, (await ReadPacketAsync(second)).Type);
        Assert.Equal(0, inbox.DisconnectedCount);
    }

    [Fact]
    public async Task A_learner_that_stops_reading_is_dropped_once_its_queue_passes_the_bound()
    {
        var peers = new[] { Address(1), Address(2) };
        var log = new ListLogger();
        await using var leader = new QuorumTransport(Options(1, peers), log);
        var inbox = new Inbox(leader);
        leader.StartLeading();
        using var stuck = await ConnectAsync(leader.QuorumEndPoint!.Port);
        stuck.ReceiveBufferSize = 64 * 1024;
        await stuck.SendAsync(FollowerInfo(4).Encode(), SocketFlags.None);
        await inbox.NextAsync();

        var data = new byte[1024 * 1024];
        long bound = QuorumConnection.MaxQueuedBytes;
        for (long sent = 0; sent < 2 * bound; sent += data.Length)
        {
            leader.Send(Packet(1, 4, ZabChannel.ToLearner, new QuorumPacket(PacketType.Proposal, Zxid.From(1, 1), data)));
        }
        Assert.Equal(new ServerId(4), await inbox.NextDisconnectedAsync());
        Assert.Equal(1, log.Count(LogLevel.Warning, "has stopped reading"));
    }

    [Theory]
    [InlineData("first packet is not learner info")]
    [InlineData("oversize data length")]
    [InlineData("negative data length")]
    [InlineData("ends inside a packet")]
    public async Task Bad_input_on_the_quorum_port_closes_only_that_connection(string kind)
    {
        var peers = new[] { Address(1), Address(2) };
        var log = new ListLogger();
        await using var leader = new QuorumTransport(Options(1, peers), log);
        await using var learner = new QuorumTransport(Options(2, peers), NullLogger.Instance);
        var inbox = new Inbox(leader);
        leader.StartLeading();
        learner.Send(Packet(2, 1, ZabChannel.ToLeader, FollowerInfo(2)));
        await inbox.NextAsync();

        using var bad = await ConnectAsync(leader.QuorumEndPoint!.Port);
        byte[] input = kind switch
        {
            "first packet is not learner info" => new QuorumPacket(PacketType.Ping, Zxid.From(1, 1)).Encode(),
            "oversize data length" => [.. FollowerInfo(6).Encode(), .. PacketHeader(PacketType.Ack, 0x0fffffff)],
            "negative data length" => [.. FollowerInfo(6).Encode(), .. PacketHeader(PacketType.Ack, -7)],
            _ => [.. FollowerInfo(6).Encode(), .. PacketHeader(PacketType.Ack, 100), 1, 2, 3],
        };
        await bad.SendAsync(input, SocketFlags.None);
        if (kind == "ends inside a packet") bad.Shutdown(SocketShutdown.Send);
        Assert.True(await ClosedByPeerAsync(bad), $"{kind} must close the connection");

        // The good learner is untouched.
        learner.Send(Packet(2, 1, ZabChannel.ToLeader, new QuorumPacket(PacketType.Ack, Zxid.From(1, 1))));
        var next = await inbox.NextAsync(e => e.From == new ServerId(2));
        Assert.Equal(PacketType.Ack, ((PacketMessage)next.Message).Packet.Type);
        Assert.True(log.Lines.Count(l => l.Level >= LogLevel.Information) <= 2, string.Join("\n", log.Lines));
    }

    [Fact]
    public async Task Starting_to_lead_on_a_taken_quorum_port_says_which_port()
    {
        var peers = new[] { Address(1), Address(2) };
        using var squatter = new TcpListener(IPAddress.Loopback, peers[0].QuorumPort);
        squatter.Start();
        await using var leader = new QuorumTransport(Options(1, peers), NullLogger.Instance);
        var error = Assert.Throws<InvalidOperationException>(leader.StartLeading);
        Assert.Contains($"quorum port 127.0.0.1:{peers[0].QuorumPort}", error.Message);
    }

    private static byte[] PacketHeader(PacketType type, int dataLength)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(bytes, (int)type);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(4), 0);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), dataLength);
        return bytes;
    }
}
