using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus.Tests;

/// <summary>The core's contracts with its host, checked on single peers and a hand-driven three-server ensemble.</summary>
public sealed class CoreTests
{
    private static readonly List<ServerId> Voters = [new(1), new(2), new(3)];

    private static Txn T(int epoch, int counter) => new(Zxid.From(epoch, counter), [(byte)counter]);

    [Fact]
    public void Replica_log_refuses_to_break_its_invariants_loudly()
    {
        var log = new ReplicaLog(Zxid.Zero, [T(1, 1), T(1, 2)]);
        Assert.Throws<InvariantViolationException>(() => log.Append(T(1, 2)));
        Assert.Throws<InvariantViolationException>(() => log.Append(T(1, 1)));
        Assert.Throws<InvariantViolationException>(() => log.Append(new Txn(Zxid.From(2, 0), [])));
        Assert.Throws<InvariantViolationException>(() => log.CommitUpTo(Zxid.From(1, 3)));
        log.CommitUpTo(Zxid.From(1, 2));
        Assert.Throws<InvariantViolationException>(() => log.TruncateAfter(Zxid.From(1, 1)));
        Assert.Throws<InvariantViolationException>(() => log.ResetToSnapshot(Zxid.From(1, 1)));
        Assert.Equal(Zxid.From(1, 2), log.LastZxid);
    }

    [Fact]
    public void Replica_log_compacts_only_committed_txns_and_finds_floors()
    {
        var log = new ReplicaLog(Zxid.Zero, [T(1, 1), T(1, 2), T(2, 1), T(2, 2)]);
        log.CommitUpTo(Zxid.From(2, 1));
        log.Compact(1);
        Assert.Equal(Zxid.From(1, 2), log.BaseZxid);
        Assert.Equal(2, log.Count);
        Assert.Equal(Zxid.From(2, 1), log.Floor(Zxid.From(2, 1)));
        Assert.Equal(Zxid.From(1, 2), log.Floor(Zxid.From(1, 9)));
        Assert.Equal([Zxid.From(2, 2)], log.Range(Zxid.From(2, 1), Zxid.From(9, 0)).Select(t => t.Zxid));
    }

    [Fact]
    public void Recovered_state_with_current_epoch_above_accepted_is_refused()
    {
        Assert.Throws<InvariantViolationException>(() =>
            new ZabPeer(new PeerOptions { Id = Voters[0], Voters = Voters }, new RecoveredState(1, 2, Zxid.Zero, [])));
    }

    [Fact]
    public void Lone_voter_elects_itself_and_commits_once_its_own_write_is_durable()
    {
        var peer = new ZabPeer(new PeerOptions { Id = Voters[0], Voters = [Voters[0]] }, RecoveredState.Empty);
        Assert.Equal(PeerState.Leading, peer.State);
        Drain(peer);
        Assert.True(peer.IsEstablishedLeader);
        Assert.Equal(1, peer.AcceptedEpoch);
        Assert.Equal(1, peer.CurrentEpoch);
        var result = peer.Propose([42]);
        Assert.Equal(Zxid.From(1, 1), result.Zxid);
        var ready = peer.TakeReady();
        Assert.Equal(new AppendTxn(new Txn(result.Zxid, [42])).Txn.Zxid, Assert.IsType<AppendTxn>(Assert.Single(ready.Persist)).Txn.Zxid);
        Assert.Empty(ready.StateMachine);
        Assert.Equal(Zxid.Zero, peer.CommittedZxid);
        peer.Advance(ready);
        Assert.Equal(result.Zxid, peer.CommittedZxid);
        var commit = Assert.IsType<ApplyTxn>(Assert.Single(peer.TakeReady().StateMachine));
        Assert.Equal(result.Zxid, commit.Txn.Zxid);
    }

    [Fact]
    public void Follower_acks_a_proposal_only_after_the_batch_that_persists_it()
    {
        var ensemble = new Ensemble();
        var (leader, follower) = ensemble.Establish();
        ensemble.Peers[leader].Propose([7]);
        ensemble.Flush();
        var proposal = ensemble.DeliverNext(e => e.To == follower && e.Message is PacketMessage { Packet.Type: PacketType.Proposal });
        var ready = ensemble.Peers[follower].TakeReady();
        var append = Assert.IsType<AppendTxn>(Assert.Single(ready.Persist));
        Assert.Equal(((PacketMessage)proposal.Message).Packet.Zxid, append.Txn.Zxid);
        Assert.DoesNotContain(ready.SendNow, e => e.Message is PacketMessage { Packet.Type: PacketType.Ack });
        Assert.Contains(ready.SendAfterPersist, e => e.Message is PacketMessage { Packet.Type: PacketType.Ack });
    }

    [Fact]
    public void Leader_commits_with_a_quorum_of_durable_acks_counting_itself_only_once_durable()
    {
        var ensemble = new Ensemble();
        var (leaderId, followerId) = ensemble.Establish();
        var leader = ensemble.Peers[leaderId];
        var zxid = leader.Propose([9]).Zxid;
        var leaderReady = leader.TakeReady();
        ensemble.Wire.AddRange(leaderReady.SendNow);
        ensemble.DeliverNext(e => e.To == followerId && e.Message is PacketMessage { Packet.Type: PacketType.Proposal });
        ensemble.Flush();
        // The follower's ack alone is one of three: the leader's own write is not durable yet.
        ensemble.DeliverNext(e => e.To == leaderId && e.Message is PacketMessage { Packet.Type: PacketType.Ack });
        Assert.True(leader.CommittedZxid < zxid);
        leader.Advance(leaderReady);
        Assert.Equal(zxid, leader.CommittedZxid);
    }

    [Fact]
    public void Leader_that_loses_its_quorum_steps_down_after_sync_limit()
    {
        var ensemble = new Ensemble();
        var (leaderId, _) = ensemble.Establish();
        var leader = ensemble.Peers[leaderId];
        for (int i = 0; i < 5; i++) leader.Tick();
        Assert.Equal(PeerState.Leading, leader.State);
        leader.Tick();
        Assert.Equal(PeerState.Looking, leader.State);
        Assert.Equal(ProposeOutcome.NotLeader, leader.Propose([1]).Outcome);
    }

    private static void Drain(ZabPeer peer)
    {
        while (peer.HasReady) peer.Advance(peer.TakeReady());
    }

    /// <summary>Three peers on a perfect network and disk, driven message by message.</summary>
    private sealed class Ensemble
    {
        public Dictionary<ServerId, ZabPeer> Peers { get; } = [];
        public List<Envelope> Wire { get; } = [];

        public Ensemble()
        {
            foreach (var id in Voters)
            {
                Peers[id] = new ZabPeer(new PeerOptions { Id = id, Voters = Voters, SyncLimitTicks = 5 }, RecoveredState.Empty);
            }
        }

        /// <summary>Runs election and synchronisation with the third server left out, so it cannot ack anything.</summary>
        public (ServerId Leader, ServerId Follower) Establish()
        {
            var silent = Voters[0];
            for (int i = 0; i < 200 && !Peers.Values.Any(p => p.IsEstablishedLeader); i++)
            {
                Flush();
                var next = Wire.FirstOrDefault(e => e.To != silent && e.From != silent);
                if (next.Message is null) break;
                Wire.Remove(next);
                Peers[next.To].Step(next);
            }
            var leader = Peers.Values.Single(p => p.IsEstablishedLeader).Id;
            Flush();
            while (Wire.FirstOrDefault(e => e.To != silent && e.From != silent) is { Message: not null } rest)
            {
                Wire.Remove(rest);
                Peers[rest.To].Step(rest);
                Flush();
            }
            Wire.Clear();
            return (leader, Voters.Single(v => v != leader && v != silent));
        }

        public void Flush()
        {
            foreach (var peer in Peers.Values)
            {
                while (peer.HasReady)
                {
                    var ready = peer.TakeReady();
                    Wire.AddRange(ready.SendNow);
                    Wire.AddRange(ready.SendAfterPersist);
                    peer.Advance(ready);
                }
            }
        }

        public Envelope DeliverNext(Func<Envelope, bool> filter)
        {
            var next = Wire.First(filter);
            Wire.Remove(next);
            Peers[next.To].Step(next);
            return next;
        }
    }
}
