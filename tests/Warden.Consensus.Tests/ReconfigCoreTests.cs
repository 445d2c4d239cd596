using System.Text;
using Warden.Consensus.Wire;
using Warden.Protocol;
using static Warden.Consensus.Tests.HandDriven;

namespace Warden.Consensus.Tests;

/// <summary>
/// A reconfig in the core: the leader needs a quorum of the old voters and one of the new before it commits it, then
/// sends COMMITANDACTIVATE naming the leader of the new configuration, and puts the configuration in force; a follower
/// that the new configuration leaves out goes LOOKING, one that stays keeps following; a server outside the
/// configuration is served as a learner without a vote. Reconfig txns are marked here by a leading "R:".
/// </summary>
public sealed class ReconfigCoreTests
{
    private static readonly ServerId S4 = new(4), S5 = new(5);

    private static byte[]? ReconfigOf(byte[] data) =>
        data.Length > 2 && data[0] == (byte)'R' && data[1] == (byte)':' ? data[2..] : null;

    private static PeerOptions Reconfigurable(ServerId id) => Options(id) with { ReconfigOf = ReconfigOf };

    private static byte[] ConfigOf(long version, params (long Id, string Role)[] members) => Encoding.UTF8.GetBytes(
        string.Concat(members.Select(m => $"server.{m.Id}=127.0.0.1:{2887 + m.Id}:{3887 + m.Id}:{m.Role}\n")) + $"version={version:x}");

    private static byte[] ReconfigTxn(byte[] config) => [.. "R:"u8, .. config];

    /// <summary>S1 leading epoch 1 with S2, and S4 (outside the configuration) synchronised as a follower.</summary>
    private static ZabPeer LeaderWithS2AndOutsiderS4()
    {
        var leader = new ZabPeer(Reconfigurable(S1), RecoveredState.Empty);
        leader.Step(Election(S2, S1, new Notification(PeerState.Looking, S1, Zxid.Zero, 1, 0, 2, Config)));
        TakeAll(leader);
        foreach (var learner in new[] { S2, S4 })
        {
            FromLearner(leader, learner, Info(learner, 0));
            FromLearner(leader, learner, AckEpoch(Zxid.Zero, 0));
            FromLearner(leader, learner, Packet(PacketType.Ack, Zxid.From(1, 0)));
        }
        Assert.True(leader.IsEstablishedLeader);
        var statuses = leader.Learners.OrderBy(l => l.Id.Value).ToList();
        Assert.Equal([S2, S4], statuses.Select(l => l.Id));
        Assert.All(statuses, l => Assert.True(l.Synced));
        TakeAll(leader);
        return leader;
    }

    [Fact]
    public void Leader_commits_a_reconfig_only_with_quorums_of_old_and_new_voters_then_activates_it()
    {
        var leader = LeaderWithS2AndOutsiderS4();
        var next = ConfigOf(0x100000001L, (1, "participant"), (4, "participant"), (5, "participant"));
        var proposed = leader.Propose(ReconfigTxn(next));
        Assert.True(proposed.Accepted);
        TakeAll(leader);

        // S2 makes a quorum of the old voters (1, 2, 3) but S1 alone is no quorum of the new (1, 4, 5).
        FromLearner(leader, S2, Packet(PacketType.Ack, proposed.Zxid));
        Assert.Equal(Zxid.Zero, leader.CommittedZxid);
        Assert.DoesNotContain(SentTo(leader, S2), p => p.Type is PacketType.Commit or PacketType.CommitAndActivate);

        // S4's ack completes the new quorum: COMMITANDACTIVATE naming S1, which votes in the new configuration.
        FromLearner(leader, S4, Packet(PacketType.Ack, proposed.Zxid));
        var batches = TakeAll(leader);
        Assert.Equal(proposed.Zxid, leader.CommittedZxid);
        foreach (var learner in new[] { S2, S4 })
        {
            var activate = Assert.Single(SentTo(batches, learner), p => p.Type == PacketType.CommitAndActivate);
            Assert.Equal(proposed.Zxid, activate.Zxid);
            Assert.Equal(Hex("0000000000000001"), activate.Data);
        }
        Assert.Equal(next, Assert.Single(batches.SelectMany(b => b.ConfigChanges)).Text);
        Assert.Equal([S1, S4, S5], leader.Voters);
        Assert.Equal(PeerState.Leading, leader.State);

        // From here a txn needs the new voters: S2's ack no longer counts.
        var after = leader.Propose([9]);
        TakeAll(leader);
        FromLearner(leader, S2, Packet(PacketType.Ack, after.Zxid));
        Assert.Equal(proposed.Zxid, leader.CommittedZxid);
        FromLearner(leader, S4, Packet(PacketType.Ack, after.Zxid));
        Assert.Equal(after.Zxid, leader.CommittedZxid);
    }

    [Fact]
    public void Leader_that_is_no_voter_in_the_new_configuration_names_an_acking_voter_and_steps_down()
    {
        var leader = LeaderWithS2AndOutsiderS4();
        var next = ConfigOf(0x100000001L, (2, "participant"), (3, "participant"), (4, "participant"));
        var proposed = leader.Propose(ReconfigTxn(next));
        TakeAll(leader);
        FromLearner(leader, S2, Packet(PacketType.Ack, proposed.Zxid));
        FromLearner(leader, S4, Packet(PacketType.Ack, proposed.Zxid));
        var batches = TakeAll(leader);
        var activate = Assert.Single(SentTo(batches, S2), p => p.Type == PacketType.CommitAndActivate);
        // Both acked it; the higher id wins the tie.
        Assert.Equal(Hex("0000000000000004"), activate.Data);
        Assert.Equal(PeerState.Looking, leader.State);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Follower_left_out_by_commit_and_activate_looks_again_and_one_kept_follows_on(bool kept)
    {
        var follower = new ZabPeer(Reconfigurable(S2), RecoveredState.Empty);
        follower.Step(Election(S1, S2, new Notification(PeerState.Leading, S1, Zxid.Zero, 1, 0, 2, Config)));
        follower.Step(Election(S3, S2, new Notification(PeerState.Following, S1, Zxid.Zero, 1, 0, 2, Config)));
        Assert.Equal(PeerState.Following, follower.State);
        FromLeader(follower, Packet(PacketType.LeaderInfo, Zxid.From(1, 0), QuorumPacket.IntPayload(QuorumPacket.ProtocolVersion)));
        FromLeader(follower, Packet(PacketType.Diff, Zxid.Zero));
        FromLeader(follower, Packet(PacketType.NewLeader, Zxid.From(1, 0), Config));
        FromLeader(follower, Packet(PacketType.UpToDate, new Zxid(-1)));
        TakeAll(follower);
        Assert.True(follower.IsServing);

        var next = kept
            ? ConfigOf(0x100000001L, (1, "participant"), (2, "participant"))
            : ConfigOf(0x100000001L, (1, "participant"), (3, "participant"));
        FromLeader(follower, Packet(PacketType.Proposal, Zxid.From(1, 1), ReconfigTxn(next)));
        FromLeader(follower, Packet(PacketType.CommitAndActivate, Zxid.From(1, 1), Hex("0000000000000001")));
        var batches = TakeAll(follower);
        Assert.Equal(Zxid.From(1, 1), follower.CommittedZxid);
        Assert.Equal(next, Assert.Single(batches.SelectMany(b => b.ConfigChanges)).Text);
        Assert.Equal(kept ? PeerState.Following : PeerState.Looking, follower.State);
    }
}
