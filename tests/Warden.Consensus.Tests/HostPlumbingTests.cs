using Warden.Consensus.Wire;
using Warden.Protocol;
using static Warden.Consensus.Tests.HandDriven;

namespace Warden.Consensus.Tests;

/// <summary>What the core hands its host and takes from it besides txns: host packets, SYNC, disconnects, role changes.</summary>
public sealed class HostPlumbingTests
{
    private static readonly Zxid Epoch2 = Zxid.From(2, 0);
    private static readonly QuorumPacket Request = new(PacketType.Request, new Zxid(-1), Hex("0400000000001234 00000000 fffffff6 00007530"));
    private static readonly QuorumPacket Revalidate = new(PacketType.Revalidate, new Zxid(-1), Hex("0400000000001234 00007530"));

    private static RecoveredState OneTxn => new(1, 1, Zxid.Zero, [T(1, 1)]);

    /// <summary>S1 established in epoch 2 with S2 past UPTODATE and S3 never connected.</summary>
    private static ZabPeer LeaderWithS2()
    {
        var leader = ElectedLeader(OneTxn);
        FromLearner(leader, S2, Info(S2, 1));
        FromLearner(leader, S2, AckEpoch(Zxid.From(1, 1), 1));
        FromLearner(leader, S2, Packet(PacketType.Ack, Epoch2));
        Assert.True(leader.IsEstablishedLeader);
        TakeAll(leader);
        return leader;
    }

    /// <summary>S2 following S1 in epoch 2, past UPTODATE.</summary>
    private static ZabPeer ServingFollower()
    {
        var follower = FollowerOfS1(OneTxn);
        FromLeader(follower, new QuorumPacket(PacketType.LeaderInfo, Epoch2, QuorumPacket.IntPayload(QuorumPacket.ProtocolVersion)));
        FromLeader(follower, Packet(PacketType.Diff, Zxid.From(1, 1)));
        FromLeader(follower, new QuorumPacket(PacketType.NewLeader, Epoch2, Config));
        Assert.False(follower.SendToLeader(Request));
        FromLeader(follower, new QuorumPacket(PacketType.UpToDate, new Zxid(-1)));
        Assert.True(follower.IsServing);
        TakeAll(follower);
        return follower;
    }

    [Fact]
    public void Leader_hands_requests_revalidations_and_ping_replies_from_a_synced_learner_to_the_host_in_order()
    {
        var leader = LeaderWithS2();
        var ping = new QuorumPacket(PacketType.Ping, Zxid.From(1, 1), Hex("0400000000001234 00007530"));
        FromLearner(leader, S2, Request);
        FromLearner(leader, S2, ping);
        FromLearner(leader, S2, Revalidate);
        var ready = leader.TakeReady();
        Assert.Equal([(S2, Request), (S2, ping), (S2, Revalidate)], ready.FromLearners);
    }

    [Fact]
    public void Leader_drops_a_learner_that_sends_a_request_before_its_sync_finished()
    {
        var leader = ElectedLeader(OneTxn);
        FromLearner(leader, S2, Info(S2, 1));
        FromLearner(leader, S2, AckEpoch(Zxid.From(1, 1), 1));
        FromLearner(leader, S2, Request);
        var batches = TakeAll(leader);
        Assert.Empty(batches.SelectMany(r => r.FromLearners));
        Assert.Equal(1, leader.LearnersDropped);
        Assert.Equal([S2], batches.SelectMany(r => r.ClosedLearners));
    }

    [Fact]
    public void Leader_sends_revalidate_replies_only_to_learners_in_the_broadcast_phase()
    {
        var leader = LeaderWithS2();
        var reply = new QuorumPacket(PacketType.Revalidate, new Zxid(-1), Hex("0400000000001234 01"));
        Assert.True(leader.SendToLearner(S2, reply));
        Assert.False(leader.SendToLearner(S3, reply));
        Assert.Equal([reply], SentTo(leader, S2));
        Assert.Throws<ArgumentException>(() => leader.SendToLearner(S2, Packet(PacketType.Commit, Zxid.Zero)));
    }

    [Fact]
    public void Sync_goes_at_once_when_nothing_is_outstanding()
    {
        var leader = LeaderWithS2();
        Assert.True(leader.RequestSync(S2));
        Assert.False(leader.RequestSync(S3));
        var sync = Assert.Single(SentTo(leader, S2));
        Assert.Equal(Hex("00000007 0000000000000000 ffffffff ffffffff"), sync.Encode());
    }

    [Fact]
    public void Sync_waits_for_the_commit_of_the_last_proposal_made_before_it_and_follows_that_commit()
    {
        var leader = LeaderWithS2();
        var first = leader.Propose([1]).Zxid;
        var second = leader.Propose([2]).Zxid;
        Assert.True(leader.RequestSync(S2));
        var third = leader.Propose([3]).Zxid;
        var sent = SentTo(leader, S2);
        Assert.DoesNotContain(sent, p => p.Type == PacketType.Sync);

        // The first commit alone does not release the SYNC.
        FromLearner(leader, S2, Packet(PacketType.Ack, first));
        sent = SentTo(leader, S2);
        Assert.Equal([(PacketType.Commit, first)], sent.Select(p => (p.Type, p.Zxid)));

        // Acking everything commits the second and third together: SYNC goes right after the second's COMMIT.
        FromLearner(leader, S2, Packet(PacketType.Ack, third));
        sent = SentTo(leader, S2);
        (PacketType, Zxid)[] expected = [(PacketType.Commit, second), (PacketType.Sync, Zxid.Zero), (PacketType.Commit, third)];
        Assert.Equal(expected, sent.Select(p => (p.Type, p.Zxid)));
    }

    [Fact]
    public void Learner_hands_revalidate_replies_and_sync_to_the_host_in_stream_order_between_the_commits()
    {
        var follower = ServingFollower();
        var revalidateReply = new QuorumPacket(PacketType.Revalidate, new Zxid(-1), Hex("0400000000001234 01"));
        var sync = new QuorumPacket(PacketType.Sync, Zxid.Zero);
        FromLeader(follower, Packet(PacketType.Proposal, Zxid.From(2, 1), [5]));
        FromLeader(follower, Packet(PacketType.Proposal, Zxid.From(2, 2), [6]));
        FromLeader(follower, revalidateReply);
        FromLeader(follower, Packet(PacketType.Commit, Zxid.From(2, 1)));
        FromLeader(follower, sync);
        // A write forwarded after the sync commits after it on the stream; in one batch its commit must still
        // come after the SYNC, or its reply would overtake the sync's.
        FromLeader(follower, Packet(PacketType.Commit, Zxid.From(2, 2)));
        var ready = follower.TakeReady();
        string[] order = ready.StateMachine.Select(u => u switch
        {
            ApplyTxn apply => $"apply {apply.Txn.Zxid}",
            LeaderPacket leader => leader.Packet.Type.ToString(),
            _ => u.ToString()!,
        }).ToArray();
        Assert.Equal(["Revalidate", $"apply {Zxid.From(2, 1)}", "Sync", $"apply {Zxid.From(2, 2)}"], order);
    }

    [Fact]
    public void Learner_sends_host_packets_to_the_leader_in_order_with_its_acks()
    {
        var follower = ServingFollower();
        FromLeader(follower, Packet(PacketType.Proposal, Zxid.From(2, 1), [5]));
        Assert.True(follower.SendToLeader(Request));
        Assert.True(follower.SendToLeader(Revalidate));
        var ready = follower.TakeReady();
        // The ack waits for the disk, so the request behind it waits too, to keep the stream in order.
        Assert.Empty(ready.SendNow);
        Assert.Equal([PacketType.Ack, PacketType.Request, PacketType.Revalidate],
            ready.SendAfterPersist.Select(e => ((PacketMessage)e.Message).Packet.Type));
        Assert.All(ready.SendAfterPersist, e => Assert.Equal(Channel.ToLeader, e.Channel));
        Assert.Throws<ArgumentException>(() => follower.SendToLeader(Packet(PacketType.Ack, Zxid.Zero)));
    }

    [Fact]
    public void Learner_that_loses_its_leader_connection_goes_looking_at_once()
    {
        var follower = ServingFollower();
        follower.OnDisconnected(S3);
        Assert.Equal(PeerState.Following, follower.State);
        follower.OnDisconnected(S1);
        Assert.Equal(PeerState.Looking, follower.State);
        Assert.False(follower.IsServing);
        var changes = TakeAll(follower).SelectMany(r => r.RoleChanges).ToList();
        Assert.Equal(new RoleChange(PeerState.Looking, null, 2, false), changes[0]);
    }

    [Fact]
    public void Leader_forgets_a_disconnected_learner_and_steps_down_on_the_next_tick_without_a_quorum()
    {
        var leader = LeaderWithS2();
        leader.OnDisconnected(S2);
        Assert.False(leader.RequestSync(S2));
        Assert.Equal(PeerState.Leading, leader.State);
        leader.Tick();
        Assert.Equal(PeerState.Looking, leader.State);
        Assert.Null(leader.NextProposalZxid);
    }

    [Fact]
    public void Next_proposal_zxid_is_known_only_to_an_established_leader_and_matches_propose()
    {
        var leader = ElectedLeader(OneTxn);
        Assert.Null(leader.NextProposalZxid);
        FromLearner(leader, S2, Info(S2, 1));
        FromLearner(leader, S2, AckEpoch(Zxid.From(1, 1), 1));
        Assert.Null(leader.NextProposalZxid);
        FromLearner(leader, S2, Packet(PacketType.Ack, Epoch2));
        Assert.Equal(Zxid.From(2, 1), leader.NextProposalZxid);
        Assert.Equal(Zxid.From(2, 1), leader.Propose([1]).Zxid);
        Assert.Equal(Zxid.From(2, 2), leader.NextProposalZxid);
    }

    [Fact]
    public void Role_changes_report_looking_leading_and_establishment_in_order()
    {
        var leader = new ZabPeer(Options(S1), OneTxn);
        var first = leader.TakeReady();
        Assert.Equal([new RoleChange(PeerState.Looking, null, 1, false)], first.RoleChanges);
        leader.Step(Election(S2, S1, new Notification(PeerState.Looking, S1, Zxid.From(1, 1), 1, 1, 2, Config)));
        FromLearner(leader, S2, Info(S2, 1));
        FromLearner(leader, S2, AckEpoch(Zxid.From(1, 1), 1));
        FromLearner(leader, S2, Packet(PacketType.Ack, Epoch2));
        var changes = TakeAll(leader).SelectMany(r => r.RoleChanges).ToList();
        Assert.Equal([new RoleChange(PeerState.Leading, S1, 1, false), new RoleChange(PeerState.Leading, S1, 2, true)], changes);
        Assert.True(leader.IsServing);
    }

    [Fact]
    public void Leader_tells_the_host_to_close_a_learner_it_timed_out()
    {
        var leader = LeaderWithS2();
        for (int i = 0; i < 5; i++) leader.Tick();
        Assert.Empty(TakeAll(leader).SelectMany(r => r.ClosedLearners));
        leader.Tick();
        Assert.Equal([S2], TakeAll(leader).SelectMany(r => r.ClosedLearners));
    }
}
