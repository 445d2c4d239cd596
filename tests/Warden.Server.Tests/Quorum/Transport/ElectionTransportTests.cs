using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Warden.Consensus;
using Warden.Server.Quorum.Transport;
using static Warden.Server.Tests.Quorum.Transport.TransportTestKit;

namespace Warden.Server.Tests.Quorum.Transport;

public sealed class ElectionTransportTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_notification_crosses_both_ways_whichever_sid_dials_first(bool lowerDialsFirst)
    {
        var peers = new[] { Address(1), Address(2) };
        await using var one = new QuorumTransport(Options(1, peers), NullLogger.Instance);
        await using var two = new QuorumTransport(Options(2, peers), NullLogger.Instance);
        var inboxOne = new Inbox(one);
        var inboxTwo = new Inbox(two);
        one.Start();
        two.Start();

        var (first, second) = lowerDialsFirst ? (1L, 2L) : (2L, 1L);
        var (firstTransport, secondTransport) = lowerDialsFirst ? (one, two) : (two, one);
        var (firstInbox, secondInbox) = lowerDialsFirst ? (inboxOne, inboxTwo) : (inboxTwo, inboxOne);

        firstTransport.Send(Election(first, second, Looking(first, 7)));
        var arrived = await secondInbox.NextNotificationAsync(first);
        Assert.Equal(new ServerId(first), arrived.Leader);
        Assert.Equal(7, arrived.ElectionEpoch);

        secondTransport.Send(Election(second, first, Looking(second, 8)));
        var answer = await firstInbox.NextNotificationAsync(second);
        Assert.Equal(new ServerId(second), answer.Leader);
        Assert.Equal(8, answer.ElectionEpoch);
        Assert.Empty(one.ElectionLinkProblems);
        Assert.Empty(two.ElectionLinkProblems);
    }

    [Fact]
    public async Task Three_transports_exchange_notifications_pairwise()
    {
        var peers = new[] { Address(1), Address(2), Address(3) };
        var transports = new List<QuorumTransport>();
        var inboxes = new List<Inbox>();
        try
        {
            for (long sid = 1; sid <= 3; sid++)
            {
                var transport = new QuorumTransport(Options(sid, peers), NullLogger.Instance);
                transports.Add(transport);
                inboxes.Add(new Inbox(transport));
                transport.Start();
            }
            for (long from = 1; from <= 3; from++)
            {
                for (long to = 1; to <= 3; to++)
                {
                    if (from == to) continue;
                    transports[(int)from - 1].Send(Election(from, to, Looking(from, from * 10 + to)));
                }
            }
            for (long to = 1; to <= 3; to++)
            {
                var seen = new HashSet<long>();
                while (seen.Count < 2)
                {
                    var envelope = await inboxes[(int)to - 1].NextAsync();
                    var notification = ((ElectionMessage)envelope.Message).Notification;
                    Assert.Equal(envelope.From.Value * 10 + to, notification.ElectionEpoch);
                    seen.Add(envelope.From.Value);
                }
            }
        }
        finally
        {
            foreach (var transport in transports) await transport.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_message_to_oneself_loops_back_without_a_socket()
    {
        var peers = new[] { Address(1), Address(2) };
        await using var one = new QuorumTransport(Options(1, peers), NullLogger.Instance);
        var inbox = new Inbox(one);
        one.Start();
        one.Send(Election(1, 1, Looking(1, 3)));
        var notification = await inbox.NextNotificationAsync(1);
        Assert.Equal(3, notification.ElectionEpoch);
    }

    [Fact]
    public async Task A_lower_sid_dial_is_closed_and_replaced_by_a_dial_back_to_the_advertised_address()
    {
        var peers = new[] { Address(1), Address(2) };
        await using var two = new QuorumTransport(Options(2, peers), NullLogger.Instance);
        two.Start();
        // Play sid 1 with raw sockets, listening where the handshake says.
        using var listener = new TcpListener(IPAddress.Loopback, peers[0].ElectionPort);
        listener.Start();

        using var dial = await ConnectAsync(peers[1].ElectionPort);
        await dial.SendAsync(Hello(1, $"127.0.0.1:{peers[0].ElectionPort}"), SocketFlags.None);
        Assert.True(await ClosedByPeerAsync(dial), "the higher sid must close a connection dialled by a lower sid");

        using var timeout = new CancellationTokenSource(Bound);
        using var back = await listener.AcceptSocketAsync(timeout.Token);
        var hello = await ReadExactlyAsync(back, 20);
        Assert.Equal(-65536, System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(hello));
        Assert.Equal(2, System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(hello.AsSpan(8)));
        int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(hello.AsSpan(16));
        var address = System.Text.Encoding.UTF8.GetString(await ReadExactlyAsync(back, length));
        Assert.Equal($"127.0.0.1:{peers[1].ElectionPort}", address);

        // The dial-back is the link: a notification sent now arrives on it.
        two.Send(Election(2, 1, Looking(2, 5)));
        var notification = await ReadNotificationAsync(back);
        Assert.Equal(5, notification.ElectionEpoch);
    }

    [Fact]
    public async Task A_lower_sid_dialler_hangs_up_right_after_its_handshake()
    {
        var peers = new[] { Address(1), Address(2) };
        await using var one = new QuorumTransport(Options(1, peers), NullLogger.Instance);
        using var listener = new TcpListener(IPAddress.Loopback, peers[1].ElectionPort);
        listener.Start();
        one.Start();
        one.Send(Election(1, 2, Looking(1, 1)));

        using var timeout = new CancellationTokenSource(Bound);
        using var accepted = await listener.AcceptSocketAsync(timeout.Token);
        var hello = await ReadExactlyAsync(accepted, 20);
        Assert.Equal(1, System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(hello.AsSpan(8)));
        await ReadExactlyAsync(accepted, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(hello.AsSpan(16)));
        Assert.True(await ClosedByPeerAsync(accepted), "a lower sid keeps no connection it dialled to a higher sid");
        Assert.Contains("has not connected back", one.ElectionLinkProblems[new ServerId(2)]);
    }

    [Fact]
    public async Task A_higher_sid_dial_is_kept_and_carries_both_directions_even_for_a_sid_outside_the_config()
    {
        var peers = new[] { Address(1), Address(2) };
        await using var two = new QuorumTransport(Options(2, peers), NullLogger.Instance);
        var inbox = new Inbox(two);
        two.Start();

        using var dial = await ConnectAsync(peers[1].ElectionPort);
        await dial.SendAsync(Hello(9, "127.0.0.1:1"), SocketFlags.None);
        await dial.SendAsync(Frame(Looking(9, 4).Encode()), SocketFlags.None);
        var received = await inbox.NextNotificationAsync(9);
        Assert.Equal(4, received.ElectionEpoch);

        two.Send(Election(2, 9, Looking(2, 6)));
        Assert.Equal(6, (await ReadNotificationAsync(dial)).ElectionEpoch);
    }

    [Fact]
    public async Task A_new_link_resends_the_last_message_when_nothing_newer_is_queued()
    {
        var peers = new[] { Address(1), Address(2) };
        await using var two = new QuorumTransport(Options(2, peers), NullLogger.Instance);
        two.Start();
        using (var first = await ConnectAsync(peers[1].ElectionPort))
        {
            await first.SendAsync(Hello(3, "127.0.0.1:1"), SocketFlags.None);
            two.Send(Election(2, 3, Looking(2, 11)));
            Assert.Equal(11, (await ReadNotificationAsync(first)).ElectionEpoch);
        }
        using var second = await ConnectAsync(peers[1].ElectionPort);
        await second.SendAsync(Hello(3, "127.0.0.1:1"), SocketFlags.None);
        Assert.Equal(11, (await ReadNotificationAsync(second)).ElectionEpoch);
    }

    [Fact]
    public async Task A_newer_notification_displaces_an_unsent_one()
    {
        var peers = new[] { Address(1), Address(2) };
        await using var two = new QuorumTransport(Options(2, peers), NullLogger.Instance);
        two.Start();
        // Sid 3 is not configured and has never dialled in, so nothing can be sent to it yet: the slot holds one.
        two.Send(Election(2, 3, Looking(2, 1)));
        two.Send(Election(2, 3, Looking(2, 2)));
        two.Send(Election(2, 3, Looking(2, 3)));

        using var dial = await ConnectAsync(peers[1].ElectionPort);
        await dial.SendAsync(Hello(3, "127.0.0.1:1"), SocketFlags.None);
        Assert.Equal(3, (await ReadNotificationAsync(dial)).ElectionEpoch);
        two.Send(Election(2, 3, Looking(2, 4)));
        Assert.Equal(4, (await ReadNotificationAsync(dial)).ElectionEpoch);
    }

    [Theory]
    [InlineData("wrong protocol version")]
    [InlineData("oversize frame")]
    [InlineData("zero-length frame")]
    [InlineData("oversize address")]
    public async Task Bad_input_closes_only_that_connection_with_one_log_line(string kind)
    {
        var peers = new[] { Address(1), Address(2) };
        var log = new ListLogger();
        await using var two = new QuorumTransport(Options(2, peers), log);
        var inbox = new Inbox(two);
        two.Start();

        using var good = await ConnectAsync(peers[1].ElectionPort);
        await good.SendAsync(Hello(7, "127.0.0.1:1"), SocketFlags.None);

        using var bad = await ConnectAsync(peers[1].ElectionPort);
        byte[] input = kind switch
        {
            "wrong protocol version" => Hello(8, "127.0.0.1:1", version: -12345),
            "oversize frame" => [.. Hello(8, "127.0.0.1:1"), .. Frame(new byte[524289])],
            "zero-length frame" => [.. Hello(8, "127.0.0.1:1"), 0, 0, 0, 0],
            _ => Hello(8, new string('a', 2049)),
        };
        await bad.SendAsync(input, SocketFlags.None);
        Assert.True(await ClosedByPeerAsync(bad), $"{kind} must close the connection");
        Assert.Equal(1, log.Lines.Count(l => l.Level == LogLevel.Warning));

        // The other link and the listener still work.
        await good.SendAsync(Frame(Looking(7, 2).Encode()), SocketFlags.None);
        Assert.Equal(2, (await inbox.NextNotificationAsync(7)).ElectionEpoch);
        using var later = await ConnectAsync(peers[1].ElectionPort);
        await later.SendAsync(Hello(6, "127.0.0.1:1"), SocketFlags.None);
        await later.SendAsync(Frame(Looking(6, 3).Encode()), SocketFlags.None);
        Assert.Equal(3, (await inbox.NextNotificationAsync(6)).ElectionEpoch);
    }

    [Fact]
    public async Task A_short_old_format_notification_is_understood()
    {
        var peers = new[] { Address(1), Address(2) };
        await using var two = new QuorumTransport(Options(2, peers), NullLogger.Instance);
        var inbox = new Inbox(two);
        two.Start();
        using var dial = await ConnectAsync(peers[1].ElectionPort);
        // A pre-3.5 dialler sends only its sid; its 28-byte notification has no peerEpoch, taken from the zxid.
        var sid = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(sid, 5);
        await dial.SendAsync(sid, SocketFlags.None);
        var body = new byte[28];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(body, 1);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(4), 5);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(12), (3L << 32) | 9);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(20), 4);
        await dial.SendAsync(Frame(body), SocketFlags.None);
        var notification = await inbox.NextNotificationAsync(5);
        Assert.Equal(PeerState.Following, notification.State);
        Assert.Equal(3, notification.PeerEpoch);
        Assert.Equal(4, notification.ElectionEpoch);
    }

    [Fact]
    public async Task An_unreachable_peer_is_named_with_the_reason()
    {
        var peers = new[] { Address(1), Address(2) };
        await using var two = new QuorumTransport(Options(2, peers), NullLogger.Instance);
        two.Start();
        two.ConnectAll();
        // The dial runs in the background; wait for its outcome with a bound.
        var deadline = DateTime.UtcNow + Bound;
        while (!two.ElectionLinkProblems.ContainsKey(new ServerId(1)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.Contains("connection refused", two.ElectionLinkProblems[new ServerId(1)]);
    }

    [Fact]
    public async Task Starting_on_a_taken_election_port_says_which_port()
    {
        var peers = new[] { Address(1), Address(2) };
        using var squatter = new TcpListener(IPAddress.Loopback, peers[0].ElectionPort);
        squatter.Start();
        await using var one = new QuorumTransport(Options(1, peers), NullLogger.Instance);
        var error = Assert.Throws<InvalidOperationException>(one.Start);
        Assert.Contains($"election port 127.0.0.1:{peers[0].ElectionPort}", error.Message);
    }
}
