using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus.Roles;

/// <summary>
/// Brings one learner to the leader's history, choosing as Apache's LearnerHandler does:
/// <list type="bullet">
/// <item>DIFF when the learner's last zxid is in the leader's log: send what follows it;</item>
/// <item>TRUNC when the learner has txns the leader lacks: cut back to the last zxid both hold, then DIFF;</item>
/// <item>SNAP when the learner is behind the oldest txn the leader still holds: send the state machine.</item>
/// </list>
/// Each txn goes as PROPOSAL, followed by COMMIT when the leader knows it is committed, after a COMMIT for what the
/// learner already held; NEWLEADER closes the sync.
/// Everything waits for the disk, so that it cannot overtake the LEADERINFO sent after the acceptedEpoch write.
/// </summary>
internal sealed class LeaderSync(PeerContext context)
{
    public void Sync(LearnerSession session, int newEpoch, bool established)
    {
        // Observers take only committed history, and only from an established leader.
        if (session.IsObserver && !established) return;
        var log = context.Log;
        var limit = session.IsObserver ? log.Committed : log.LastZxid;
        var peerLast = session.PeerLastZxid;
        Zxid from;
        if (peerLast < log.BaseZxid)
        {
            from = log.Committed;
            Send(session, new QuorumPacket(PacketType.Snap, from));
        }
        else
        {
            from = log.Floor(peerLast < limit ? peerLast : limit);
            var mode = from == peerLast ? PacketType.Diff : PacketType.Trunc;
            Send(session, new QuorumPacket(mode, mode == PacketType.Diff ? limit : from));
            // The learner already holds everything up to `from`, but may not know how much of it committed (its
            // COMMITs were lost with the old connection); tell it, or those txns would wait for the next epoch.
            var known = log.Committed < from ? log.Committed : from;
            if (known > Zxid.Zero) Send(session, new QuorumPacket(PacketType.Commit, known));
        }
        foreach (var txn in log.Range(from, limit))
        {
            Send(session, new QuorumPacket(PacketType.Proposal, txn.Zxid, txn.Data));
            if (txn.Zxid <= log.Committed) Send(session, new QuorumPacket(PacketType.Commit, txn.Zxid));
        }
        Send(session, new QuorumPacket(PacketType.NewLeader, Zxid.From(newEpoch, 0)));
        session.SyncedUpTo = limit;
        session.Phase = LearnerPhase.Syncing;
    }

    private void Send(LearnerSession session, QuorumPacket packet) =>
        context.SendPacket(session.Id, Channel.ToLearner, packet, afterPersist: true);
}
