using Warden.Protocol;

namespace Warden.Consensus;

/// <summary>
/// The in-memory view of this server's history: everything up to <see cref="BaseZxid"/> is folded into the
/// state machine (a snapshot, or compacted away), and the txns after it are kept in zxid order. It guards the
/// rules every replica must keep: zxids strictly rise, the commit point never passes the last logged txn, and
/// nothing committed is ever cut.
/// </summary>
internal sealed class ReplicaLog
{
    private readonly List<Txn> _entries = [];

    public ReplicaLog(Zxid baseZxid, IEnumerable<Txn> entries)
    {
        BaseZxid = baseZxid;
        Committed = baseZxid;
        foreach (var txn in entries) Append(txn);
    }

    /// <summary>The last zxid that is no longer held as a txn here.</summary>
    public Zxid BaseZxid { get; private set; }

    /// <summary>The last zxid this server knows to be committed.</summary>
    public Zxid Committed { get; private set; }

    public Zxid LastZxid => _entries.Count > 0 ? _entries[^1].Zxid : BaseZxid;

    public int Count => _entries.Count;

    public void Append(Txn txn)
    {
        Invariant.Require(txn.Zxid > LastZxid, $"zxid must strictly rise: {txn.Zxid} after {LastZxid}");
        Invariant.Require(txn.Zxid.Counter != 0, $"zxid {txn.Zxid} has counter 0, which names an epoch, not a txn");
        _entries.Add(txn);
    }

    /// <summary>Cuts every txn after <paramref name="lastKept"/>; cutting a committed txn is a broken invariant.</summary>
    public void TruncateAfter(Zxid lastKept)
    {
        Invariant.Require(lastKept >= Committed, $"truncating to {lastKept} would cut committed txns up to {Committed}");
        Invariant.Require(lastKept >= BaseZxid, $"cannot truncate to {lastKept} below the snapshot at {BaseZxid}");
        int keep = CountUpTo(lastKept);
        _entries.RemoveRange(keep, _entries.Count - keep);
    }

    /// <summary>Replaces everything with a snapshot at <paramref name="zxid"/>, which is committed by definition.</summary>
    public void ResetToSnapshot(Zxid zxid)
    {
        Invariant.Require(zxid >= Committed, $"a snapshot at {zxid} would move the commit point back from {Committed}");
        _entries.Clear();
        BaseZxid = zxid;
        Committed = zxid;
    }

    /// <summary>Moves the commit point forward and returns the txns that became committed, in order.</summary>
    public List<Txn> CommitUpTo(Zxid zxid)
    {
        Invariant.Require(zxid <= LastZxid, $"commit of {zxid} is past the last logged zxid {LastZxid}");
        var newlyCommitted = new List<Txn>();
        if (zxid <= Committed) return newlyCommitted;
        for (int i = CountUpTo(Committed); i < _entries.Count && _entries[i].Zxid <= zxid; i++)
        {
            newlyCommitted.Add(_entries[i]);
        }
        Committed = zxid;
        return newlyCommitted;
    }

    /// <summary>True when <paramref name="zxid"/> is the base or a logged txn.</summary>
    public bool Contains(Zxid zxid) => zxid == BaseZxid || IndexOf(zxid) >= 0;

    /// <summary>The largest zxid held here (base included) that is not above <paramref name="zxid"/>.</summary>
    public Zxid Floor(Zxid zxid)
    {
        int count = CountUpTo(zxid);
        return count == 0 ? BaseZxid : _entries[count - 1].Zxid;
    }

    /// <summary>The logged txns after <paramref name="zxid"/> and up to <paramref name="upTo"/>, in order.</summary>
    public IEnumerable<Txn> Range(Zxid after, Zxid upTo)
    {
        for (int i = CountUpTo(after); i < _entries.Count && _entries[i].Zxid <= upTo; i++) yield return _entries[i];
    }

    /// <summary>
    /// Forgets the oldest committed txns so that at most <paramref name="retained"/> committed ones stay. The host
    /// keeps them in its state machine; a learner that needs them from here gets a SNAP instead of a DIFF.
    /// </summary>
    public void Compact(int retained)
    {
        int committedCount = CountUpTo(Committed);
        int drop = committedCount - retained;
        if (drop <= 0) return;
        BaseZxid = _entries[drop - 1].Zxid;
        _entries.RemoveRange(0, drop);
    }

    private int IndexOf(Zxid zxid)
    {
        int count = CountUpTo(zxid);
        return count > 0 && _entries[count - 1].Zxid == zxid ? count - 1 : -1;
    }

    /// <summary>How many logged txns have a zxid at or below <paramref name="zxid"/> (a binary search).</summary>
    private int CountUpTo(Zxid zxid)
    {
        int low = 0, high = _entries.Count;
        while (low < high)
        {
            int mid = (low + high) / 2;
            if (_entries[mid].Zxid <= zxid) low = mid + 1;
            else high = mid;
        }
        return low;
    }
}
