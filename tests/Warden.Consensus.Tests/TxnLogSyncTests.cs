using Warden.Consensus.Wire;
using Warden.Protocol;
using static Warden.Consensus.Tests.HandDriven;

namespace Warden.Consensus.Tests;

/// <summary>
/// A learner behind the committed txns a leader keeps in memory is brought up to date by DIFF from the leader's txn log
/// on disk when the host can read it there (Apache's LearnerHandler.syncFollower, "Use txnlog and committedLog"), and by
/// SNAP when it cannot: no log that far back, a gap between the log and memory, or a TRUNC across an epoch.
/// </summary>
public sealed class TxnLogSyncTests
{
    private static readonly Zxid Epoch2 = Zxid.From(2, 0);

    /// <summary>Snapshot at 1:3 and 1:4, 1:5 in memory, so a learner at 1:1 is behind what the leader keeps.</summary>
    private static RecoveredState SnapshotAtThree => new(1, 1, Zxid.From(1, 3), [T(1, 4), T(1, 5)]);

    private static (PacketType, Zxid)[] Shape(IEnumerable<QuorumPacket> packets) => packets.Select(p => (p.Type, p.Zxid)).ToArray();

    /// <summary>The leader S1 with the given txn log on disk, S2 having acked the epoch at <paramref name="s2Last"/>.</summary>
    private static (List<Ready> Batches, List<Zxid> Asked) Sync(Zxid s2Last, Func<Zxid, IEnumerable<Txn>?> disk, RecoveredState? recovered = null)
    {
        var asked = new List<Zxid>();
        var leader = ElectedLeader(recovered ?? SnapshotAtThree, o => o with
        {
            LoggedTxnsFrom = from =>
            {
                asked.Add(from);
                return disk(from);
            },
        });
        FromLearner(leader, S2, Info(S2, 1));
        TakeAll(leader);
        FromLearner(leader, S2, AckEpoch(s2Last, 1));
        return (TakeAll(leader), asked);
    }

    private static IEnumerable<Txn> Logged(params Txn[] txns) => txns;

    [Fact]
    public void Learner_behind_memory_gets_a_diff_from_the_txn_log_then_from_memory()
    {
        var (batches, asked) = Sync(Zxid.From(1, 1), _ => Logged(T(1, 1), T(1, 2), T(1, 3), T(1, 4), T(1, 5)));
        Assert.Equal([Zxid.From(1, 1)], asked);
        (PacketType, Zxid)[] expected =
        [
            (PacketType.Diff, Zxid.From(1, 5)),
            (PacketType.Proposal, Zxid.From(1, 2)), (PacketType.Commit, Zxid.From(1, 2)),
            (PacketType.Proposal, Zxid.From(1, 3)), (PacketType.Commit, Zxid.From(1, 3)),
            (PacketType.Proposal, Zxid.From(1, 4)), (PacketType.Commit, Zxid.From(1, 4)),
            (PacketType.Proposal, Zxid.From(1, 5)), (PacketType.Commit, Zxid.From(1, 5)),
            (PacketType.NewLeader, Epoch2),
        ];
        var sent = SentTo(batches, S2);
        Assert.Equal(expected, Shape(sent));
        // The proposals read from disk carry the logged bytes.
        Assert.Equal(T(1, 2).Data, sent[1].Data);
        var report = Assert.Single(batches.SelectMany(b => b.Syncs));
        Assert.Equal(new SyncReport(S2, true, PacketType.Diff, Zxid.From(1, 5), Zxid.From(1, 1), 4, Zxid.From(1, 2), Zxid.From(1, 5), SyncSource.TxnLog), report);
    }

    [Fact]
    public void Leader_reads_the_log_only_as_far_as_the_oldest_txn_it_keeps_in_memory()
    {
        int read = 0;
        IEnumerable<Txn> Counting()
        {
            foreach (var txn in new[] { T(1, 1), T(1, 2), T(1, 3), T(1, 4), T(1, 5) })
            {
                read++;
                yield return txn;
            }
        }
        var (batches, _) = Sync(Zxid.From(1, 1), _ => Counting());
        Assert.Equal(PacketType.Diff, SentTo(batches, S2)[0].Type);
        // 1:1 to 1:3 are used, and 1:4 is read to see that the log has passed the snapshot point; 1:5 never is.
        Assert.Equal(4, read);
    }

    [Fact]
    public void No_txn_log_that_far_back_means_a_snapshot()
    {
        var (batches, _) = Sync(Zxid.From(1, 1), _ => null);
        Assert.Equal((PacketType.Snap, Zxid.From(1, 3)), Shape(SentTo(batches, S2))[0]);
        Assert.Equal(SyncSource.Snapshot, Assert.Single(batches.SelectMany(b => b.Syncs)).Source);
    }

    [Fact]
    public void A_log_that_starts_after_the_learners_zxid_means_a_snapshot()
    {
        var (batches, _) = Sync(Zxid.From(1, 1), _ => Logged(T(1, 2), T(1, 3), T(1, 4)));
        Assert.Equal(PacketType.Snap, SentTo(batches, S2)[0].Type);
    }

    [Fact]
    public void A_gap_between_the_log_and_memory_means_a_snapshot()
    {
        // The log on disk ends at 1:2, and memory starts after 1:3: Apache's "Detected gap between end of txnlog".
        var (batches, _) = Sync(Zxid.From(1, 1), _ => Logged(T(1, 1), T(1, 2)));
        var sent = SentTo(batches, S2);
        Assert.Equal(
            [
                (PacketType.Snap, Zxid.From(1, 3)),
                (PacketType.Proposal, Zxid.From(1, 4)), (PacketType.Commit, Zxid.From(1, 4)),
                (PacketType.Proposal, Zxid.From(1, 5)), (PacketType.Commit, Zxid.From(1, 5)),
                (PacketType.NewLeader, Epoch2),
            ],
            Shape(sent));
    }

    [Fact]
    public void Learner_with_txns_of_the_same_epoch_the_leader_lacks_is_truncated_to_the_txn_before()
    {
        // S2 logged 1:2 of a history in which the leader has 1:1 then a txn of epoch 1 numbered 3 (S2's 1:2 never
        // reached the leader; the leader's counter moved on past it), so S2 is cut back to 1:1 and takes the rest.
        var recovered = new RecoveredState(1, 1, Zxid.From(1, 4), [T(1, 5)]);
        var (batches, _) = Sync(Zxid.From(1, 2), _ => Logged(T(1, 1), T(1, 3), T(1, 4), T(1, 5)), recovered);
        Assert.Equal(
            [
                (PacketType.Trunc, Zxid.From(1, 1)),
                (PacketType.Proposal, Zxid.From(1, 3)), (PacketType.Commit, Zxid.From(1, 3)),
                (PacketType.Proposal, Zxid.From(1, 4)), (PacketType.Commit, Zxid.From(1, 4)),
                (PacketType.Proposal, Zxid.From(1, 5)), (PacketType.Commit, Zxid.From(1, 5)),
                (PacketType.NewLeader, Epoch2),
            ],
            Shape(SentTo(batches, S2)));
    }

    [Fact]
    public void A_trunc_across_an_epoch_from_the_log_becomes_a_snapshot()
    {
        // S2 holds 1:2, which the leader lacks, and the leader's next txn is of epoch 2: never TRUNC across epochs.
        var recovered = new RecoveredState(2, 2, Zxid.From(2, 2), [T(2, 3)]);
        var asked = new List<Zxid>();
        var leader = ElectedLeader(recovered, o => o with { LoggedTxnsFrom = from => { asked.Add(from); return Logged(T(1, 1), T(2, 1), T(2, 2), T(2, 3)); } });
        FromLearner(leader, S2, Info(S2, 1));
        TakeAll(leader);
        FromLearner(leader, S2, AckEpoch(Zxid.From(1, 2), 1));
        Assert.Equal(PacketType.Snap, SentTo(TakeAll(leader), S2)[0].Type);
        Assert.Single(asked);
    }

    [Fact]
    public void Learner_within_memory_never_makes_the_leader_read_its_log()
    {
        var (batches, asked) = Sync(Zxid.From(1, 4), _ => throw new InvalidOperationException("read the log for a learner in memory"));
        Assert.Empty(asked);
        Assert.Equal((PacketType.Diff, Zxid.From(1, 5)), Shape(SentTo(batches, S2))[0]);
    }

    [Fact]
    public void Learner_reports_the_sync_it_received()
    {
        var follower = FollowerOfS1(new RecoveredState(1, 1, Zxid.Zero, [T(1, 1)]));
        FromLeader(follower, Packet(PacketType.LeaderInfo, Epoch2, QuorumPacket.IntPayload(QuorumPacket.ProtocolVersion)));
        TakeAll(follower);
        FromLeader(follower, Packet(PacketType.Diff, Zxid.From(1, 3)));
        var report = Assert.Single(TakeAll(follower).SelectMany(b => b.Syncs));
        Assert.Equal(new SyncReport(S1, false, PacketType.Diff, Zxid.From(1, 3), Zxid.From(1, 1)), report);
    }
}
