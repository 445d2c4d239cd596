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
            return;
        }
        if (peer > committed && !peerAtEpochStart)
        {
            Send(session, new QuorumPacket(PacketType.Trunc, committed));
            return;
        }
        if (peer >= log.BaseZxid && peer < committed)
        {
            // Apache reads a learner at the oldest retained point from its on-disk txn log and sends DIFF; the txns
            // after the base are all held here, so the outcome is the same.
            bool atBase = peer == log.BaseZxid;
            QuorumPacket? op = atBase ? new QuorumPacket(PacketType.Diff, committed) : null;
            var pairs = new List<Txn>();
            var previous = log.BaseZxid;
            bool crossesEpoch = false;
            foreach (var txn in log.Range(log.BaseZxid, committed))
            {
                if (txn.Zxid < peer)
                {
                    previous = txn.Zxid;
                    continue;
                }
                if (op is null)
                {
                    if (txn.Zxid == peer)
                    {
                        op = new QuorumPacket(PacketType.Diff, committed);
                        continue;
                    }
                    if (peerAtEpochStart)
                    {
                        op = new QuorumPacket(PacketType.Diff, committed);
                    }
                    else if (txn.Zxid.Epoch != peer.Epoch)
                    {
                        // The learner holds txns the leader lacks, of an earlier epoch: Apache never sends TRUNC across
                        // an epoch boundary and falls back to SNAP.
                        crossesEpoch = true;
                        break;
                    }
                    else
                    {
                        op = new QuorumPacket(PacketType.Trunc, previous);
                    }
                }
                pairs.Add(txn);
            }
            if (op is null && peerAtEpochStart && !crossesEpoch) op = new QuorumPacket(PacketType.Diff, committed);
            if (op is not null)
            {
                Send(session, op);
                SendPairs(session, pairs);
                return;
            }
        }
        // SNAP carries what the host has applied; Apache's learner applies each following PROPOSAL at its COMMIT.
        Send(session, new QuorumPacket(PacketType.Snap, log.Committed));
        SendPairs(session, log.Range(log.Committed, committed));
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
