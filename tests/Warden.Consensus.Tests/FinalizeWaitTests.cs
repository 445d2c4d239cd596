using Warden.Consensus.Wire;
using Warden.Protocol;
using static Warden.Consensus.Tests.HandDriven;

namespace Warden.Consensus.Tests;

/// <summary>
/// Apache's finalizeWait (FastLeaderElection.lookForLeader): once a quorum backs its proposal, a looking server waits
/// 200 ms for a better vote before deciding, so a voter whose vote arrives just late still wins if it is better; and it
/// decides at once when every voter that can still speak has voted for the proposal.
/// </summary>
public sealed class FinalizeWaitTests
{
    private static ZabPeer LookingS1(RecoveredState? recovered = null) =>
        new(Options(S1) with { FinalizeWaitMs = 200 }, recovered ?? RecoveredState.Empty);

    private static Envelope Vote(ServerId from, ServerId leader, Zxid zxid, long round = 1) =>
        Election(from, S1, new Notification(PeerState.Looking, leader, zxid, round, 0, 2, Config));

    private static ElectionTimer ArmedTimer(List<Ready> batches) => batches.Select(b => b.ElectionTimer).OfType<ElectionTimer>().Last();

    [Fact]
    public void A_quorum_for_its_proposal_waits_finalize_wait_before_deciding()
    {
        var peer = LookingS1(new RecoveredState(0, 0, Zxid.Zero, [T(1, 1)]));
        TakeAll(peer);
        peer.Step(Vote(S2, S1, Zxid.From(1, 1)));
        Assert.Equal(PeerState.Looking, peer.State);
        var timer = ArmedTimer(TakeAll(peer));
        Assert.Equal(200, timer.DelayMs);

        peer.OnElectionTimer(timer.Token);
        Assert.Equal(PeerState.Leading, peer.State);
    }

    [Fact]
    public void A_better_vote_within_the_wait_wins_and_the_old_timer_does_nothing()
    {
        var peer = LookingS1();
        TakeAll(peer);
        // S2 backs S1; then S3 speaks for itself with a longer history.
        peer.Step(Vote(S2, S1, Zxid.Zero));
        var first = ArmedTimer(TakeAll(peer));
        peer.Step(Vote(S3, S3, Zxid.From(1, 4)));
        Assert.Equal(PeerState.Looking, peer.State);
        TakeAll(peer);
        peer.OnElectionTimer(first.Token);
        Assert.Equal(PeerState.Looking, peer.State);

        // S2 comes round to S3: every voter now backs S3, and S1 follows it without waiting.
        peer.Step(Vote(S2, S3, Zxid.From(1, 4)));
        Assert.Equal(PeerState.Following, peer.State);
        Assert.Equal(S3, peer.Leader);
    }

    [Fact]
    public void Every_voter_agreeing_decides_at_once()
    {
        var peer = LookingS1();
        TakeAll(peer);
        peer.Step(Vote(S2, S3, Zxid.From(1, 4)));
        peer.Step(Vote(S3, S3, Zxid.From(1, 4)));
        Assert.Equal(PeerState.Following, peer.State);
    }

    [Fact]
    public void A_voter_whose_link_is_down_is_not_waited_for()
    {
        var peer = LookingS1();
        TakeAll(peer);
        peer.OnElectionLinkDown(S3);
        peer.Step(Vote(S2, S1, Zxid.Zero));
        Assert.Equal(PeerState.Leading, peer.State);
    }

    [Fact]
    public void A_link_going_down_during_the_wait_ends_it()
    {
        var peer = LookingS1();
        TakeAll(peer);
        peer.Step(Vote(S2, S1, Zxid.Zero));
        Assert.Equal(PeerState.Looking, peer.State);
        peer.OnElectionLinkDown(S3);
        Assert.Equal(PeerState.Leading, peer.State);
    }

    [Fact]
    public void A_voter_heard_again_after_its_link_went_down_is_waited_for_again()
    {
        var peer = LookingS1();
        TakeAll(peer);
        peer.OnElectionLinkDown(S3);
        // S3 is back: its vote (for S1, in an older round, which it has not caught up with) shows it can speak.
        peer.Step(Election(S3, S1, new Notification(PeerState.Looking, S1, Zxid.Zero, 0, 0, 2, Config)));
        peer.Step(Vote(S2, S1, Zxid.Zero));
        Assert.Equal(PeerState.Looking, peer.State);
    }

    [Fact]
    public void Without_finalize_wait_the_quorum_decides_at_once()
    {
        var peer = new ZabPeer(Options(S1), RecoveredState.Empty);
        TakeAll(peer);
        peer.Step(Vote(S2, S1, Zxid.Zero));
        Assert.Equal(PeerState.Leading, peer.State);
    }
}
