using Warden.Protocol;

namespace Warden.Consensus.Tests.Simulation;

/// <summary>
/// The simulated server's state machine: simply the committed txns in order. Its snapshot is that list, which
/// makes SNAP transfers checkable txn by txn.
/// </summary>
public sealed class ReplicaState : IStateMachineSnapshots
{
    public List<Txn> Applied { get; } = [];

    public Zxid LastApplied => Applied.Count > 0 ? Applied[^1].Zxid : Zxid.Zero;

    public byte[] Take(Zxid appliedZxid)
    {
        // The core asks for the state at its commit point; the host must have applied exactly that far.
        if (appliedZxid != LastApplied)
        {
            throw new InvalidOperationException($"snapshot asked at {appliedZxid} but the state machine is at {LastApplied}");
        }
        return EncodeSnapshot(Applied);
    }

    public static byte[] EncodeSnapshot(IReadOnlyList<Txn> txns)
    {
        using var writer = new JuteWriter();
        writer.WriteInt(txns.Count);
        foreach (var txn in txns)
        {
            writer.WriteLong(txn.Zxid.Value);
            writer.WriteBuffer(txn.Data);
        }
        return writer.ToArray();
    }

    public static List<Txn> DecodeSnapshot(ReadOnlySpan<byte> bytes)
    {
        var reader = new JuteReader(bytes);
        int count = reader.ReadInt();
        var txns = new List<Txn>(count);
        for (int i = 0; i < count; i++) txns.Add(new Txn(new Zxid(reader.ReadLong()), reader.ReadBuffer() ?? []));
        return txns;
    }
}
