using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus.Tests;

/// <summary>
/// Drives one peer of a three-voter ensemble by hand, playing the other two as an Apache peer would, so that tests can
/// pin the exact packets the core sends and accepts.
/// </summary>
internal static class HandDriven
{
    public static readonly ServerId S1 = new(1), S2 = new(2), S3 = new(3);
    public static readonly List<ServerId> Voters = [S1, S2, S3];
    public static readonly byte[] Config = "server.1=127.0.0.1:2888:3888:participant\nserver.2=127.0.0.1:2889:3889:participant\nserver.3=127.0.0.1:2890:3890:participant\nversion=0"u8.ToArray();

    public static Txn T(int epoch, int counter) => new(Zxid.From(epoch, counter), [(byte)epoch, (byte)counter]);

    public static PeerOptions Options(ServerId id) => new() { Id = id, Voters = Voters, ConfigText = Config };

    /// <summary>S1, elected by S2's vote in the first round, with nothing sent yet taken out.</summary>
    public static ZabPeer ElectedLeader(RecoveredState recovered, Func<PeerOptions, PeerOptions>? options = null)
    {
        var peer = new ZabPeer(options is null ? Options(S1) : options(Options(S1)), recovered);
        var last = recovered.Log.Count > 0 ? recovered.Log[^1].Zxid : recovered.SnapshotZxid;
        peer.Step(Election(S2, S1, new Notification(PeerState.Looking, S1, last, 1, recovered.CurrentEpoch, 2, Config)));
        Assert.Equal(PeerState.Leading, peer.State);
        TakeAll(peer);
        return peer;
    }

    /// <summary>S2, told by S1 (leading) and S3 (following) that S1 leads, with its FOLLOWERINFO taken out.</summary>
    public static ZabPeer FollowerOfS1(RecoveredState recovered)
    {
        var peer = new ZabPeer(Options(S2), recovered);
        peer.Step(Election(S1, S2, new Notification(PeerState.Leading, S1, Zxid.Zero, 1, recovered.CurrentEpoch, 2, Config)));
        peer.Step(Election(S3, S2, new Notification(PeerState.Following, S1, Zxid.Zero, 1, recovered.CurrentEpoch, 2, Config)));
        Assert.Equal(PeerState.Following, peer.State);
        var info = Assert.Single(SentTo(TakeAll(peer), S1));
        Assert.Equal(PacketType.FollowerInfo, info.Type);
        return peer;
    }

    public static Envelope Election(ServerId from, ServerId to, Notification notification) =>
        new(from, to, Channel.Election, new ElectionMessage(notification));

    /// <summary>A learner's packet arriving at the leader S1.</summary>
    public static void FromLearner(ZabPeer leader, ServerId learner, QuorumPacket packet) =>
        leader.Step(new Envelope(learner, leader.Id, Channel.ToLeader, new PacketMessage(packet)));

    /// <summary>The leader S1's packet arriving at a learner.</summary>
    public static void FromLeader(ZabPeer learner, QuorumPacket packet, byte[]? snapshot = null) =>
        learner.Step(new Envelope(S1, learner.Id, Channel.ToLearner, new PacketMessage(packet, snapshot)));

    public static QuorumPacket Info(ServerId learner, int acceptedEpoch) =>
        new(PacketType.FollowerInfo, Zxid.From(acceptedEpoch, 0), new LearnerInfo(learner, QuorumPacket.ProtocolVersion, 0).Encode());

    public static QuorumPacket AckEpoch(Zxid lastLogged, int currentEpoch) =>
        new(PacketType.AckEpoch, lastLogged, QuorumPacket.IntPayload(currentEpoch));

    public static QuorumPacket Packet(PacketType type, Zxid zxid, byte[]? data = null) => new(type, zxid, data);

    /// <summary>Carries out every pending batch with a perfect disk and returns them in order.</summary>
    public static List<Ready> TakeAll(ZabPeer peer)
    {
        var batches = new List<Ready>();
        while (peer.HasReady)
        {
            var ready = peer.TakeReady();
            batches.Add(ready);
            peer.Advance(ready);
        }
        return batches;
    }

    /// <summary>The quorum packets the batches send to <paramref name="to"/>, in the order the host sends them.</summary>
    public static List<QuorumPacket> SentTo(IEnumerable<Ready> batches, ServerId to) =>
        batches.SelectMany(r => r.SendNow.Concat(r.SendAfterPersist))
            .Where(e => e.To == to && e.Message is PacketMessage)
            .Select(e => ((PacketMessage)e.Message).Packet)
            .ToList();

    public static List<QuorumPacket> SentTo(ZabPeer peer, ServerId to) => SentTo(TakeAll(peer), to);

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    public static string Summary(IEnumerable<QuorumPacket> packets) => string.Join(", ", packets.Select(p => p.ToString()));
}
