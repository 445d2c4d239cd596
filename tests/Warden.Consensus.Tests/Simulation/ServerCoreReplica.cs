using Microsoft.Extensions.Logging.Abstractions;
using Warden.Data;
using Warden.Protocol;
using Warden.Server;
using Warden.Server.Processing;
using Warden.Server.Replication;
using Warden.Storage;
using ConsensusTxn = Warden.Consensus.Txn;

namespace Warden.Consensus.Tests.Simulation;

/// <summary>
/// The server's own request loop (<see cref="ServerCore"/>) as a simulated server's state machine: every committed txn
/// the core hands over goes through the loop's commit stream (<see cref="CommitWork"/>, stepped with
/// <see cref="ServerCore.RunPending"/>) into a real <see cref="DataTree"/>, so that the seeds that use it check that
/// every replica's tree, built by the production apply path, ends up byte for byte the same (its SNAP image).
/// A restart or a SNAP rebuilds the loop from the history the simulated disk or snapshot holds.
/// </summary>
internal sealed class ServerCoreReplica(ServerId id)
{
    private ServerCore _core = NewCore(id);

    public long LastProcessedZxid => _core.Tree.LastProcessedZxid;

    /// <summary>Planted bug for the checker's own test: this loop applies every create with other data.</summary>
    public bool CorruptsData { get; init; }

    public void Apply(ConsensusTxn txn)
    {
        var entry = TxnLogEntry.Parse(txn.Data);
        var body = CorruptsData && entry.Txn is CreateTxn create ? create with { Data = [0x21] } : entry.Txn;
        _core.Post(new CommitWork(new TxnHeaderAndBody(entry.Header, body)));
        _core.RunPending();
        if (_core.Tree.LastProcessedZxid != txn.Zxid.Value)
        {
            throw new InvalidOperationException($"{id}'s request loop is at 0x{_core.Tree.LastProcessedZxid:x} after applying {txn.Zxid}");
        }
    }

    /// <summary>A fresh loop that has applied <paramref name="history"/>, as after a restart or a SNAP.</summary>
    public void Reset(IEnumerable<ConsensusTxn> history)
    {
        _core = NewCore(id);
        // A planted bug stays planted across restarts, as the node keeps this object.
        foreach (var txn in history) Apply(txn);
    }

    /// <summary>The tree and sessions as a SNAP would carry them.</summary>
    public byte[] Image() => SnapStream.ToBytes(_core.CaptureSnapshotImage());

    private static ServerCore NewCore(ServerId id) =>
        new(new ServerSettings { ServerId = id.Value }, new NoReplicator(), TimeProvider.System, NullLogger.Instance, mode: ServingMode.NotServing);

    /// <summary>
    /// The txn a simulated client writes: a create of /v{value} with that value as data, with the header the leader's
    /// request loop would give it (the zxid the core will assign), encoded as PROPOSAL data.
    /// </summary>
    public static byte[] CreateTxn(Zxid zxid, int value)
    {
        var header = new TxnHeader(0, value, zxid.Value, 1_700_000_000_000L + value, (int)OpCode.Create);
        var body = new CreateTxn($"/v{value}", System.Text.Encoding.UTF8.GetBytes($"v{value}"), [.. Acl.OpenUnsafe], false, value + 1);
        using var writer = new JuteWriter();
        new TxnLogEntry(header, body).WriteBuffer(writer);
        return writer.ToArray();
    }

    /// <summary>The loop never proposes here: the simulator drives the consensus core directly.</summary>
    private sealed class NoReplicator : IReplicator
    {
        public void Start(Action<TxnHeaderAndBody> onCommitted) { }

        public void Propose(TxnHeaderAndBody txn) => throw new InvalidOperationException("a simulated request loop never proposes");

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
