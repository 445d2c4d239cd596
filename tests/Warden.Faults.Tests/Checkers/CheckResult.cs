namespace Warden.Faults.Tests.Checkers;

/// <summary>What a checker concluded.</summary>
public enum Verdict
{
    /// <summary>The history satisfies the property.</summary>
    Valid,

    /// <summary>The history breaks the property; <see cref="CheckResult.Problems"/> says where.</summary>
    Invalid,

    /// <summary>The checker ran out of its search budget before deciding (never counted as a pass).</summary>
    Unknown,
}

/// <summary>A checker's verdict, a one-line summary of what it counted, and the first problems it found.</summary>
public sealed record CheckResult(string Checker, Verdict Verdict, string Summary, IReadOnlyList<string> Problems)
{
    /// <summary>How many problems a result lists at most: the first few explain a failure.</summary>
    public const int MaxProblems = 20;

    public bool IsValid => Verdict == Verdict.Valid;

    /// <summary>The one line a run prints for this checker.</summary>
    public string Line => $"{Checker}: {Verdict.ToString().ToLowerInvariant()} ({Summary})" +
                          (Problems.Count > 0 ? $"; first: {Problems[0]}" : "");

    public override string ToString() =>
        Problems.Count == 0 ? Line : Line + "\n  " + string.Join("\n  ", Problems);
}
