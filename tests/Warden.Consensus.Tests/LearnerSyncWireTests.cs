using Warden.Consensus.Wire;
using Warden.Protocol;
using static Warden.Consensus.Tests.HandDriven;

namespace Warden.Consensus.Tests;

/// <summary>A learner taking the sequences Apache's LearnerHandler sends, and answering as Apache's Learner does.</summary>
public sealed class LearnerSyncWireTests
{
    private static readonly Zxid Epoch2 = Zxid.From(2, 0);

    private static List<Zxid> Applied(IEnumerable<Ready> batches) =>
        batches.SelectMany(r => r.StateMachine).OfType<ApplyTxn>().Select(a => a.Txn.Zxid).ToList();

    /// <summary>A follower of S1 that has answered LEADERINFO for epoch 2.</summary>
    private static ZabPeer AgreedOnEpoch2(RecoveredState recovered, int expectedAckEpochData)
    {
        var follower = FollowerOfS1(recovered);
        FromLeader(follower, new QuorumPacket(PacketType.LeaderInfo, Epoch2, QuorumPacket.IntPayload(QuorumPacket.ProtocolVersion)));
        var ackEpoch = Assert.Single(SentTo(follower, S1));
        Assert.Equal(PacketType.AckEpoch, ackEpoch.Type);
        Assert.Equal(expectedAckEpochData, ackEpoch.ReadIntPayload());
        return follower;
    }

    [Fact]
    public void Trunc_then_proposals_with_commits_in_the_same_sync_are_taken_and_applied_only_after_uptodate()
    {
        var follower = AgreedOnEpoch2(new RecoveredState(1, 1, Zxid.Zero, [T(1, 1), T(1, 2), T(1, 3), T(1, 4)]), 1);
        FromLeader(follower, Packet(PacketType.Trunc, Zxid.From(1, 2)));
        FromLeader(follower, Packet(PacketType.Proposal, Zxid.From(2, 1), T(2, 1).Data));
        FromLeader(follower, Packet(PacketType.Commit, Zxid.From(2, 1)));
        FromLeader(follower, Packet(PacketType.Proposal, Zxid.From(2, 2), T(2, 2).Data));
        FromLeader(follower, new QuorumPacket(PacketType.NewLeader, Epoch2, Config));
        var beforeUpToDate = TakeAll(follower);
        Assert.Empty(Applied(beforeUpToDate));
        Assert.Contains(beforeUpToDate.SelectMany(r => r.Persist), op => op is TruncateLog { LastKept: var kept } && kept == Zxid.From(1, 2));
        Assert.Equal([(PacketType.Ack, Epoch2)], SentTo(beforeUpToDate, S1).Select(p => (p.Type, p.Zxid)));
        Assert.Equal(2, follower.CurrentEpoch);
        Assert.False(follower.IsServing);

        // A COMMIT after NEWLEADER waits for UPTODATE too.
        FromLeader(follower, Packet(PacketType.Commit, Zxid.From(2, 2)));
        FromLeader(follower, new QuorumPacket(PacketType.UpToDate, new Zxid(-1)));
        var atUpToDate = TakeAll(follower);
        Assert.Equal([Zxid.From(1, 1), Zxid.From(1, 2), Zxid.From(2, 1), Zxid.From(2, 2)], Applied(atUpToDate));
        Assert.True(follower.IsServing);
        // Apache's learner answers UPTODATE with ACK(newEpoch << 32).
        Assert.Equal(Hex("00000003 0000000200000000 ffffffff ffffffff"), Assert.Single(SentTo(atUpToDate, S1)).Encode());
        var change = Assert.Single(atUpToDate.SelectMany(r => r.RoleChanges));
        Assert.Equal(new RoleChange(PeerState.Following, S1, 2, true), change);
    }

    [Fact]
    public void Followerinfo_and_ackepoch_bytes_are_apaches()
    {
        var peer = new ZabPeer(Options(S2), new RecoveredState(1, 1, Zxid.Zero, [T(1, 1)]));
        peer.Step(Election(S1, S2, new Notification(PeerState.Leading, S1, Zxid.Zero, 1, 1, 2, Config)));
        peer.Step(Election(S3, S2, new Notification(PeerState.Following, S1, Zxid.Zero, 1, 1, 2, Config)));
        var info = Assert.Single(SentTo(peer, S1));
        // FOLLOWERINFO: zxid acceptedEpoch<<32; LearnerInfo{long sid; int 0x10000; long configVersion}; no auth.
        Assert.Equal(Hex("0000000b 0000000100000000 00000014 0000000000000002 00010000 0000000000000000 ffffffff"), info.Encode());
        FromLeader(peer, new QuorumPacket(PacketType.LeaderInfo, Epoch2, QuorumPacket.IntPayload(QuorumPacket.ProtocolVersion)));
        var ackEpoch = Assert.Single(SentTo(peer, S1));
        // ACKEPOCH: zxid our last logged; data our currentEpoch (the offered epoch was new to us).
        Assert.Equal(Hex("00000012 0000000100000001 00000004 00000001 ffffffff"), ackEpoch.Encode());
    }

    [Fact]
    public void Diff_zxid_commits_what_the_learner_already_held_of_the_current_epoch()
    {
        // The learner reconnects to the leader of its own epoch; it holds (2,1) and (2,2) but never heard their COMMITs.
        var follower = AgreedOnEpoch2(new RecoveredState(2, 2, Zxid.Zero, [T(1, 1), T(2, 1), T(2, 2)]), -1);
        FromLeader(follower, Packet(PacketType.Diff, Zxid.From(2, 2)));
        FromLeader(follower, new QuorumPacket(PacketType.NewLeader, Epoch2, Config));
        TakeAll(follower);
        Assert.Equal(Zxid.Zero, follower.CommittedZxid);
        FromLeader(follower, new QuorumPacket(PacketType.UpToDate, new Zxid(-1)));
        TakeAll(follower);
        Assert.Equal(Zxid.From(2, 2), follower.CommittedZxid);
    }

    [Fact]
    public void Proposals_still_outstanding_at_newleader_are_acked_one_by_one_after_uptodate()
    {
        var follower = AgreedOnEpoch2(new RecoveredState(1, 1, Zxid.Zero, [T(1, 1)]), 1);
        FromLeader(follower, Packet(PacketType.Diff, Zxid.From(1, 1)));
        FromLeader(follower, Packet(PacketType.Proposal, Zxid.From(2, 1), T(2, 1).Data));
        FromLeader(follower, Packet(PacketType.Proposal, Zxid.From(2, 2), T(2, 2).Data));
        FromLeader(follower, new QuorumPacket(PacketType.NewLeader, Epoch2, Config));
        TakeAll(follower);
        FromLeader(follower, Packet(PacketType.Commit, Zxid.From(2, 1)));
        FromLeader(follower, new QuorumPacket(PacketType.UpToDate, new Zxid(-1)));
        var sent = SentTo(follower, S1);
        Assert.Equal([(PacketType.Ack, Epoch2), (PacketType.Ack, Zxid.From(2, 2))], sent.Select(p => (p.Type, p.Zxid)));
        Assert.Equal(Zxid.From(2, 1), follower.CommittedZxid);
    }

    [Fact]
    public void Pings_are_ignored_until_newleader_is_acked_then_echoed_with_the_hosts_touch_table()
    {
        var follower = AgreedOnEpoch2(new RecoveredState(1, 1, Zxid.Zero, []), 1);
        var auth = new List<Id> { new("digest", "x") };
        FromLeader(follower, new QuorumPacket(PacketType.Ping, Zxid.From(1, 7), null, auth));
        Assert.Empty(SentTo(follower, S1));
        FromLeader(follower, Packet(PacketType.Diff, Zxid.Zero));
        FromLeader(follower, new QuorumPacket(PacketType.NewLeader, Epoch2, Config));
        TakeAll(follower);
        FromLeader(follower, new QuorumPacket(PacketType.UpToDate, new Zxid(-1)));
        TakeAll(follower);
        FromLeader(follower, new QuorumPacket(PacketType.Ping, Zxid.From(2, 7), null, auth));
        var ready = follower.TakeReady();
        var bare = ((PacketMessage)Assert.Single(ready.SendNow).Message).Packet;
        Assert.Null(bare.Data);
        int calls = 0;
        ready.AttachPingReplies(() => { calls++; return Hex("0100000000000001 00007530"); });
        var reply = ((PacketMessage)Assert.Single(ready.SendNow).Message).Packet;
        Assert.Equal(1, calls);
        Assert.Equal(Zxid.From(2, 7), reply.Zxid);
        Assert.Equal(auth, reply.AuthInfo);
        Assert.Equal(Hex("0100000000000001 00007530"), reply.Data);
    }

    [Fact]
    public void A_commit_before_any_sync_opening_is_a_protocol_error()
    {
        var follower = AgreedOnEpoch2(new RecoveredState(1, 1, Zxid.Zero, [T(1, 1)]), 1);
        FromLeader(follower, Packet(PacketType.Commit, Zxid.From(1, 1)));
        Assert.Equal(PeerState.Looking, follower.State);
        Assert.Equal(1, follower.ProtocolErrors);
    }

    [Fact]
    public void Observer_takes_informs_during_sync_and_applies_them_at_uptodate()
    {
        var options = Options(S3) with { Voters = [S1, S2], Observers = [S3] };
        var observer = new ZabPeer(options, RecoveredState.Empty);
        observer.Step(Election(S1, S3, new Notification(PeerState.Leading, S1, Zxid.Zero, 1, 0, 2, Config)));
        observer.Step(Election(S2, S3, new Notification(PeerState.Following, S1, Zxid.Zero, 1, 0, 2, Config)));
        Assert.Equal(PeerState.Observing, observer.State);
        var info = Assert.Single(SentTo(observer, S1));
        Assert.Equal(PacketType.ObserverInfo, info.Type);
        Assert.Equal(S3, LearnerInfo.Decode(info.Data!).ServerId);
        FromLeader(observer, new QuorumPacket(PacketType.LeaderInfo, Epoch2, QuorumPacket.IntPayload(QuorumPacket.ProtocolVersion)));
        TakeAll(observer);
        FromLeader(observer, Packet(PacketType.Diff, Zxid.Zero));
        FromLeader(observer, new QuorumPacket(PacketType.NewLeader, Epoch2, Config));
        FromLeader(observer, Packet(PacketType.Inform, Zxid.From(2, 1), T(2, 1).Data));
        Assert.Equal(Zxid.Zero, observer.CommittedZxid);
        FromLeader(observer, new QuorumPacket(PacketType.UpToDate, new Zxid(-1)));
        var batches = TakeAll(observer);
        Assert.Equal([Zxid.From(2, 1)], Applied(batches));
        // An observer acks NEWLEADER and UPTODATE, never a txn.
        Assert.Equal([(PacketType.Ack, Epoch2), (PacketType.Ack, Epoch2)], SentTo(batches, S1).Select(p => (p.Type, p.Zxid)));
    }

    [Fact]
    public void Snap_below_our_commit_point_keeps_our_committed_prefix_and_skips_the_proposals_we_hold()
    {
        // Committed through (1,2) (learned from an earlier leader); (1,3) is an uncommitted tail of epoch 1.
        var recovered = new RecoveredState(1, 1, Zxid.Zero, [T(1, 1), T(1, 2), T(1, 3)]);
        var follower = FollowerOfS1(recovered);
        FromLeader(follower, new QuorumPacket(PacketType.LeaderInfo, Zxid.From(1, 0), QuorumPacket.IntPayload(QuorumPacket.ProtocolVersion)));
        TakeAll(follower);
        FromLeader(follower, Packet(PacketType.Diff, Zxid.From(1, 2)));
        FromLeader(follower, new QuorumPacket(PacketType.NewLeader, Zxid.From(1, 0), Config));
        FromLeader(follower, new QuorumPacket(PacketType.UpToDate, new Zxid(-1)));
        TakeAll(follower);
        Assert.Equal(Zxid.From(1, 2), follower.CommittedZxid);
        follower.OnDisconnected(S1);
        Assert.Equal(PeerState.Looking, follower.State);

        // A new leader of epoch 2 that is not established yet has applied nothing and sends SNAP at zero.
        var again = FollowerOfS1Again(follower);
        FromLeader(again, new QuorumPacket(PacketType.LeaderInfo, Epoch2, QuorumPacket.IntPayload(QuorumPacket.ProtocolVersion)));
        TakeAll(again);
        FromLeader(again, Packet(PacketType.Snap, Zxid.Zero), snapshot: [1]);
        FromLeader(again, Packet(PacketType.Proposal, Zxid.From(1, 1), T(1, 1).Data));
        FromLeader(again, Packet(PacketType.Commit, Zxid.From(1, 1)));
        FromLeader(again, Packet(PacketType.Proposal, Zxid.From(1, 2), T(1, 2).Data));
        FromLeader(again, Packet(PacketType.Commit, Zxid.From(1, 2)));
        FromLeader(again, Packet(PacketType.Proposal, Zxid.From(2, 1), T(2, 1).Data));
        FromLeader(again, Packet(PacketType.Commit, Zxid.From(2, 1)));
        FromLeader(again, new QuorumPacket(PacketType.NewLeader, Epoch2, Config));
        var batches = TakeAll(again);
        Assert.Equal(0, again.ProtocolErrors);
        var persist = batches.SelectMany(r => r.Persist).ToList();
        Assert.DoesNotContain(persist, op => op is SaveSnapshot);
        Assert.Contains(persist, op => op is TruncateLog { LastKept: var kept } && kept == Zxid.From(1, 2));
        Assert.Equal([Zxid.From(2, 1)], persist.OfType<AppendTxn>().Select(a => a.Txn.Zxid));
        Assert.Equal([T(1, 1).Zxid, T(1, 2).Zxid, T(2, 1).Zxid], again.LoggedTxns.Select(t => t.Zxid));
        FromLeader(again, new QuorumPacket(PacketType.UpToDate, new Zxid(-1)));
        Assert.Equal([Zxid.From(2, 1)], Applied(TakeAll(again)));
    }

    /// <summary>The same peer, looking again, told once more that S1 leads.</summary>
    private static ZabPeer FollowerOfS1Again(ZabPeer peer)
    {
        TakeAll(peer);
        peer.Step(Election(S1, S2, new Notification(PeerState.Leading, S1, Zxid.Zero, 5, 1, 2, Config)));
        peer.Step(Election(S3, S2, new Notification(PeerState.Following, S1, Zxid.Zero, 5, 1, 2, Config)));
        Assert.Equal(PeerState.Following, peer.State);
        TakeAll(peer);
        return peer;
    }
}
