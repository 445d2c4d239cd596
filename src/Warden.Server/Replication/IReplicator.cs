using Warden.Data;
using Warden.Protocol;
using Warden.Server.Processing;

namespace Warden.Server.Replication;

/// <summary>
/// The seam between preparing a write and applying it: a commit stream. The loop hands over each txn it prepared,
/// in zxid order; the replicator makes it durable (standalone: the local log; an ensemble: a quorum) and delivers
/// every committed txn back through the callback it was given, in zxid order, whichever server proposed it.
/// Ordering rule 5 (docs/ARCHITECTURE.md) lives behind this interface: nothing is delivered before it is on stable storage.
/// </summary>
public interface IReplicator : IAsyncDisposable
{
    /// <summary>Called once, before any proposal, with the callback that posts a committed txn to the loop.</summary>
    void Start(Action<TxnHeaderAndBody> onCommitted);

    /// <summary>Called on the loop thread; must not block it.</summary>
    void Propose(TxnHeaderAndBody txn);

    /// <summary>Flush timings of the log this replicator writes; null when it writes none.</summary>
    FsyncStats? Fsync => null;

    /// <summary>Sizes of the proposals made as leader; null where there are none (standalone).</summary>
    ProposalSizes? Proposals => null;
}

/// <summary>
/// What a follower or observer needs from its leader beyond the commit stream: it forwards its clients' writes
/// raw (only the leader knows the pending changes, so only the leader prepares), asks whether a session that
/// reconnected here is still alive, and forwards sync. Every call is made on the loop and must not block it.
/// </summary>
public interface ILeaderLink
{
    /// <summary>Forwards one client request (QuorumPacket REQUEST); false when there is no leader to take it.</summary>
    bool Forward(long sessionId, int cxid, OpCode type, byte[] body, IReadOnlyList<Id> authInfo);

    /// <summary>Asks the leader about a session (REVALIDATE); the answer comes back as <see cref="RevalidatedWork"/>.</summary>
    bool Revalidate(long sessionId, int timeoutMs);
}

/// <summary>
/// A standalone server that keeps nothing on disk: every txn is committed as soon as it is proposed. It is the
/// replicator unit tests use.
/// </summary>
public sealed class InMemoryReplicator : IReplicator
{
    private Action<TxnHeaderAndBody>? _onCommitted;

    public void Start(Action<TxnHeaderAndBody> onCommitted) => _onCommitted = onCommitted;

    public void Propose(TxnHeaderAndBody txn) =>
        (_onCommitted ?? throw new InvalidOperationException("the replicator was not started"))(txn);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
