using Warden.Protocol;

namespace Warden.Consensus;

/// <summary>The id of one server in the ensemble, the N of <c>server.N</c> and of the myid file.</summary>
public readonly record struct ServerId(long Value) : IComparable<ServerId>
{
    public int CompareTo(ServerId other) => Value.CompareTo(other.Value);

    public override string ToString() => "s" + Value;
}

/// <summary>
/// What a server is doing, with the integer values Apache's election notification carries on the wire.
/// </summary>
public enum PeerState
{
    Looking = 0,
    Following = 1,
    Leading = 2,
    Observing = 3,
}

/// <summary>
/// A vote in leader election. Votes are ordered by the epoch of the candidate's last established history,
/// then by its last logged zxid, then by its server id, so that the candidate with the most recent history
/// wins and ties break the same way on every server.
/// </summary>
public readonly record struct Vote(ServerId Leader, Zxid Zxid, long ElectionEpoch, long PeerEpoch)
{
    /// <summary>True when this vote names a better leader than <paramref name="other"/>.</summary>
    public bool IsBetterThan(Vote other)
    {
        if (PeerEpoch != other.PeerEpoch) return PeerEpoch > other.PeerEpoch;
        if (Zxid != other.Zxid) return Zxid > other.Zxid;
        return Leader.Value > other.Leader.Value;
    }

    /// <summary>Two votes in one election round agree when they name the same candidate with the same history.</summary>
    public bool SameCandidate(Vote other) =>
        Leader == other.Leader && Zxid == other.Zxid && ElectionEpoch == other.ElectionEpoch && PeerEpoch == other.PeerEpoch;
}

/// <summary>One transaction as the core sees it: a zxid and opaque bytes that the host gives meaning to.</summary>
public sealed record Txn(Zxid Zxid, byte[] Data)
{
    public override string ToString() => $"txn {Zxid} ({Data.Length} bytes)";
}
