using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus.Tests;

/// <summary>
/// Two servers that both believe they lead, in the same epoch. Election alone cannot prevent this (votes can be
/// stale or forged by delay), so discovery must: a learner acks a given epoch only once, and a leader without a
/// quorum of acks never synchronises anyone. Driven by hand, message by message, with crafted notifications.
/// </summary>
public sealed class TwoLeadersTests
{
    private static readonly ServerId A = new(1), B = new(2), C = new(3);
    private static readonly List<ServerId> Voters = [A, B, C];

    private readonly Dictionary<ServerId, ZabPeer> _peers = [];
    private readonly List<Envelope> _wire = [];

    private ZabPeer Peer(ServerId id) => _peers[id];

    private void Start(ServerId id) =>
        _peers[id] = new ZabPeer(new PeerOptions { Id = id, Voters = Voters, InitLimitTicks = 10, SyncLimitTicks = 5 }, RecoveredState.Empty);

    /// <summary>Carries out every pending batch as a host would: the disk is perfect, messages go on the wire.</summary>
    private void Flush()
    {
        foreach (var peer in _peers.Values)
        {
            while (peer.HasReady)
            {
                var ready = peer.TakeReady();
                _wire.AddRange(ready.SendNow);
                _wire.AddRange(ready.SendAfterPersist);
                peer.Advance(ready);
            }
        }
    }

    /// <summary>Delivers wire messages matching <paramref name="filter"/> until none is left; drops election traffic.</summary>
    private List<Envelope> Pump(Func<Envelope, bool> filter)
    {
        var delivered = new List<Envelope>();
        Flush();
        while (_wire.FirstOrDefault(e => e.Channel != Channel.Election && filter(e)) is { Message: not null } next)
        {
            _wire.Remove(next);
            delivered.Add(next);
            Peer(next.To).Step(next);
            Flush();
        }
        _wire.RemoveAll(e => e.Channel == Channel.Election);
        return delivered;
    }

    private void Tell(ServerId to, ServerId from, PeerState state, ServerId leader) =>
        Peer(to).Step(new Envelope(from, to, Channel.Election,
            new ElectionMessage(new Notification(state, leader, Zxid.Zero, Peer(to).ElectionEpoch, 0, 2, []))));

    [Fact]
    public void Only_one_of_two_leaders_of_one_epoch_gets_established()
    {
        Start(A);
        Start(B);
        Start(C);
        // A and B each receive a vote for themselves that makes a quorum; C hears that A leads.
        Tell(A, B, PeerState.Looking, A);
        Tell(B, A, PeerState.Looking, B);
        Tell(C, A, PeerState.Leading, A);
        Tell(C, B, PeerState.Following, A);
        Assert.Equal(PeerState.Leading, Peer(A).State);
        Assert.Equal(PeerState.Leading, Peer(B).State);
        Assert.Equal(PeerState.Following, Peer(C).State);

        // B also hears FOLLOWERINFO from C (say, an old connection), so both fix the same new epoch.
        var info = new QuorumPacket(PacketType.FollowerInfo, Zxid.Zero, new LearnerInfo(C, QuorumPacket.ProtocolVersion, 0).Encode());
        Peer(B).Step(new Envelope(C, B, Channel.ToLeader, new PacketMessage(info)));
        Pump(e => e.To == A || (e.To == C && e.From == A));
        Assert.Equal(1, Peer(A).AcceptedEpoch);
        Assert.Equal(1, Peer(B).AcceptedEpoch);
        Assert.True(Peer(A).IsEstablishedLeader);
        Assert.Equal(1, Peer(C).CurrentEpoch);

        // B's session for C waits for ACKEPOCH. C has acked epoch 1 to A, so all it could send B is -1, which
        // does not count: B has no quorum for its epoch and never synchronises anyone.
        var notAVote = new QuorumPacket(PacketType.AckEpoch, Zxid.Zero, QuorumPacket.IntPayload(-1));
        Peer(B).Step(new Envelope(C, B, Channel.ToLeader, new PacketMessage(notAVote)));
        Flush();
        Assert.DoesNotContain(_wire, e => e.From == B && e.Message is PacketMessage { Packet.Type: PacketType.NewLeader or PacketType.Diff or PacketType.Trunc or PacketType.Snap });
        Assert.False(Peer(B).IsEstablishedLeader);
        Assert.Equal(ProposeOutcome.NotEstablished, Peer(B).Propose([1]).Outcome);
        Assert.True(Peer(A).Propose([1]).Accepted);

        // If C really turns to B, B offers the epoch C already accepted; C answers -1 again, and B, still without
        // a quorum for its epoch, gives up within initLimit ticks.
        _wire.Clear();
        for (int i = 0; i < 6; i++) Peer(C).Tick();
        Assert.Equal(PeerState.Looking, Peer(C).State);
        Tell(C, B, PeerState.Leading, B);
        Tell(C, A, PeerState.Following, B);
        Assert.Equal(B, Peer(C).Leader);
        var exchanged = Pump(e => (e.From == C && e.To == B) || (e.From == B && e.To == C));
        var ackEpoch = Assert.Single(exchanged, e => e.Message is PacketMessage { Packet.Type: PacketType.AckEpoch });
        Assert.Equal(-1, ((PacketMessage)ackEpoch.Message).Packet.ReadIntPayload());
        Assert.DoesNotContain(exchanged, e => e.From == B && e.Message is PacketMessage { Packet.Type: PacketType.NewLeader });
        Assert.Equal(0, Peer(C).ProtocolErrors);
        Assert.False(Peer(B).IsEstablishedLeader);
        for (int i = 0; i < 11 && Peer(B).State == PeerState.Leading; i++) Peer(B).Tick();
        Assert.Equal(PeerState.Looking, Peer(B).State);
        Assert.Equal(0, Peer(B).CurrentEpoch);
    }

    [Fact]
    public void Leader_steps_down_for_a_voter_that_accepted_a_newer_epoch()
    {
        Start(A);
        Tell(A, B, PeerState.Looking, A);
        var info = new QuorumPacket(PacketType.FollowerInfo, Zxid.From(0, 0), new LearnerInfo(B, QuorumPacket.ProtocolVersion, 0).Encode());
        Peer(A).Step(new Envelope(B, A, Channel.ToLeader, new PacketMessage(info)));
        Assert.Equal(1, Peer(A).AcceptedEpoch);
        Assert.Equal(PeerState.Leading, Peer(A).State);
        // C has promised epoch 5 elsewhere and would refuse epoch 1 for as long as A leads.
        var ahead = new QuorumPacket(PacketType.FollowerInfo, Zxid.From(5, 0), new LearnerInfo(C, QuorumPacket.ProtocolVersion, 0).Encode());
        Peer(A).Step(new Envelope(C, A, Channel.ToLeader, new PacketMessage(ahead)));
        Assert.Equal(PeerState.Looking, Peer(A).State);
    }

    [Fact]
    public void Leader_without_an_epoch_quorum_gives_up_within_init_limit()
    {
        Start(A);
        Tell(A, B, PeerState.Looking, A);
        Assert.Equal(PeerState.Leading, Peer(A).State);
        for (int i = 0; i < 10; i++) Peer(A).Tick();
        Assert.Equal(PeerState.Leading, Peer(A).State);
        Peer(A).Tick();
        Assert.Equal(PeerState.Looking, Peer(A).State);
    }

    [Fact]
    public void Learner_refuses_a_leader_whose_epoch_is_below_its_accepted_epoch()
    {
        Start(A);
        Start(C);
        Tell(C, A, PeerState.Leading, A);
        Tell(C, B, PeerState.Following, A);
        Flush();
        _wire.Clear();
        var stale = new QuorumPacket(PacketType.LeaderInfo, Zxid.From(0, 0), QuorumPacket.IntPayload(QuorumPacket.ProtocolVersion));
        // C has accepted nothing, so epoch 0 equals its accepted epoch: it replies, but not as a vote.
        Peer(C).Step(new Envelope(A, C, Channel.ToLearner, new PacketMessage(stale)));
        Flush();
        var reply = Assert.Single(_wire, e => e.Message is PacketMessage { Packet.Type: PacketType.AckEpoch });
        Assert.Equal(-1, ((PacketMessage)reply.Message).Packet.ReadIntPayload());

        // After accepting epoch 3 from another leader, an offer of epoch 2 is refused outright.
        _wire.Clear();
        var restart = new ZabPeer(new PeerOptions { Id = C, Voters = Voters }, new RecoveredState(3, 2, Zxid.Zero, []));
        _peers[C] = restart;
        Tell(C, A, PeerState.Leading, A);
        Tell(C, B, PeerState.Following, A);
        Flush();
        _wire.Clear();
        var older = new QuorumPacket(PacketType.LeaderInfo, Zxid.From(2, 0), QuorumPacket.IntPayload(QuorumPacket.ProtocolVersion));
        restart.Step(new Envelope(A, C, Channel.ToLearner, new PacketMessage(older)));
        Flush();
        Assert.Equal(PeerState.Looking, restart.State);
        Assert.Equal(3, restart.AcceptedEpoch);
        Assert.DoesNotContain(_wire, e => e.Message is PacketMessage { Packet.Type: PacketType.AckEpoch });
    }
}
