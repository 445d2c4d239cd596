using Warden.Faults.Tests.History;

namespace Warden.Faults.Tests.Checkers;

/// <summary>
/// The set workload: every <c>add</c> creates a persistent znode named after a unique element; one
/// <c>read-all</c> after the faults are healed lists them. Every acknowledged add must be in the final read
/// (none lost), and every element read must have been added by an operation that was acknowledged or whose
/// outcome is unknown (none that was never written, none whose add failed for certain).
/// </summary>
public static class SetChecker
{
    public const string Name = "set";

    public static CheckResult Check(IReadOnlyList<Operation> history)
    {
        var adds = history.Where(o => o.Function == "add").ToList();
        var finals = history.Where(o => o.Function == "read-all" && o.Outcome == EventType.Ok).ToList();
        if (finals.Count == 0)
        {
            return new CheckResult(Name, Verdict.Unknown, $"{adds.Count} adds but no successful final read", []);
        }
        var acknowledged = adds.Where(o => o.Outcome == EventType.Ok).Select(o => o.InvokeValue!.Value).ToHashSet();
        var open = adds.Where(o => o.Outcome == EventType.Info).Select(o => o.InvokeValue!.Value).ToHashSet();
        var failed = adds.Where(o => o.Outcome == EventType.Fail).Select(o => o.InvokeValue!.Value).ToHashSet();

        // Every final read is judged (there is one per member): each member's copy must hold every acknowledged add.
        var problems = new List<string>();
        int lost = 0, neverWritten = 0, failedButPresent = 0;
        foreach (var read in finals)
        {
            var where = finals.Count > 1 ? $" (final read by process {read.Process})" : "";
            var final = read.ResultValues!.ToHashSet();
            var missing = acknowledged.Where(e => !final.Contains(e)).Order().ToList();
            var unknown = final.Where(e => !acknowledged.Contains(e) && !open.Contains(e) && !failed.Contains(e)).Order().ToList();
            var failedPresent = final.Where(failed.Contains).Order().ToList();
            lost += missing.Count;
            neverWritten += unknown.Count;
            failedButPresent += failedPresent.Count;
            problems.AddRange(missing.Select(e => $"acknowledged add of {e} is missing from the final read{where}")
                .Concat(unknown.Select(e => $"{e} is in the final read but was never added{where}"))
                .Concat(failedPresent.Select(e => $"{e} is in the final read but its add failed for certain{where}")));
        }
        var final0 = finals[^1].ResultValues!.ToHashSet();
        problems = problems.Take(CheckResult.MaxProblems).ToList();
        var summary = $"{acknowledged.Count} acknowledged, {open.Count} unknown ({open.Count(final0.Contains)} present), " +
                      $"{failed.Count} failed; {finals.Count} final reads of {final0.Count}; lost {lost}, never written {neverWritten}, " +
                      $"failed but present {failedButPresent}";
        return new CheckResult(Name, problems.Count == 0 ? Verdict.Valid : Verdict.Invalid, summary, problems);
    }
}
