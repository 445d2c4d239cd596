using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Warden.Consensus;
using Warden.Consensus.Wire;
using Warden.Protocol;
using Warden.Server.Quorum.Transport;
using Xunit.Abstractions;
using static Warden.Server.Tests.Quorum.Transport.TransportTestKit;

namespace Warden.Server.Tests.Quorum.Transport;

/// <summary>
/// Two Apache ZooKeeper 3.8 servers and this transport as the third member of their ensemble: the election
/// handshake must complete both ways, their notifications must decode, and they must answer ours; and their
/// leader must take this transport as a learner on the quorum port.
/// </summary>
public sealed class ApacheElectionInteropTests(ITestOutputHelper output)
{
    private static readonly TimeSpan TestBound = TimeSpan.FromSeconds(30);

    [ApacheFact]
    public async Task Apache_servers_complete_the_election_handshake_with_us_and_answer_our_notification()
    {
        await using var ensemble = await ApacheEnsemble.StartAsync();
        var first = await ensemble.FirstNotificationsAsync();
        foreach (var (sid, notification) in first)
        {
            Assert.InRange((int)notification.State, 0, 2);
            Assert.Equal(Notification.CurrentVersion, notification.Version);
            var config = Encoding.UTF8.GetString(notification.Config);
            var self = ensemble.Addresses[2];
            var sender = ensemble.Addresses[sid - 1];
            Assert.Contains($"server.3=127.0.0.1:{self.QuorumPort}:{self.ElectionPort}:participant", config);
            Assert.Contains($"server.{sid}=127.0.0.1:{sender.QuorumPort}:{sender.ElectionPort}:participant", config);
            Assert.EndsWith("version=0", config);
        }

        var settled = await ensemble.SettledVotesAsync(first[1].Config);
        // Two servers of the same ensemble agree on one leader among themselves, and each knows its own role.
        Assert.Equal(settled[1].Leader, settled[2].Leader);
        var leader = settled[1].Leader.Value;
        Assert.Contains(leader, new long[] { 1, 2 });
        Assert.Equal(PeerState.Leading, settled[leader].State);
        Assert.Equal(PeerState.Following, settled[3 - leader].State);
        Assert.False(ensemble.Transport.ElectionLinkProblems.ContainsKey(new ServerId(1)), ensemble.Diagnostics());
        Assert.False(ensemble.Transport.ElectionLinkProblems.ContainsKey(new ServerId(2)), ensemble.Diagnostics());
    }

    [ApacheFact]
    public async Task An_Apache_leader_takes_us_as_a_learner_and_its_sync_stream_reads_through_to_newleader()
    {
        await using var ensemble = await ApacheEnsemble.StartAsync();
        var first = await ensemble.FirstNotificationsAsync();
        var settled = await ensemble.SettledVotesAsync(first[1].Config);
        var leader = settled[1].Leader;
        var transport = ensemble.Transport;
        // A client session is a txn; with one in its history the leader cannot sync an empty learner by DIFF.
        long sessionId = await ensemble.OpenSessionAsync();
        output.WriteLine($"opened session 0x{sessionId:x}");
        var self = new ServerId(3);

        transport.Send(new Envelope(self, leader, Channel.ToLeader, new PacketMessage(FollowerInfo(3))));
        var leaderInfo = await ensemble.NextPacketAsync(leader);
        Assert.Equal(PacketType.LeaderInfo, leaderInfo.Packet.Type);
        Assert.Equal(QuorumPacket.ProtocolVersion, leaderInfo.Packet.ReadIntPayload());
        long epoch = leaderInfo.Packet.Zxid.Value >> 32;
        Assert.True(epoch >= 1, $"LEADERINFO carries epoch {epoch}");

        // ACKEPOCH: our last zxid is 0 and our current epoch 0, so the leader must bring us up to date.
        transport.Send(new Envelope(self, leader, Channel.ToLeader, new PacketMessage(
            new QuorumPacket(PacketType.AckEpoch, Zxid.Zero, QuorumPacket.IntPayload(0)))));
        var sync = await ensemble.NextPacketAsync(leader);
        output.WriteLine($"leader {leader} synced us with {sync.Packet.Type} {sync.Packet.Zxid} ({sync.Snapshot?.Length ?? 0} snapshot bytes)");
        Assert.Equal(PacketType.Snap, sync.Packet.Type);
        Assert.NotNull(sync.Snapshot);
        Assert.True(sync.Snapshot!.Length > 100, $"a {sync.Snapshot.Length}-byte snapshot is too small to hold /zookeeper");
        Assert.Contains("/zookeeper/config", Encoding.UTF8.GetString(sync.Snapshot));
        // Whatever comes between, NEWLEADER follows on the same stream: the snapshot was read to its exact end.
        PacketMessage next;
        do next = await ensemble.NextPacketAsync(leader);
        while (next.Packet.Type != PacketType.NewLeader);
        Assert.Equal(epoch << 32, next.Packet.Zxid.Value);
        Assert.Contains("server.3=", Encoding.UTF8.GetString(next.Packet.Data ?? []));
    }

    /// <summary>Two Apache servers (sids 1 and 2) and this transport as sid 3, all on loopback.</summary>
    private sealed class ApacheEnsemble : IAsyncDisposable
    {
        private readonly DateTime _deadline = DateTime.UtcNow + TestBound;
        private ApacheQuorumPeer? _one;
        private ApacheQuorumPeer? _two;
        private readonly int[] _clientPorts = [FreePort(), FreePort()];

        private ApacheEnsemble(QuorumPeerAddress[] addresses)
        {
            Addresses = addresses;
            Transport = new QuorumTransport(Options(3, addresses) with { ReadSnapshot = ApacheSnapshotReader.ReadAsync }, NullLogger.Instance);
            Inbox = new Inbox(Transport);
        }

        public QuorumPeerAddress[] Addresses { get; }
        public QuorumTransport Transport { get; }
        public Inbox Inbox { get; }

        public static Task<ApacheEnsemble> StartAsync()
        {
            var ensemble = new ApacheEnsemble([Address(1), Address(2), Address(3)]);
            var lines = ensemble.Addresses.Select(a => $"server.{a.Id.Value}=127.0.0.1:{a.QuorumPort}:{a.ElectionPort}").ToList();
            ensemble.Transport.Start();
            ensemble._one = ApacheQuorumPeer.Start(1, ensemble._clientPorts[0], lines);
            ensemble._two = ApacheQuorumPeer.Start(2, ensemble._clientPorts[1], lines);
            return Task.FromResult(ensemble);
        }

        /// <summary>Connects a client to server 1 until a session is created (a txn the ensemble commits).</summary>
        public async Task<long> OpenSessionAsync()
        {
            while (true)
            {
                Left("opening a client session");
                try
                {
                    using var socket = await ConnectAsync(_clientPorts[0]);
                    var request = new byte[4 + 44];
                    System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(request, 44);
                    // protocolVersion 0, lastZxidSeen 0, timeout 30000 ms, sessionId 0, a 16-byte zero password, readOnly false.
                    System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(16), 30000);
                    System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(28), 16);
                    await socket.SendAsync(request, System.Net.Sockets.SocketFlags.None);
                    var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(await ReadExactlyAsync(socket, 4));
                    var response = await ReadExactlyAsync(socket, length);
                    long sessionId = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(response.AsSpan(8));
                    if (sessionId != 0) return sessionId;
                }
                catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or EndOfStreamException or OperationCanceledException)
                {
                    // The server is still starting to serve; try again on a new connection.
                }
                await Task.Delay(100);
            }
        }

        public string Diagnostics() =>
            $"problems: {string.Join("; ", Transport.ElectionLinkProblems.Select(p => $"{p.Key}: {p.Value}"))}\n" +
            $"--- server 1 ---\n{_one?.Output}\n--- server 2 ---\n{_two?.Output}";

        private TimeSpan Left(string waitingFor)
        {
            var left = _deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"{waitingFor} took longer than {TestBound.TotalSeconds} s\n{Diagnostics()}");
            return left;
        }

        /// <summary>
        /// Each Apache server notifies every member when its election starts; being lower sids, they hang up and
        /// we dial back, so these arrive on links this transport dialled.
        /// </summary>
        public async Task<Dictionary<long, Notification>> FirstNotificationsAsync()
        {
            var first = new Dictionary<long, Notification>();
            while (first.Count < 2)
            {
                Envelope envelope;
                try
                {
                    envelope = await Inbox.NextAsync(e => e.From.Value is 1 or 2, Left("the first notifications"));
                }
                catch (TimeoutException)
                {
                    throw new TimeoutException("no notifications from the Apache servers in time\n" + Diagnostics());
                }
                first.TryAdd(envelope.From.Value, ((ElectionMessage)envelope.Message).Notification);
            }
            return first;
        }

        /// <summary>
        /// Sends a LOOKING notification with an election round (0) behind theirs, so it never counts in their tally,
        /// for candidate 1 with an empty history, which never beats their proposal (a better vote arriving while
        /// they wait out finalizeWait would make them wait again), and with their own config, so it never restarts
        /// their election. A LOOKING server answers such a sender with its vote; a FOLLOWING or LEADING one answers
        /// with its state. Asks again until both have settled.
        /// </summary>
        public async Task<Dictionary<long, Notification>> SettledVotesAsync(byte[] config)
        {
            var settled = new Dictionary<long, Notification>();
            while (settled.Count < 2)
            {
                Left("settling the election");
                foreach (var sid in new long[] { 1, 2 }.Where(s => !settled.ContainsKey(s)))
                {
                    Transport.Send(new Envelope(new ServerId(3), new ServerId(sid), Channel.Election, new ElectionMessage(
                        new Notification(PeerState.Looking, new ServerId(1), Zxid.Zero, 0, 0, Notification.CurrentVersion, config))));
                }
                // Their answers come within milliseconds; a round that brings none is asked again.
                var round = DateTime.UtcNow + TimeSpan.FromMilliseconds(500);
                while (DateTime.UtcNow < round && settled.Count < 2)
                {
                    Envelope envelope;
                    try
                    {
                        envelope = await Inbox.NextAsync(e => e.From.Value is 1 or 2 && e.Channel == Channel.Election, round - DateTime.UtcNow);
                    }
                    catch (TimeoutException)
                    {
                        break;
                    }
                    var answer = ((ElectionMessage)envelope.Message).Notification;
                    if (answer.State is PeerState.Following or PeerState.Leading) settled[envelope.From.Value] = answer;
                }
            }
            return settled;
        }

        public async Task<PacketMessage> NextPacketAsync(ServerId leader)
        {
            try
            {
                var envelope = await Inbox.NextAsync(e => e.From == leader && e.Channel == Channel.ToLearner, Left("the leader's packet"));
                return (PacketMessage)envelope.Message;
            }
            catch (TimeoutException)
            {
                throw new TimeoutException("no packet from the Apache leader in time\n" + Diagnostics());
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Transport.DisposeAsync();
            if (_one is not null) await _one.DisposeAsync();
            if (_two is not null) await _two.DisposeAsync();
        }
    }
}
