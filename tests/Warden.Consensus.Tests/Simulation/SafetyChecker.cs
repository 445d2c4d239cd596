using Warden.Protocol;

namespace Warden.Consensus.Tests.Simulation;

/// <summary>A checker found a run that breaks a rule of atomic broadcast.</summary>
public sealed class SafetyViolationException(string rule, string detail) : Exception($"{rule}: {detail}")
{
    public string Rule { get; } = rule;
}

/// <summary>
/// The rules a correct ensemble keeps, whatever the faults:
/// <list type="number">
/// <item><b>One txn per zxid:</b> no two different txns are ever logged at one zxid, on any server.</item>
/// <item><b>One history:</b> every replica's applied sequence is a prefix of one committed history.</item>
/// <item><b>Committed is durable:</b> every committed txn is on the disk of a quorum of voters, so no
/// combination of crashes can lose it; in particular a txn reported committed to a client is never lost.</item>
/// </list>
/// </summary>
public sealed class SafetyChecker(int quorumSize)
{
    public const string OneTxnPerZxid = "one txn per zxid";
    public const string OneHistory = "one history";
    public const string CommittedIsDurable = "committed is durable";
    public const string ReportedIsKept = "reported commit is kept";

    private readonly Dictionary<long, ulong> _loggedAt = [];
    private readonly List<(Zxid Zxid, ulong Fingerprint)> _history = [];
    private readonly Dictionary<long, int> _historyIndex = [];
    private readonly List<(Zxid Zxid, ulong Fingerprint)> _reported = [];
    private List<(DurableView View, long Removals)> _lastRemovals = [];
    private int _checkedCount;

    public int HistoryLength => _history.Count;
    public IReadOnlyList<(Zxid Zxid, ulong Fingerprint)> History => _history;
    public int ReportedCount => _reported.Count;

    public void OnLogged(ServerId server, Txn txn)
    {
        ulong fingerprint = Fnv.Of(txn.Data);
        if (_loggedAt.TryGetValue(txn.Zxid.Value, out var seen) && seen != fingerprint)
        {
            throw new SafetyViolationException(OneTxnPerZxid, $"{server} logged a different txn at {txn.Zxid}");
        }
        _loggedAt[txn.Zxid.Value] = fingerprint;
    }

    /// <summary>Checks that the txn a replica applied as its <paramref name="index"/>-th is the history's.</summary>
    public void OnApplied(ServerId server, int index, Txn txn)
    {
        ulong fingerprint = Fnv.Of(txn.Data);
        if (index < _history.Count)
        {
            var expected = _history[index];
            if (expected.Zxid != txn.Zxid || expected.Fingerprint != fingerprint)
            {
                throw new SafetyViolationException(OneHistory,
                    $"{server} applied {txn.Zxid} as txn #{index}, where the committed history has {expected.Zxid}");
            }
            return;
        }
        if (index > _history.Count)
        {
            throw new SafetyViolationException(OneHistory, $"{server} applied txn #{index} with only {_history.Count} in the history");
        }
        if (_history.Count > 0 && txn.Zxid <= _history[^1].Zxid)
        {
            throw new SafetyViolationException(OneHistory, $"{server} committed {txn.Zxid} after {_history[^1].Zxid}");
        }
        _historyIndex[txn.Zxid.Value] = _history.Count;
        _history.Add((txn.Zxid, fingerprint));
    }

    /// <summary>A leader told a client its txn committed.</summary>
    public void OnReported(Txn txn)
    {
        ulong fingerprint = Fnv.Of(txn.Data);
        if (!_historyIndex.TryGetValue(txn.Zxid.Value, out int index) || _history[index].Fingerprint != fingerprint)
        {
            throw new SafetyViolationException(ReportedIsKept, $"{txn.Zxid} was reported committed but is not in the history");
        }
        _reported.Add((txn.Zxid, fingerprint));
    }

    /// <summary>Every committed txn must be durable on a quorum of voters.</summary>
    public void CheckDurable(IReadOnlyList<DurableView> voterDisks)
    {
        // Nothing can change the answer unless the history grew or some disk changed since the last check.
        // Appends never make a txn less durable: old txns need a new look only when some disk removed txns or was
        // replaced by a crash, and new txns always need one.
        bool removed = voterDisks.Count != _lastRemovals.Count;
        for (int i = 0; !removed && i < voterDisks.Count; i++)
        {
            removed = !ReferenceEquals(voterDisks[i], _lastRemovals[i].View) || voterDisks[i].Removals != _lastRemovals[i].Removals;
        }
        int start = removed ? 0 : _checkedCount;
        if (removed) _lastRemovals = voterDisks.Select(d => (d, d.Removals)).ToList();
        _checkedCount = _history.Count;
        for (int i = start; i < _history.Count; i++)
        {
            var (zxid, fingerprint) = _history[i];
            int holders = 0;
            foreach (var disk in voterDisks)
            {
                if (disk.Holds(zxid, fingerprint)) holders++;
            }
            if (holders < quorumSize)
            {
                throw new SafetyViolationException(CommittedIsDurable,
                    $"committed {zxid} is on the disks of {holders} voters, fewer than a quorum of {quorumSize}");
            }
        }
    }

    /// <summary>After convergence, a replica's state must hold every txn ever reported committed.</summary>
    public void CheckReportedKept(ServerId server, IReadOnlyList<Txn> applied)
    {
        var held = new Dictionary<long, ulong>(applied.Count);
        foreach (var txn in applied) held[txn.Zxid.Value] = Fnv.Of(txn.Data);
        foreach (var (zxid, fingerprint) in _reported)
        {
            if (!held.TryGetValue(zxid.Value, out var has) || has != fingerprint)
            {
                throw new SafetyViolationException(ReportedIsKept, $"{server} lost {zxid}, which a client was told had committed");
            }
        }
    }
}
