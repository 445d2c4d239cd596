using Warden.Server.Processing;

namespace Warden.Server.Replication;

/// <summary>
/// The seam between preparing a write and applying it. The loop hands over each prepared txn in zxid order;
/// the replicator makes it durable (standalone: the local log; an ensemble: a quorum) and reports each
/// zxid committed, in the same order, through the callback it was given. Ordering rule 5 of DESIGN.md lives
/// behind this interface: nothing is reported committed before it is on stable storage.
/// </summary>
public interface IReplicator : IAsyncDisposable
{
    /// <summary>Called once, before any proposal, with the callback that posts a commit back to the loop.</summary>
    void Start(Action<long> onCommitted);

    /// <summary>Called on the loop thread; must not block it.</summary>
    void Propose(TxnHeaderAndBody txn);
}

/// <summary>
/// A standalone server that keeps nothing on disk: every txn is committed as soon as it is proposed. It is the
/// replicator until the txn log lands, and the one unit tests use.
/// </summary>
public sealed class InMemoryReplicator : IReplicator
{
    private Action<long>? _onCommitted;

    public void Start(Action<long> onCommitted) => _onCommitted = onCommitted;

    public void Propose(TxnHeaderAndBody txn) =>
        (_onCommitted ?? throw new InvalidOperationException("the replicator was not started"))(txn.Header.Zxid);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
