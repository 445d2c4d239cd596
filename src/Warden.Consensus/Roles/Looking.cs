using Warden.Consensus.Wire;

namespace Warden.Consensus.Roles;

/// <summary>
/// Leader election in the manner of Apache's FastLeaderElection. Each round has an election epoch; a voter
/// proposes itself, adopts any better vote it hears (by peer epoch, zxid, server id) and tells everyone, and
/// decides once a quorum of voters in its round hold the same vote. A server that joins a running ensemble
/// decides instead when a quorum of voters say they follow or lead one server and that server says it leads.
/// Election only picks a candidate; discovery then makes its leadership safe.
/// </summary>
internal sealed class Looking(PeerContext context) : Role(context)
{
    private readonly Dictionary<ServerId, Vote> _votesThisRound = [];
    private readonly Dictionary<ServerId, Notification> _outOfElection = [];
    private Vote _proposal;
    private long _ticksSinceSend;

    /// <summary>True while a quorum backs the proposal and the finalizeWait timer runs.</summary>
    private bool _finalizing;

    public override PeerState State => PeerState.Looking;

    public override void Enter()
    {
        Context.ElectionEpoch++;
        _proposal = Context.SelfVote;
        if (Context.IsVoter) _votesThisRound[Context.Id] = _proposal;
        BroadcastProposal();
        // A lone voter is its own quorum.
        if (Context.IsVoter && HasQuorum(_proposal)) AwaitBetterVote();
    }

    public override void OnTick()
    {
        if (++_ticksSinceSend >= Context.Options.ElectionResendTicks) BroadcastProposal();
    }

    public override void OnNotification(ServerId from, Notification notification)
    {
        bool fromVoter = Context.IsVoterId(from);
        if (notification.State == PeerState.Looking)
        {
            // Observers and looking non-voters learn only from voters that have decided, so they just answer.
            if (!fromVoter) Reply(from);
            else if (Context.IsVoter) OnLookingVoter(from, notification);
            return;
        }
        if (fromVoter) OnDecidedVoter(from, notification);
    }

    private void OnLookingVoter(ServerId from, Notification notification)
    {
        var vote = notification.Vote;
        if (notification.ElectionEpoch > Context.ElectionEpoch)
        {
            // A newer round: everything heard in ours is stale.
            Context.ElectionEpoch = notification.ElectionEpoch;
            _votesThisRound.Clear();
            var self = Context.SelfVote;
            _proposal = (vote.IsBetterThan(self) ? vote : self) with { ElectionEpoch = Context.ElectionEpoch };
            _votesThisRound[Context.Id] = _proposal;
            BroadcastProposal();
        }
        else if (notification.ElectionEpoch < Context.ElectionEpoch)
        {
            // The sender is behind; tell it about our round so that it catches up.
            Reply(from);
            return;
        }
        else if (vote.IsBetterThan(_proposal))
        {
            _proposal = vote with { ElectionEpoch = Context.ElectionEpoch };
            _votesThisRound[Context.Id] = _proposal;
            BroadcastProposal();
        }
        _votesThisRound[from] = vote;
        if (HasQuorum(_proposal)) AwaitBetterVote();
        else StopFinalizing();
    }

    /// <summary>
    /// A quorum backs our proposal. Apache's lookForLeader then polls for finalizeWait more and decides only if no better
    /// vote arrives; each notification that is not better starts that wait again. No better vote can come once every
    /// voter that can still speak has voted for the proposal (a voter only ever moves to a better vote, so each one's own
    /// is no better), so then this decides at once: that keeps an election after a leader's death, whose link is down,
    /// as fast as the survivors' exchange, with the outcome Apache's wait would give.
    /// </summary>
    private void AwaitBetterVote()
    {
        if (Context.Options.FinalizeWaitMs == 0 || EveryAudibleVoterAgrees())
        {
            Decide(_proposal);
            return;
        }
        _finalizing = true;
        Context.ArmElectionTimer(Context.Options.FinalizeWaitMs);
    }

    private void StopFinalizing()
    {
        if (!_finalizing) return;
        _finalizing = false;
        Context.CancelElectionTimer();
    }

    private bool EveryAudibleVoterAgrees()
    {
        foreach (var voter in Context.Voters)
        {
            if (Context.SilentPeers.Contains(voter)) continue;
            if (!_votesThisRound.TryGetValue(voter, out var heard) || !heard.SameCandidate(_proposal)) return false;
        }
        return true;
    }

    /// <summary>finalizeWait passed with no better vote: decide on the proposal, which a quorum still backs.</summary>
    public override void OnElectionTimer()
    {
        if (!_finalizing) return;
        _finalizing = false;
        if (HasQuorum(_proposal)) Decide(_proposal);
    }

    /// <summary>A voter whose link went down will send nothing better; if it was the one waited for, decide now.</summary>
    public override void OnElectionLinkDown(ServerId peer)
    {
        if (_finalizing && HasQuorum(_proposal) && EveryAudibleVoterAgrees())
        {
            _finalizing = false;
            Context.CancelElectionTimer();
            Decide(_proposal);
        }
    }

    private void OnDecidedVoter(ServerId from, Notification notification)
    {
        _outOfElection[from] = notification;
        var candidate = notification.Leader;
        if (!Context.IsVoterId(candidate)) return;
        int supporters = 0;
        foreach (var (voter, heard) in _outOfElection)
        {
            // Across rounds only the leader and its epoch are compared, as Apache does, because followers
            // that joined in different rounds hold different election epochs and zxids for the same leader.
            if (Context.IsVoterId(voter) && heard.Leader == candidate && heard.PeerEpoch == notification.PeerEpoch)
            {
                supporters++;
            }
        }
        bool candidateLeads = _outOfElection.TryGetValue(candidate, out var own) && own.State == PeerState.Leading;
        if (supporters >= Context.QuorumSize && candidateLeads)
        {
            Context.ElectionEpoch = notification.ElectionEpoch;
            Decide(notification.Vote);
        }
    }

    private bool HasQuorum(Vote vote)
    {
        int count = 0;
        foreach (var (voter, heard) in _votesThisRound)
        {
            if (Context.IsVoterId(voter) && heard.SameCandidate(vote)) count++;
        }
        return count >= Context.QuorumSize;
    }

    private void Decide(Vote vote)
    {
        StopFinalizing();
        Context.CurrentVote = vote;
        if (vote.Leader == Context.Id)
        {
            Context.ChangeRole(new Leader(Context));
        }
        // A server a reconfig removed follows again without a vote, as Apache's does: the leader serves a learner outside
        // its configuration, and counts only its voters.
        else if (Context.IsVoter || !Context.IsMember)
        {
            Context.ChangeRole(new Follower(Context, vote.Leader));
        }
        else
        {
            Context.ChangeRole(new Observer(Context, vote.Leader));
        }
    }

    private void BroadcastProposal()
    {
        _ticksSinceSend = 0;
        var notification = Notification.From(PeerState.Looking, _proposal, Context.ElectionEpoch, Context.ConfigText);
        foreach (var peer in Context.OtherMembers) Context.Send(peer, Channel.Election, new ElectionMessage(notification));
    }

    private void Reply(ServerId to)
    {
        var notification = Notification.From(PeerState.Looking, _proposal, Context.ElectionEpoch, Context.ConfigText);
        Context.Send(to, Channel.Election, new ElectionMessage(notification));
    }
}
