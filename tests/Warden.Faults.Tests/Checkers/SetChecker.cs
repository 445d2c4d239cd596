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
        var final = finals[^1].ResultValues!.ToHashSet();
        var acknowledged = adds.Where(o => o.Outcome == EventType.Ok).Select(o => o.InvokeValue!.Value).ToHashSet();
        var open = adds.Where(o => o.Outcome == EventType.Info).Select(o => o.InvokeValue!.Value).ToHashSet();
        var failed = adds.Where(o => o.Outcome == EventType.Fail).Select(o => o.InvokeValue!.Value).ToHashSet();

        var lost = acknowledged.Where(e => !final.Contains(e)).Order().ToList();
        var neverWritten = final.Where(e => !acknowledged.Contains(e) && !open.Contains(e) && !failed.Contains(e)).Order().ToList();
        var failedButPresent = final.Where(failed.Contains).Order().ToList();
        var problems = lost.Select(e => $"acknowledged add of {e} is missing from the final read")
            .Concat(neverWritten.Select(e => $"{e} is in the final read but was never added"))
            .Concat(failedButPresent.Select(e => $"{e} is in the final read but its add failed for certain"))
            .Take(CheckResult.MaxProblems).ToList();
        var summary = $"{acknowledged.Count} acknowledged, {open.Count} unknown ({open.Count(final.Contains)} present), " +
                      $"{failed.Count} failed; final read {final.Count}; lost {lost.Count}, never written {neverWritten.Count}, " +
                      $"failed but present {failedButPresent.Count}";
        return new CheckResult(Name, problems.Count == 0 ? Verdict.Valid : Verdict.Invalid, summary, problems);
    }
}
