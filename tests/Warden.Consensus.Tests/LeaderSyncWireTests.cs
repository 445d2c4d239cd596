using Warden.Consensus.Wire;
using Warden.Protocol;
using static Warden.Consensus.Tests.HandDriven;

namespace Warden.Consensus.Tests;

/// <summary>The packets a leader sends to synchronise a learner, pinned to what Apache's LearnerHandler sends.</summary>
public sealed class LeaderSyncWireTests
{
    private static readonly Zxid Epoch2 = Zxid.From(2, 0);

    private static RecoveredState FiveTxnsOfEpoch1 => new(1, 1, Zxid.Zero, [T(1, 1), T(1, 2), T(1, 3), T(1, 4), T(1, 5)]);

    private static (PacketType, Zxid)[] Shape(IEnumerable<QuorumPacket> packets) => packets.Select(p => (p.Type, p.Zxid)).ToArray();

    /// <summary>S1 leading with S2 synchronised and acked: established in epoch 2.</summary>
    private static ZabPeer EstablishedWithS2(RecoveredState recovered, Zxid s2Last)
    {
        var leader = ElectedLeader(recovered);
        FromLearner(leader, S2, Info(S2, recovered.AcceptedEpoch));
        FromLearner(leader, S2, AckEpoch(s2Last, recovered.CurrentEpoch));
        FromLearner(leader, S2, Packet(PacketType.Ack, Epoch2));
        Assert.True(leader.IsEstablishedLeader);
        TakeAll(leader);
        return leader;
    }

    [Fact]
    public void Learner_behind_by_three_txns_gets_diff_then_proposal_commit_pairs_then_newleader_then_uptodate_after_the_quorum_ack()
    {
        var leader = ElectedLeader(FiveTxnsOfEpoch1);
        FromLearner(leader, S2, Info(S2, 1));
        var leaderInfo = Assert.Single(SentTo(leader, S2));
        // LEADERINFO: type 17, zxid newEpoch<<32, data int 0x10000, no auth.
        Assert.Equal(Hex("00000011 0000000200000000 00000004 00010000 ffffffff"), leaderInfo.Encode());

        FromLearner(leader, S2, AckEpoch(Zxid.From(1, 2), 1));
        var sync = SentTo(leader, S2);
        (PacketType, Zxid)[] expected =
        [
            (PacketType.Diff, Zxid.From(1, 5)),
            (PacketType.Proposal, Zxid.From(1, 3)), (PacketType.Commit, Zxid.From(1, 3)),
            (PacketType.Proposal, Zxid.From(1, 4)), (PacketType.Commit, Zxid.From(1, 4)),
            (PacketType.Proposal, Zxid.From(1, 5)), (PacketType.Commit, Zxid.From(1, 5)),
            (PacketType.NewLeader, Epoch2),
        ];
        Assert.Equal(expected, Shape(sync));
        Assert.Equal(Hex("0000000d 0000000100000005 ffffffff ffffffff"), sync[0].Encode());
        Assert.Equal(T(1, 3).Data, sync[1].Data);
        Assert.Equal(Hex("00000004 0000000100000003 ffffffff ffffffff"), sync[2].Encode());
        var newLeader = sync[^1].Encode();
        Assert.Equal(Hex("0000000a 0000000200000000"), newLeader[..12]);
        Assert.Equal(Config, newLeader[16..^4]);
        Assert.False(leader.IsEstablishedLeader);

        FromLearner(leader, S2, Packet(PacketType.Ack, Epoch2));
        Assert.True(leader.IsEstablishedLeader);
        var upToDate = Assert.Single(SentTo(leader, S2));
        Assert.Equal(Hex("0000000c ffffffffffffffff ffffffff ffffffff"), upToDate.Encode());
    }

    [Fact]
    public void Learner_at_the_last_committed_zxid_gets_an_empty_diff_with_its_own_zxid()
    {
        var leader = ElectedLeader(FiveTxnsOfEpoch1);
        FromLearner(leader, S2, Info(S2, 1));
        TakeAll(leader);
        FromLearner(leader, S2, AckEpoch(Zxid.From(1, 5), 1));
        Assert.Equal([(PacketType.Diff, Zxid.From(1, 5)), (PacketType.NewLeader, Epoch2)], Shape(SentTo(leader, S2)));
    }

    [Fact]
    public void Late_learner_gets_committed_pairs_then_outstanding_proposals_without_commits()
    {
        var leader = EstablishedWithS2(FiveTxnsOfEpoch1, Zxid.From(1, 5));
        var outstanding = leader.Propose([9]).Zxid;
        Assert.Equal(Zxid.From(2, 1), outstanding);
        TakeAll(leader);
        FromLearner(leader, S3, Info(S3, 1));
        TakeAll(leader);
        FromLearner(leader, S3, AckEpoch(Zxid.From(1, 4), 1));
        (PacketType, Zxid)[] expected =
        [
            (PacketType.Diff, Zxid.From(1, 5)),
            (PacketType.Proposal, Zxid.From(1, 5)), (PacketType.Commit, Zxid.From(1, 5)),
            (PacketType.Proposal, outstanding),
            (PacketType.NewLeader, Epoch2),
        ];
        Assert.Equal(expected, Shape(SentTo(leader, S3)));
        // The established leader answers the NEWLEADER ack with UPTODATE at once; that ack also says S3 holds the
        // outstanding proposal on disk, which with the leader's own write is a quorum, so its COMMIT follows.
        FromLearner(leader, S3, Packet(PacketType.Ack, Epoch2));
        Assert.Equal([(PacketType.UpToDate, new Zxid(-1)), (PacketType.Commit, outstanding)], Shape(SentTo(leader, S3)));
    }

    /// <summary>
    /// Apache 3.8's Learner.syncWithLeader forgets the proposals it took before NEWLEADER once it has logged them, and a
    /// COMMIT that then arrives before UPTODATE, with no proposal after NEWLEADER, fails its sync with a
    /// NullPointerException (Learner.java:655 in 3.8.0), seen when an Apache follower rejoined a Warden leader under
    /// writes. So the COMMIT of a proposal that commits while the learner is between NEWLEADER and UPTODATE waits,
    /// and follows UPTODATE, where the learner matches it against the proposals it logged.
    /// </summary>
    [Fact]
    public void Commit_that_falls_between_newleader_and_uptodate_is_held_until_after_uptodate()
    {
        var leader = EstablishedWithS2(FiveTxnsOfEpoch1, Zxid.From(1, 5));
        var outstanding = leader.Propose([9]).Zxid;
        TakeAll(leader);
        FromLearner(leader, S3, Info(S3, 1));
        TakeAll(leader);
        FromLearner(leader, S3, AckEpoch(Zxid.From(1, 5), 1));
        Assert.Equal([(PacketType.Diff, Zxid.From(1, 5)), (PacketType.Proposal, outstanding), (PacketType.NewLeader, Epoch2)],
            Shape(SentTo(leader, S3)));

        // S2's ack makes a quorum with the leader: S2 gets the COMMIT, S3 (still synchronising) does not.
        FromLearner(leader, S2, Packet(PacketType.Ack, outstanding));
        Assert.Equal(outstanding, leader.CommittedZxid);
        var batches = TakeAll(leader);
        Assert.Equal([(PacketType.Commit, outstanding)], Shape(SentTo(batches, S2)));
        Assert.Empty(SentTo(batches, S3));

        FromLearner(leader, S3, Packet(PacketType.Ack, Epoch2));
        var sent = SentTo(leader, S3);
        Assert.Equal(2, sent.Count);
        Assert.Equal(Hex("0000000c ffffffffffffffff ffffffff ffffffff"), sent[0].Encode());
        Assert.Equal(Hex("00000004 0000000200000001 ffffffff ffffffff"), sent[1].Encode());
        Assert.Equal(0, leader.LearnersDropped);
    }

    [Fact]
    public void Learner_past_the_last_committed_zxid_is_truncated_to_it_and_given_the_outstanding_proposals()
    {
        var leader = EstablishedWithS2(FiveTxnsOfEpoch1, Zxid.From(1, 5));
        var outstanding = leader.Propose([9]).Zxid;
        TakeAll(leader);
        FromLearner(leader, S3, Info(S3, 1));
        TakeAll(leader);
        // S3 holds a txn of epoch 1 that this leader never had.
        FromLearner(leader, S3, AckEpoch(Zxid.From(1, 6), 1));
        (PacketType, Zxid)[] expected =
        [
            (PacketType.Trunc, Zxid.From(1, 5)),
            (PacketType.Proposal, outstanding),
            (PacketType.NewLeader, Epoch2),
        ];
        Assert.Equal(expected, Shape(SentTo(leader, S3)));
    }

    [Fact]
    public void Learner_with_a_gap_in_its_epoch_is_truncated_to_the_txn_before_it_then_given_pairs()
    {
        // S2 holds (1,3), which this leader lacks, and the next txn the leader holds is of the same epoch.
        var leader = ElectedLeader(new RecoveredState(1, 1, Zxid.Zero, [T(1, 1), T(1, 2), T(1, 4), T(1, 5)]));
        FromLearner(leader, S2, Info(S2, 1));
        TakeAll(leader);
        FromLearner(leader, S2, AckEpoch(Zxid.From(1, 3), 1));
        (PacketType, Zxid)[] expected =
        [
            (PacketType.Trunc, Zxid.From(1, 2)),
            (PacketType.Proposal, Zxid.From(1, 4)), (PacketType.Commit, Zxid.From(1, 4)),
            (PacketType.Proposal, Zxid.From(1, 5)), (PacketType.Commit, Zxid.From(1, 5)),
            (PacketType.NewLeader, Epoch2),
        ];
        Assert.Equal(expected, Shape(SentTo(leader, S2)));
    }

    [Fact]
    public void Learner_whose_extra_txns_are_of_an_older_epoch_gets_a_snapshot_not_a_trunc_across_epochs()
    {
        var leader = ElectedLeader(new RecoveredState(2, 2, Zxid.Zero, [T(1, 1), T(1, 2), T(2, 1)]));
        FromLearner(leader, S2, Info(S2, 1));
        TakeAll(leader);
        FromLearner(leader, S2, AckEpoch(Zxid.From(1, 3), 1));
        var epoch3 = Zxid.From(3, 0);
        (PacketType, Zxid)[] expected =
        [
            (PacketType.Snap, Zxid.Zero),
            (PacketType.Proposal, Zxid.From(1, 1)), (PacketType.Commit, Zxid.From(1, 1)),
            (PacketType.Proposal, Zxid.From(1, 2)), (PacketType.Commit, Zxid.From(1, 2)),
            (PacketType.Proposal, Zxid.From(2, 1)), (PacketType.Commit, Zxid.From(2, 1)),
            (PacketType.NewLeader, epoch3),
        ];
        Assert.Equal(expected, Shape(SentTo(leader, S2)));
    }

    [Fact]
    public void Learner_behind_the_retained_log_gets_a_snapshot_at_the_applied_zxid_then_pairs()
    {
        var leader = ElectedLeader(new RecoveredState(1, 1, Zxid.From(1, 3), [T(1, 4), T(1, 5)]));
        FromLearner(leader, S2, Info(S2, 1));
        TakeAll(leader);
        FromLearner(leader, S2, AckEpoch(Zxid.From(1, 1), 1));
        (PacketType, Zxid)[] expected =
        [
            (PacketType.Snap, Zxid.From(1, 3)),
            (PacketType.Proposal, Zxid.From(1, 4)), (PacketType.Commit, Zxid.From(1, 4)),
            (PacketType.Proposal, Zxid.From(1, 5)), (PacketType.Commit, Zxid.From(1, 5)),
            (PacketType.NewLeader, Epoch2),
        ];
        Assert.Equal(expected, Shape(SentTo(leader, S2)));
    }

    [Fact]
    public void Empty_learner_at_an_epoch_start_gets_a_diff_and_every_txn()
    {
        var leader = ElectedLeader(new RecoveredState(1, 1, Zxid.Zero, [T(1, 1), T(1, 2)]));
        FromLearner(leader, S2, Info(S2, 0));
        TakeAll(leader);
        FromLearner(leader, S2, AckEpoch(Zxid.Zero, 0));
        (PacketType, Zxid)[] expected =
        [
            (PacketType.Diff, Zxid.From(1, 2)),
            (PacketType.Proposal, Zxid.From(1, 1)), (PacketType.Commit, Zxid.From(1, 1)),
            (PacketType.Proposal, Zxid.From(1, 2)), (PacketType.Commit, Zxid.From(1, 2)),
            (PacketType.NewLeader, Epoch2),
        ];
        Assert.Equal(expected, Shape(SentTo(leader, S2)));
    }

    [Fact]
    public void Ack_of_the_epoch_after_uptodate_is_ignored_and_the_learner_stays()
    {
        var leader = EstablishedWithS2(FiveTxnsOfEpoch1, Zxid.From(1, 5));
        // Apache's learner answers UPTODATE with ACK(newEpoch << 32).
        FromLearner(leader, S2, Packet(PacketType.Ack, Epoch2));
        Assert.Equal(0, leader.LearnersDropped);
        var zxid = leader.Propose([1]).Zxid;
        var sent = SentTo(leader, S2);
        Assert.Contains(sent, p => p.Type == PacketType.Proposal && p.Zxid == zxid);
        FromLearner(leader, S2, Packet(PacketType.Ack, zxid));
        Assert.Equal(zxid, leader.CommittedZxid);
        Assert.Contains(SentTo(leader, S2), p => p.Type == PacketType.Commit && p.Zxid == zxid);
    }

    [Fact]
    public void Pings_go_only_to_learners_past_newleader_and_carry_no_data()
    {
        var leader = ElectedLeader(FiveTxnsOfEpoch1);
        FromLearner(leader, S2, Info(S2, 1));
        FromLearner(leader, S3, Info(S3, 1));
        TakeAll(leader);
        FromLearner(leader, S2, AckEpoch(Zxid.From(1, 5), 1));
        TakeAll(leader);
        leader.Tick();
        var batches = TakeAll(leader);
        var ping = Assert.Single(SentTo(batches, S2));
        Assert.Equal(PacketType.Ping, ping.Type);
        Assert.Null(ping.Data);
        Assert.Empty(SentTo(batches, S3));
    }

    [Fact]
    public void Learner_silent_between_its_newleader_ack_and_uptodate_is_kept_for_init_limit_not_sync_limit()
    {
        List<ServerId> five = [S1, S2, S3, new(4), new(5)];
        var leader = new ZabPeer(Options(S1) with { Voters = five, InitLimitTicks = 10, SyncLimitTicks = 5 }, FiveTxnsOfEpoch1);
        foreach (var voter in new[] { S2, S3 })
        {
            leader.Step(Election(voter, S1, new Notification(PeerState.Looking, S1, Zxid.From(1, 5), 1, 1, 2, Config)));
        }
        Assert.Equal(PeerState.Leading, leader.State);
        foreach (var learner in new[] { S2, S3 }) FromLearner(leader, learner, Info(learner, 1));
        foreach (var learner in new[] { S2, S3 }) FromLearner(leader, learner, AckEpoch(Zxid.From(1, 5), 1));
        FromLearner(leader, S2, Packet(PacketType.Ack, Epoch2));
        TakeAll(leader);
        // S2 acked and, like Apache's learner, says nothing until UPTODATE, for longer than syncLimit.
        for (int i = 0; i < 7; i++) leader.Tick();
        FromLearner(leader, S3, Packet(PacketType.Ack, Epoch2));
        Assert.True(leader.IsEstablishedLeader);
        Assert.Contains(SentTo(leader, S2), p => p.Type == PacketType.UpToDate);
    }
}
