using System.Text;
using Warden.Consensus.Wire;
using Warden.Protocol;
using static Warden.Consensus.Tests.HandDriven;

namespace Warden.Consensus.Tests;

/// <summary>
/// With reconfigEnabled, an unversioned configuration (version 0) gets the version of the new leader's epoch, as
/// Apache's Leader.lead gives it; the leader's NEWLEADER carries it and its learners take it. Without reconfigEnabled
/// the configuration stays at version 0, which is what Apache peers compare in every notification.
/// </summary>
public sealed class ConfigVersionTests
{
    private static PeerOptions Reconfigurable(ServerId id) => Options(id) with { VersionConfigOnLead = true };

    [Fact]
    public void Leader_with_reconfig_enabled_versions_the_config_with_its_new_epoch_and_sends_it_in_newleader()
    {
        var leader = new ZabPeer(Reconfigurable(S1), RecoveredState.Empty);
        leader.Step(Election(S2, S1, new Notification(PeerState.Looking, S1, Zxid.Zero, 1, 0, 2, Config)));
        TakeAll(leader);
        FromLearner(leader, S2, Info(S2, 0));
        var batches = TakeAll(leader);
        var change = Assert.Single(batches.SelectMany(b => b.ConfigChanges));
        Assert.Equal(0x100000000L, change.Version);
        Assert.EndsWith("\nversion=100000000", Encoding.UTF8.GetString(change.Text), StringComparison.Ordinal);
        Assert.StartsWith("server.1=127.0.0.1:2888:3888:participant\n", Encoding.UTF8.GetString(change.Text), StringComparison.Ordinal);

        FromLearner(leader, S2, AckEpoch(Zxid.Zero, 0));
        var newLeader = SentTo(leader, S2).Single(p => p.Type == PacketType.NewLeader);
        Assert.Equal(change.Text, newLeader.Data);
    }

    [Fact]
    public void Leader_without_reconfig_keeps_version_zero()
    {
        var leader = new ZabPeer(Options(S1), RecoveredState.Empty);
        leader.Step(Election(S2, S1, new Notification(PeerState.Looking, S1, Zxid.Zero, 1, 0, 2, Config)));
        FromLearner(leader, S2, Info(S2, 0));
        Assert.Empty(TakeAll(leader).SelectMany(b => b.ConfigChanges));
        FromLearner(leader, S2, AckEpoch(Zxid.Zero, 0));
        Assert.Equal(Config, SentTo(leader, S2).Single(p => p.Type == PacketType.NewLeader).Data);
    }

    [Fact]
    public void Learner_takes_a_newer_config_from_newleader_and_ignores_an_older_one()
    {
        var newer = ConfigTexts.WithVersion(Config, 0x100000000L);
        var follower = FollowerOfS1(RecoveredState.Empty);
        FromLeader(follower, Packet(PacketType.LeaderInfo, Zxid.From(1, 0), QuorumPacket.IntPayload(QuorumPacket.ProtocolVersion)));
        FromLeader(follower, Packet(PacketType.Diff, Zxid.Zero));
        FromLeader(follower, Packet(PacketType.NewLeader, Zxid.From(1, 0), newer));
        var change = Assert.Single(TakeAll(follower).SelectMany(b => b.ConfigChanges));
        Assert.Equal(0x100000000L, change.Version);
        Assert.Equal(newer, change.Text);

        // Its notifications now carry the new version, as an Apache peer expects of a member of this configuration.
        follower.Step(Election(S3, S2, new Notification(PeerState.Looking, S3, Zxid.Zero, 5, 0, 2, Config)));
        var reply = TakeAll(follower).SelectMany(b => b.SendNow).Select(e => e.Message).OfType<ElectionMessage>().Single();
        Assert.Equal(newer, reply.Notification.Config);
    }

    [Fact]
    public void Config_text_version_is_read_and_rewritten_in_place()
    {
        Assert.Equal(0L, ConfigTexts.VersionOf(Config));
        var rewritten = ConfigTexts.WithVersion(Config, 0x10000000aL);
        Assert.Equal(0x10000000aL, ConfigTexts.VersionOf(rewritten));
        Assert.Equal(Encoding.UTF8.GetString(Config).Replace("version=0", "version=10000000a", StringComparison.Ordinal), Encoding.UTF8.GetString(rewritten));
    }
}
