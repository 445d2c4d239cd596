using Warden.Faults.Tests.History;

namespace Warden.Faults.Tests.Checkers;

/// <summary>
/// What ZooKeeper does promise for reads: a session never goes back in time. Within one client process (one
/// session), the version of a register it reads is never below a version it has already read or produced by
/// a write or compare-and-set, whatever member answers. A planted stale read in one session fails it.
/// </summary>
public static class SessionOrderChecker
{
    public const string Name = "session-order";

    public static CheckResult Check(IReadOnlyList<Operation> history)
    {
        var problems = new List<string>();
        var reads = 0;
        foreach (var session in history.Where(o => o.Function is "read" or "write" or "cas" && o.Outcome == EventType.Ok && o.ResultVersion is not null)
                     .GroupBy(o => o.Process))
        {
            var seen = new Dictionary<string, Operation>(StringComparer.Ordinal);
            foreach (var op in session.OrderBy(o => o.InvokeNs))
            {
                var key = op.Key ?? "";
                if (op.Function == "read")
                {
                    reads++;
                }
                if (seen.TryGetValue(key, out var before) && op.ResultVersion < before.ResultVersion)
                {
                    problems.Add($"{op} saw version {op.ResultVersion} after the same session had seen {before.ResultVersion} ({before})");
                    continue;
                }
                seen[key] = op;
            }
        }
        return new CheckResult(Name, problems.Count == 0 ? Verdict.Valid : Verdict.Invalid,
            $"{reads} reads in {history.Select(o => o.Process).Distinct().Count()} processes, {problems.Count} going back",
            problems.Take(CheckResult.MaxProblems).ToList());
    }
}
