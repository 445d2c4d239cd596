using Warden.Faults.Tests.History;

namespace Warden.Faults.Tests.Checkers;

/// <summary>
/// The lock workload: a client takes the lock by creating an ephemeral-sequential znode and finding it the
/// lowest; its sequence number is its fencing token (<c>acquire</c> ok carries it). While it holds the lock
/// it appends to a fenced log with a multi that checks its lock znode still exists (<c>fenced</c>, the token
/// as the value), so the log's order is the order the ensemble committed them in. At the end
/// <c>read-fenced</c> lists the tokens in log order.
/// Two holders at once show as a token that writes after a larger token has written (the log goes back);
/// a token nobody acquired, or an acknowledged fenced write missing from the log, is a violation too.
/// A client that only believes it still holds an expired lock is not a violation: its fenced writes fail.
/// </summary>
public static class LockChecker
{
    public const string Name = "lock";

    public static CheckResult Check(IReadOnlyList<Operation> history)
    {
        var acquires = history.Where(o => o.Function == "acquire").ToList();
        var fenced = history.Where(o => o.Function == "fenced").ToList();
        var log = history.LastOrDefault(o => o.Function == "read-fenced" && o.Outcome == EventType.Ok);
        if (log is null)
        {
            return new CheckResult(Name, Verdict.Unknown, $"{acquires.Count} acquires but no successful read of the fenced log", []);
        }
        var problems = new List<string>();
        var granted = acquires.Where(o => o.Outcome == EventType.Ok).ToList();
        foreach (var duplicate in granted.GroupBy(o => o.ResultValue).Where(g => g.Count() > 1))
        {
            problems.Add($"token {duplicate.Key} was granted {duplicate.Count()} times: ops {string.Join(", ", duplicate.Select(o => o.Op))}");
        }

        // Tokens of acquires that may have succeeded: ok ones, and open ones (whose token is unknown, so any
        // token not granted elsewhere is admissible only if some acquire is open).
        var grantedTokens = granted.Select(o => o.ResultValue!.Value).ToHashSet();
        var anyOpenAcquire = acquires.Any(o => o.Outcome == EventType.Info);
        var tokens = log.ResultValues!;
        long highest = long.MinValue;
        var backwards = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i] < highest)
            {
                backwards++;
                problems.Add($"fenced log entry {i} has token {tokens[i]} after token {highest} had written: two holders at once");
            }
            highest = Math.Max(highest, tokens[i]);
            if (!grantedTokens.Contains(tokens[i]) && !anyOpenAcquire)
            {
                problems.Add($"fenced log entry {i} has token {tokens[i]}, which no acquire was granted");
            }
        }

        var inLog = tokens.GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
        var lost = 0;
        foreach (var group in fenced.Where(o => o.Outcome == EventType.Ok).GroupBy(o => o.InvokeValue!.Value))
        {
            var present = inLog.GetValueOrDefault(group.Key);
            if (present < group.Count())
            {
                lost += group.Count() - present;
                problems.Add($"token {group.Key} had {group.Count()} acknowledged fenced writes but the log holds {present}");
            }
        }
        var summary = $"{granted.Count} granted, {fenced.Count(o => o.Outcome == EventType.Ok)} fenced writes acknowledged, " +
                      $"log {tokens.Count} entries, {backwards} out of token order, {lost} lost";
        return new CheckResult(Name, problems.Count == 0 ? Verdict.Valid : Verdict.Invalid, summary,
            problems.Take(CheckResult.MaxProblems).ToList());
    }
}
