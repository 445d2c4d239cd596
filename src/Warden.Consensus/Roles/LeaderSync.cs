using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus.Roles;

/// <summary>
/// Brings one learner to the leader's history with exactly the packets Apache's LearnerHandler sends, so that Apache
/// learners accept them. Apache's learner takes the first COMMIT of a sync as the commit of the oldest PROPOSAL it has
/// received in that sync and fails on one it does not have; so a COMMIT never goes without its PROPOSAL before it.
/// <list type="bullet">
/// <item>DIFF (with the zxid the learner already has) when it is at the leader's last committed zxid;</item>
/// <item>TRUNC to the last committed zxid when the learner is past it;</item>
/// <item>DIFF (with the last committed zxid) and PROPOSAL+COMMIT pairs when the learner's last zxid is in the log,
///   after TRUNC to the txn before it when the learner holds txns of the same epoch that the leader lacks;</item>
/// <item>SNAP otherwise, then PROPOSAL+COMMIT pairs for the committed-to-be history the snapshot does not hold.</item>
/// </list>
/// Then the outstanding proposals for followers, and NEWLEADER with the configuration text.
/// Everything waits for the disk, so that it cannot overtake the LEADERINFO sent after the acceptedEpoch write.
/// </summary>
internal sealed class LeaderSync(PeerContext context)
{
    public void Sync(LearnerSession session, int newEpoch, bool established)
    {
        // Observers take only committed history, and only from an established leader.
        if (session.IsObserver && !established) return;
        var log = context.Log;
        // Apache's committedLog: until the leader is established its whole log, loaded as history that the quorum of
        // NEWLEADER acks will commit (the learner only serves, and so only counts any of it as committed, after
        // UPTODATE, which waits for that quorum); afterwards what has committed.
        var committed = established ? log.Committed : log.LastZxid;
        SendHistory(session, committed);
        // Leader.startForwarding: proposals still waiting for their quorum, to participants only.
        if (!session.IsObserver)
        {
            foreach (var txn in log.Range(committed, log.LastZxid)) Send(session, new QuorumPacket(PacketType.Proposal, txn.Zxid, txn.Data));
        }
        // LearnerHandler.run: NEWLEADER with the quorum verifier's bytes, after everything queued by the sync.
        Send(session, new QuorumPacket(PacketType.NewLeader, Zxid.From(newEpoch, 0), context.ConfigText));
        session.SyncedUpTo = session.IsObserver ? committed : log.LastZxid;
        session.Phase = LearnerPhase.Syncing;
    }

    /// <summary>The choice of LearnerHandler.syncFollower and queueCommittedProposals, over this leader's log.</summary>
    private void SendHistory(LearnerSession session, Zxid committed)
    {
        var log = context.Log;
        var peer = session.PeerLastZxid;
        // A zxid with counter 0 names an epoch, not a txn: such a learner holds nothing of that epoch, so it cannot be
        // cut back to a txn before it and always gets a DIFF.
        bool peerAtEpochStart = peer.Counter == 0;
        if (peer == committed)
        {
            Send(session, new QuorumPacket(PacketType.Diff, peer));
            Report(session, PacketType.Diff, peer, []);
            return;
        }
        if (peer > committed && !peerAtEpochStart)
        {
            Send(session, new QuorumPacket(PacketType.Trunc, committed));
            Report(session, PacketType.Trunc, committed, []);
            return;
        }
        if (peer >= log.BaseZxid && peer < committed)
        {
            // Apache reads a learner at the oldest retained point from its on-disk txn log and sends DIFF; the txns
            // after the base are all held here, so the outcome is the same.
            var fromMemory = new HistoryQueue(peer, committed);
            if (peer == log.BaseZxid) fromMemory.Open(new QuorumPacket(PacketType.Diff, committed));
            if (fromMemory.Take(log.Range(log.BaseZxid, committed), previous: log.BaseZxid) && fromMemory.Finish())
            {
                SendQueued(session, fromMemory, SyncSource.Memory);
                return;
            }
        }
        else if (peer < log.BaseZxid && TrySyncFromTxnLog(session, committed))
        {
            return;
        }
        // SNAP carries what the host has applied; Apache's learner applies each following PROPOSAL at its COMMIT.
        Send(session, new QuorumPacket(PacketType.Snap, log.Committed));
        var afterSnapshot = log.Range(log.Committed, committed).ToList();
        SendPairs(session, afterSnapshot);
        Report(session, PacketType.Snap, log.Committed, afterSnapshot, SyncSource.Snapshot);
    }

    /// <summary>
    /// A learner behind the committed txns kept in memory: Apache's "Use txnlog and committedLog". The txns from its last
    /// zxid up to the oldest kept in memory come from the log on disk, if the host can read them there cheaply enough,
    /// and the rest from memory; false (and nothing sent) when the log on disk cannot serve or leaves a gap, so SNAP.
    /// </summary>
    private bool TrySyncFromTxnLog(LearnerSession session, Zxid committed)
    {
        var log = context.Log;
        var onDisk = context.Options.LoggedTxnsFrom(session.PeerLastZxid);
        if (onDisk is null) return false;
        var queue = new HistoryQueue(session.PeerLastZxid, committed);
        // The first txn read must not be past the learner's zxid (getProposalsFromTxnLog's check), or the log on disk
        // does not reach back far enough.
        if (!queue.Take(onDisk.TakeWhile(txn => txn.Zxid <= log.BaseZxid), previous: null, requireStartAtOrBefore: true))
        {
            return false;
        }
        // A gap between the end of the log on disk and the oldest txn kept in memory: Apache falls back to SNAP.
        if (queue.LastQueued < log.BaseZxid) return false;
        if (!queue.Take(log.Range(queue.LastQueued, committed), previous: queue.LastQueued) || !queue.Finish()) return false;
        SendQueued(session, queue, SyncSource.TxnLog);
        return true;
    }

    private void SendQueued(LearnerSession session, HistoryQueue queue, SyncSource source)
    {
        Send(session, queue.Op!);
        SendPairs(session, queue.Pairs);
        Report(session, queue.Op!.Type, queue.Op.Zxid, queue.Pairs, queue.Pairs.Count > 0 ? source : SyncSource.Memory);
    }

    private void Report(LearnerSession session, PacketType kind, Zxid zxid, IReadOnlyList<Txn> pairs, SyncSource source = SyncSource.Memory) =>
        context.NoteSync(new SyncReport(session.Id, Sent: true, kind, zxid, session.PeerLastZxid, pairs.Count,
            pairs.Count > 0 ? pairs[0].Zxid : null, pairs.Count > 0 ? pairs[^1].Zxid : null, source));

    /// <summary>
    /// Apache's queueCommittedProposals: walks committed txns in order, opens the sync with DIFF (the learner's zxid is
    /// in the history, or names an epoch start) or TRUNC (it holds txns of the same epoch the leader lacks: cut back to
    /// the txn before), and queues every txn after the learner's as a pair. A TRUNC across an epoch boundary is refused.
    /// </summary>
    private sealed class HistoryQueue
    {
        private readonly Zxid _peer;
        private readonly Zxid _committed;

        public HistoryQueue(Zxid peer, Zxid committed)
        {
            _peer = peer;
            _committed = committed;
            LastQueued = peer;
        }

        public QuorumPacket? Op { get; private set; }
        public List<Txn> Pairs { get; } = [];
        public Zxid LastQueued { get; private set; }

        public void Open(QuorumPacket op) => Op = op;

        /// <summary>False when the learner needs SNAP: a TRUNC would cross an epoch, or nothing precedes its zxid.</summary>
        public bool Take(IEnumerable<Txn> txns, Zxid? previous, bool requireStartAtOrBefore = false)
        {
            bool first = true;
            foreach (var txn in txns)
            {
                if (first && requireStartAtOrBefore && txn.Zxid > _peer) return false;
                first = false;
                if (txn.Zxid < _peer)
                {
                    previous = txn.Zxid;
                    continue;
                }
                if (Op is null)
                {
                    if (txn.Zxid == _peer)
                    {
                        Op = new QuorumPacket(PacketType.Diff, _committed);
                        continue;
                    }
                    if (_peer.Counter == 0) Op = new QuorumPacket(PacketType.Diff, _committed);
                    // The learner holds txns the leader lacks, of an earlier epoch: Apache never sends TRUNC across an
                    // epoch boundary and falls back to SNAP.
                    else if (txn.Zxid.Epoch != _peer.Epoch || previous is null) return false;
                    else Op = new QuorumPacket(PacketType.Trunc, previous.Value);
                }
                if (txn.Zxid <= LastQueued) continue;
                Pairs.Add(txn);
                LastQueued = txn.Zxid;
            }
            // Apache's EMPTY_ITERATOR: a log on disk with nothing to read cannot serve.
            return !(first && requireStartAtOrBefore);
        }

        /// <summary>A learner at an epoch start whose history we hold no later txn of still gets its DIFF.</summary>
        public bool Finish()
        {
            if (Op is null && _peer.Counter == 0) Op = new QuorumPacket(PacketType.Diff, _committed);
            return Op is not null;
        }
    }

    /// <summary>Each txn as PROPOSAL then COMMIT, as queueCommittedProposals sends committed history.</summary>
    private void SendPairs(LearnerSession session, IEnumerable<Txn> txns)
    {
        foreach (var txn in txns)
        {
            Send(session, new QuorumPacket(PacketType.Proposal, txn.Zxid, txn.Data));
            Send(session, new QuorumPacket(PacketType.Commit, txn.Zxid));
        }
    }

    private void Send(LearnerSession session, QuorumPacket packet) =>
        context.SendPacket(session.Id, Channel.ToLearner, packet, afterPersist: true);
}
