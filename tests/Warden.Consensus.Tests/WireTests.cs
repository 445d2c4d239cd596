using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus.Tests;

public sealed class WireTests
{
    public static IEnumerable<object[]> AllPacketTypes() => Enum.GetValues<PacketType>().Select(t => new object[] { t });

    [Theory]
    [MemberData(nameof(AllPacketTypes))]
    public void Quorum_packet_round_trips_for_every_type(PacketType type)
    {
        var packet = new QuorumPacket(type, Zxid.From(7, 42), [1, 2, 3], [new Id("digest", "bob:x"), Id.Anyone]);
        var decoded = QuorumPacket.Decode(packet.Encode());
        Assert.Equal(type, decoded.Type);
        Assert.Equal(packet.Zxid, decoded.Zxid);
        Assert.Equal(packet.Data, decoded.Data);
        Assert.Equal(packet.AuthInfo, decoded.AuthInfo);
    }

    [Fact]
    public void Packet_type_values_are_apaches()
    {
        int[] expected = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
        PacketType[] types =
        [
            PacketType.Request, PacketType.Proposal, PacketType.Ack, PacketType.Commit, PacketType.Ping, PacketType.Revalidate,
            PacketType.Sync, PacketType.Inform, PacketType.CommitAndActivate, PacketType.NewLeader, PacketType.FollowerInfo,
            PacketType.UpToDate, PacketType.Diff, PacketType.Trunc, PacketType.Snap, PacketType.ObserverInfo,
            PacketType.LeaderInfo, PacketType.AckEpoch, PacketType.InformAndActivate,
        ];
        Assert.Equal(expected, types.Select(t => (int)t));
    }

    [Fact]
    public void Quorum_packet_bytes_follow_the_jute_layout()
    {
        // int type, long zxid, buffer data (null is -1), vector<Id> authinfo (null is -1).
        var bytes = new QuorumPacket(PacketType.Ping, new Zxid(0x0000000100000002), null, null).Encode();
        byte[] expected = [0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        Assert.Equal(expected, bytes);
        var decoded = QuorumPacket.Decode(bytes);
        Assert.Null(decoded.Data);
        Assert.Null(decoded.AuthInfo);
    }

    [Fact]
    public void Quorum_packet_with_empty_data_and_auth_round_trips()
    {
        var decoded = QuorumPacket.Decode(new QuorumPacket(PacketType.Ack, Zxid.Zero, [], []).Encode());
        Assert.Empty(decoded.Data!);
        Assert.Empty(decoded.AuthInfo!);
    }

    [Fact]
    public void Truncated_or_padded_packets_are_rejected()
    {
        var bytes = new QuorumPacket(PacketType.Proposal, Zxid.From(1, 1), [9, 9, 9]).Encode();
        Assert.Throws<JuteException>(() => QuorumPacket.Decode(bytes.AsSpan(0, bytes.Length - 1)));
        Assert.Throws<JuteException>(() => QuorumPacket.Decode([.. bytes, 0]));
        // An authinfo count that cannot fit in what is left is refused before anything is allocated for it.
        byte[] hugeVector = [0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff];
        Assert.Throws<JuteException>(() => QuorumPacket.Decode(hugeVector));
    }

    [Fact]
    public void Notification_round_trips_and_matches_apaches_layout()
    {
        var notification = new Notification(PeerState.Following, new ServerId(3), Zxid.From(2, 9), 11, 2, 2, [0x41, 0x42]);
        var bytes = notification.Encode();
        Assert.Equal(Notification.FixedSize + 2, bytes.Length);
        Assert.Equal([0, 0, 0, 1], bytes[..4]);
        Assert.Equal([0, 0, 0, 2], bytes[36..40]);
        Assert.Equal([0, 0, 0, 2, 0x41, 0x42], bytes[40..]);
        var decoded = Notification.Decode(bytes);
        Assert.Equal(notification.State, decoded.State);
        Assert.Equal(notification.Vote, decoded.Vote);
        Assert.Equal(notification.Version, decoded.Version);
        Assert.Equal(notification.Config, decoded.Config);
    }

    [Fact]
    public void Notification_with_a_bad_state_or_length_is_rejected()
    {
        var bytes = new Notification(PeerState.Looking, new ServerId(1), Zxid.Zero, 1, 0, 2, []).Encode();
        Assert.Throws<JuteException>(() => Notification.Decode(bytes.AsSpan(0, 27)));
        // Past 28 bytes and not 40, the peer epoch and version must both be there.
        Assert.Throws<JuteException>(() => Notification.Decode(bytes.AsSpan(0, 36)));
        // Above version 1 the config length must fit in the frame.
        Assert.Throws<JuteException>(() => Notification.Decode(bytes.AsSpan(0, 42)));
        var badLength = new Notification(PeerState.Looking, new ServerId(1), Zxid.Zero, 1, 0, 2, [1, 2]).Encode();
        badLength[43] = 9;
        Assert.Throws<JuteException>(() => Notification.Decode(badLength));
        badLength[40] = 0xff;
        Assert.Throws<JuteException>(() => Notification.Decode(badLength));
        bytes[3] = 9;
        Assert.Throws<JuteException>(() => Notification.Decode(bytes));
    }

    [Fact]
    public void Notification_of_28_bytes_takes_its_peer_epoch_from_the_zxid()
    {
        var full = new Notification(PeerState.Following, new ServerId(3), Zxid.From(5, 9), 11, 2, 2, []).Encode();
        var decoded = Notification.Decode(full.AsSpan(0, 28));
        Assert.Equal(PeerState.Following, decoded.State);
        Assert.Equal(new ServerId(3), decoded.Leader);
        Assert.Equal(Zxid.From(5, 9), decoded.Zxid);
        Assert.Equal(11, decoded.ElectionEpoch);
        Assert.Equal(5, decoded.PeerEpoch);
        Assert.Equal(0, decoded.Version);
        Assert.Empty(decoded.Config);
    }

    [Fact]
    public void Notification_of_40_bytes_has_a_peer_epoch_and_no_version()
    {
        var full = new Notification(PeerState.Looking, new ServerId(2), Zxid.From(1, 4), 3, 1, 2, [7, 7]).Encode();
        // The trailing int of a 40-byte frame is ignored, whatever it holds.
        full[39] = 5;
        var decoded = Notification.Decode(full.AsSpan(0, 40));
        Assert.Equal(1, decoded.PeerEpoch);
        Assert.Equal(0, decoded.Version);
        Assert.Empty(decoded.Config);
    }

    [Fact]
    public void Notification_below_version_2_or_with_trailing_bytes_is_accepted()
    {
        var versionOne = new Notification(PeerState.Leading, new ServerId(2), Zxid.From(1, 4), 3, 1, 1, []).Encode();
        // Version 1 has no config; whatever follows the version is not read.
        var decoded = Notification.Decode(versionOne.AsSpan(0, 40 + 4).ToArray().Concat(new byte[] { 0, 0, 0, 0, 1 }).ToArray());
        Assert.Equal(1, decoded.Version);
        Assert.Empty(decoded.Config);
        var config = "server.1=127.0.0.1:2888:3888:participant\nversion=0"u8.ToArray();
        var padded = new Notification(PeerState.Looking, new ServerId(1), Zxid.Zero, 1, 0, 2, config).Encode().Concat(new byte[] { 1, 2, 3 }).ToArray();
        Assert.Equal(config, Notification.Decode(padded).Config);
    }

    [Fact]
    public void Election_notifications_carry_the_configured_text()
    {
        var config = "server.1=a:1:2:participant\nversion=0"u8.ToArray();
        var voters = new List<ServerId> { new(1), new(2), new(3) };
        var peer = new ZabPeer(new PeerOptions { Id = voters[0], Voters = voters, ConfigText = config }, RecoveredState.Empty);
        var sent = peer.TakeReady().SendNow.Select(e => ((ElectionMessage)e.Message).Notification).ToList();
        Assert.Equal(2, sent.Count);
        Assert.All(sent, n => Assert.Equal(config, n.Config));
        var bytes = sent[0].Encode();
        Assert.Equal(Notification.FixedSize + config.Length, bytes.Length);
        Assert.Equal(config, bytes[Notification.FixedSize..]);
    }

    [Fact]
    public void Learner_info_round_trips_and_accepts_older_short_forms()
    {
        var info = new LearnerInfo(new ServerId(5), QuorumPacket.ProtocolVersion, 0x100000000);
        Assert.Equal(info, LearnerInfo.Decode(info.Encode()));
        var idOnly = LearnerInfo.Decode(info.Encode().AsSpan(0, 8));
        Assert.Equal(new ServerId(5), idOnly.ServerId);
        Assert.Equal(0, idOnly.ProtocolVersion);
        Assert.Throws<JuteException>(() => LearnerInfo.Decode([1, 2, 3]));
    }

    [Fact]
    public void Votes_order_by_peer_epoch_then_zxid_then_server_id()
    {
        var low = new Vote(new ServerId(9), Zxid.From(1, 100), 1, 1);
        var newerEpoch = new Vote(new ServerId(1), Zxid.From(1, 1), 1, 2);
        var higherZxid = new Vote(new ServerId(1), Zxid.From(1, 101), 1, 1);
        var higherId = new Vote(new ServerId(10), Zxid.From(1, 100), 1, 1);
        Assert.True(newerEpoch.IsBetterThan(low));
        Assert.True(higherZxid.IsBetterThan(low));
        Assert.True(higherId.IsBetterThan(low));
        Assert.False(low.IsBetterThan(low));
        Assert.True(newerEpoch.IsBetterThan(higherZxid));
    }
}
