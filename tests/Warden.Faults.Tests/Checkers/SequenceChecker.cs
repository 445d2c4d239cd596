using Warden.Faults.Tests.History;

namespace Warden.Faults.Tests.Checkers;

/// <summary>
/// The sequential-node workload: every <c>next</c> creates a persistent-sequential znode under one parent and
/// its ok carries the sequence number the server gave. Numbers must be unique; an operation that completed
/// before another began must have the smaller number (the counter is part of the linearizable tree); and
/// every acknowledged number must be in the final listing (<c>read-seq</c>), when there is one.
/// </summary>
public static class SequenceChecker
{
    public const string Name = "sequence";

    public static CheckResult Check(IReadOnlyList<Operation> history)
    {
        var acknowledged = history.Where(o => o.Function == "next" && o.Outcome == EventType.Ok).ToList();
        var problems = new List<string>();

        foreach (var duplicate in acknowledged.GroupBy(o => o.ResultValue).Where(g => g.Count() > 1))
        {
            problems.Add($"sequence number {duplicate.Key} was given to {duplicate.Count()} creates: ops {string.Join(", ", duplicate.Select(o => o.Op))}");
        }

        // Sweep the invocations in time order, keeping the largest number among the creates that had already
        // completed when each one was invoked: that number must be below the new one.
        var byCompletion = acknowledged.OrderBy(o => o.CompleteNs).ToList();
        var completed = 0;
        Operation? largest = null;
        var outOfOrder = 0;
        foreach (var op in acknowledged.OrderBy(o => o.InvokeNs))
        {
            while (completed < byCompletion.Count && byCompletion[completed].CompleteNs < op.InvokeNs)
            {
                var done = byCompletion[completed++];
                if (largest is null || done.ResultValue > largest.ResultValue)
                {
                    largest = done;
                }
            }
            if (largest is not null && largest.ResultValue >= op.ResultValue)
            {
                outOfOrder++;
                problems.Add($"{op} got {op.ResultValue} after {largest} had completed with {largest.ResultValue}");
            }
        }

        var lost = 0;
        var listing = history.LastOrDefault(o => o.Function == "read-seq" && o.Outcome == EventType.Ok);
        if (listing is not null)
        {
            var present = listing.ResultValues!.ToHashSet();
            foreach (var op in acknowledged.Where(o => !present.Contains(o.ResultValue!.Value)))
            {
                lost++;
                problems.Add($"acknowledged sequence number {op.ResultValue} ({op}) is missing from the final listing");
            }
        }
        var summary = $"{acknowledged.Count} acknowledged, {acknowledged.Select(o => o.ResultValue).Distinct().Count()} distinct, " +
                      $"{outOfOrder} out of real-time order, {(listing is null ? "no final listing" : $"{lost} missing from the final listing")}";
        return new CheckResult(Name, problems.Count == 0 ? Verdict.Valid : Verdict.Invalid, summary,
            problems.Take(CheckResult.MaxProblems).ToList());
    }
}
