using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus.Roles;

/// <summary>
/// One of the things a server can be: looking for a leader, leading, following or observing. Each role owns the
/// state that only makes sense while it lasts, and hands over to the next role through the context.
/// </summary>
internal abstract class Role(PeerContext context)
{
    protected PeerContext Context { get; } = context;

    public abstract PeerState State { get; }

    /// <summary>The leader this role follows or is; null while looking.</summary>
    public virtual ServerId? LeaderId => null;

    /// <summary>True when this server may serve clients: an established leader, or a learner after UPTODATE.</summary>
    public virtual bool IsServing => false;

    public virtual void Enter() { }

    /// <summary>The host's quorum-port connection to <paramref name="peer"/> broke.</summary>
    public virtual void OnDisconnected(ServerId peer) { }

    public abstract void OnTick();

    /// <summary>The election link to <paramref name="peer"/> went down; only a looking server cares.</summary>
    public virtual void OnElectionLinkDown(ServerId peer) { }

    /// <summary>The latest election timer fired; only a looking server arms one.</summary>
    public virtual void OnElectionTimer() { }

    public virtual void OnPacket(ServerId from, PacketMessage message) { }

    /// <summary>Called when the host reports the log durable up to <see cref="PeerContext.DurableZxid"/>.</summary>
    public virtual void OnDurable() { }

    public virtual ProposeResult Propose(byte[] data) => new(ProposeOutcome.NotLeader, Zxid.Zero);

    /// <summary>
    /// A server that is not looking answers a looking one with the vote it stands by, so that a server that
    /// restarts into a running ensemble finds the leader without a new election.
    /// </summary>
    public virtual void OnNotification(ServerId from, Notification notification)
    {
        if (notification.State != PeerState.Looking) return;
        var reply = Notification.From(State, Context.CurrentVote, Context.ElectionEpoch, Context.ConfigText);
        Context.Send(from, Channel.Election, new ElectionMessage(reply));
    }

    protected void StepDown() => Context.ChangeRole(new Looking(Context));
}
