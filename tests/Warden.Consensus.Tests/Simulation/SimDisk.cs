using Warden.Protocol;

namespace Warden.Consensus.Tests.Simulation;

/// <summary>
/// A disk for one simulated server: an append-only journal of the core's persist operations, each record framed
/// as (int length, long checksum, payload). Writes land in a volatile region until <see cref="Sync"/>; a crash
/// keeps the synced bytes and a random prefix of the rest, so the last write can be torn mid-record. Recovery
/// reads records until one is short or fails its checksum, and cuts the journal there, as a txn log recovery does.
/// </summary>
public sealed class SimDisk
{
    private readonly List<byte> _bytes = [];
    private int _syncedLength;

    /// <summary>A planted bug for checker tests: a disk that reports a sync it never did.</summary>
    public bool LiesAboutSync { get; init; }

    /// <summary>A planted bug for checker tests: recovery that ignores the epoch files.</summary>
    public bool ForgetsEpochs { get; init; }

    /// <summary>What would survive a crash right now, kept up to date at each sync for the durability checker.</summary>
    public DurableView Durable { get; private set; } = new();

    public int Length => _bytes.Count;

    public void Write(PersistOp op)
    {
        using var writer = new JuteWriter();
        Encode(op, writer);
        var payload = writer.WrittenSpan;
        var frame = new byte[12 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(4), Fnv.Of(payload));
        payload.CopyTo(frame.AsSpan(12));
        _bytes.AddRange(frame);
    }

    public void Sync()
    {
        if (LiesAboutSync) return;
        if (_syncedLength == _bytes.Count) return;
        foreach (var op in ReadRecords(_syncedLength, out _)) Durable.Apply(op);
        _syncedLength = _bytes.Count;
    }

    /// <summary>Loses what was not synced, except a random prefix of it that reached the platter, maybe torn.</summary>
    public void Crash(SimRandom random, double keepSomeUnsyncedProbability)
    {
        int unsynced = _bytes.Count - _syncedLength;
        int kept = unsynced > 0 && random.Chance(keepSomeUnsyncedProbability) ? random.Next(unsynced + 1) : 0;
        _bytes.RemoveRange(_syncedLength + kept, unsynced - kept);
    }

    /// <summary>Reads the journal back as a restarting server would, cutting a torn or corrupt tail.</summary>
    public (RecoveredState State, byte[]? Snapshot) Recover()
    {
        var ops = ReadRecords(0, out int validLength);
        _bytes.RemoveRange(validLength, _bytes.Count - validLength);
        _syncedLength = _bytes.Count;
        int accepted = 0, current = 0;
        var snapshotZxid = Zxid.Zero;
        byte[]? snapshot = null;
        var log = new List<Txn>();
        Durable = new DurableView();
        foreach (var op in ops)
        {
            Durable.Apply(op);
            switch (op)
            {
                case AppendTxn append: log.Add(append.Txn); break;
                case TruncateLog truncate: log.RemoveAll(t => t.Zxid > truncate.LastKept); break;
                case SaveSnapshot save: snapshotZxid = save.Zxid; snapshot = save.Snapshot; log.Clear(); break;
                case SaveAcceptedEpoch epoch: accepted = epoch.Epoch; break;
                case SaveCurrentEpoch epoch: current = epoch.Epoch; break;
            }
        }
        if (ForgetsEpochs) accepted = current = 0;
        return (new RecoveredState(accepted, current, snapshotZxid, log), snapshot);
    }

    private List<PersistOp> ReadRecords(int start, out int validLength)
    {
        var ops = new List<PersistOp>();
        var bytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_bytes);
        int position = start;
        while (position + 12 <= bytes.Length)
        {
            int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes[position..]);
            ulong checksum = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[(position + 4)..]);
            if (length < 0 || position + 12 + length > bytes.Length) break;
            var payload = bytes.Slice(position + 12, length);
            if (Fnv.Of(payload) != checksum) break;
            ops.Add(Decode(payload));
            position += 12 + length;
        }
        validLength = position;
        return ops;
    }

    private static void Encode(PersistOp op, JuteWriter writer)
    {
        switch (op)
        {
            case AppendTxn append:
                writer.WriteInt(1);
                writer.WriteLong(append.Txn.Zxid.Value);
                writer.WriteBuffer(append.Txn.Data);
                break;
            case TruncateLog truncate:
                writer.WriteInt(2);
                writer.WriteLong(truncate.LastKept.Value);
                break;
            case SaveSnapshot save:
                writer.WriteInt(3);
                writer.WriteLong(save.Zxid.Value);
                writer.WriteBuffer(save.Snapshot);
                break;
            case SaveAcceptedEpoch accepted:
                writer.WriteInt(4);
                writer.WriteInt(accepted.Epoch);
                break;
            case SaveCurrentEpoch current:
                writer.WriteInt(5);
                writer.WriteInt(current.Epoch);
                break;
            default:
                throw new ArgumentException($"unknown persist op {op}");
        }
    }

    private static PersistOp Decode(ReadOnlySpan<byte> payload)
    {
        var reader = new JuteReader(payload);
        return reader.ReadInt() switch
        {
            1 => new AppendTxn(new Txn(new Zxid(reader.ReadLong()), reader.ReadBuffer() ?? [])),
            2 => new TruncateLog(new Zxid(reader.ReadLong())),
            3 => new SaveSnapshot(new Zxid(reader.ReadLong()), reader.ReadBuffer() ?? []),
            4 => new SaveAcceptedEpoch(reader.ReadInt()),
            5 => new SaveCurrentEpoch(reader.ReadInt()),
            var type => throw new InvalidDataException($"unknown journal record type {type}"),
        };
    }
}

/// <summary>The txns a disk holds durably (log and snapshot), as zxid to data fingerprint.</summary>
public sealed class DurableView
{
    private readonly Dictionary<long, ulong> _txns = [];

    /// <summary>
    /// Rises whenever txns leave the view (a truncation or a snapshot that replaces the log). Appends cannot make a
    /// committed txn less durable, so a checker needs to look at old txns again only when this moves.
    /// </summary>
    public long Removals { get; private set; }

    public bool Holds(Zxid zxid, ulong fingerprint) => _txns.TryGetValue(zxid.Value, out var held) && held == fingerprint;

    public void Apply(PersistOp op)
    {
        switch (op)
        {
            case AppendTxn append:
                _txns[append.Txn.Zxid.Value] = Fnv.Of(append.Txn.Data);
                break;
            case TruncateLog truncate:
                Removals++;
                foreach (var key in _txns.Keys.Where(k => k > truncate.LastKept.Value).ToList()) _txns.Remove(key);
                break;
            case SaveSnapshot save:
                Removals++;
                _txns.Clear();
                foreach (var txn in ReplicaState.DecodeSnapshot(save.Snapshot)) _txns[txn.Zxid.Value] = Fnv.Of(txn.Data);
                break;
        }
    }
}
