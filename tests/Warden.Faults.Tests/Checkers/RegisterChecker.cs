using System.Globalization;
using Warden.Faults.Tests.History;

namespace Warden.Faults.Tests.Checkers;

/// <summary>
/// Linearizability of compare-and-set registers with versions: one znode per key, whose state is its data
/// (a number) and its version. Operations:
/// <list type="bullet">
/// <item><c>read</c> (sync then getData): ok with the value and version read; a read that did not complete says nothing and is dropped.</item>
/// <item><c>write</c> (setData, version -1): ok with the new version, which must be the old one plus one.</item>
/// <item><c>cas</c> (setData with the expected version): ok with the expected version plus one, or fail with
/// BadVersion, which says the version was something else when the leader ordered it.</item>
/// </list>
/// Every key is checked alone (linearizability is P-compositional: a history is linearizable if each
/// object's sub-history is). The search is Wing and Gong's as Lowe refined it and Porcupine implements it:
/// walk the history in real-time order, linearize any call whose model step is legal, backtrack when a
/// return is reached whose call was not linearized, and memoise (set of linearized operations, state) so
/// that no configuration is explored twice. The set is hashed with two independent Zobrist keys (128 bits);
/// a collision could only prune a branch and report a false violation, never hide a real one.
/// Indeterminate writes (timeouts, connection loss) have no return: the search may linearize them at any
/// point after their call, or never, as Knossos treats Jepsen's :info operations.
/// </summary>
public static class RegisterChecker
{
    public const string Name = "linearizable-register";

    /// <summary>Configurations the search may visit per key before it gives up with <see cref="Verdict.Unknown"/>.</summary>
    public const long DefaultBudget = 5_000_000;

    /// <summary>The state every register starts in: the harness creates each znode with data 0 (version 0).</summary>
    public static readonly RegisterState Initial = new(0, 0);

    /// <param name="history">The whole history; only read, write and cas operations are judged.</param>
    /// <param name="includeReads">
    /// Whether reads must be linearizable too. ZooKeeper does not promise it, even for a read after sync: a
    /// sync on the leader is answered as a read, and the leader may apply a commit a moment after a follower
    /// has applied and acknowledged it, so Apache ZooKeeper 3.8 itself returns such stale reads (a probe of
    /// sync and getData on the leader after each write acknowledged by a follower saw 2 in 3,071). Fault runs
    /// therefore judge writes and compare-and-sets here and reads with <see cref="SessionOrderChecker"/>.
    /// </param>
    /// <param name="budget">Configurations the search may visit per key.</param>
    public static CheckResult Check(IReadOnlyList<Operation> history, bool includeReads = true, long budget = DefaultBudget)
    {
        var registerOps = history.Where(IsRegisterOp).Where(o => includeReads || o.Function != "read").ToList();
        var problems = new List<string>();
        var verdict = Verdict.Valid;
        var keys = registerOps.GroupBy(o => o.Key ?? "").OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var counts = new List<string>();
        foreach (var key in keys)
        {
            var ops = key.Where(Relevant).ToList();
            var outcome = VersionOrder(ops) is { } early ? (Verdict: Verdict.Invalid, Explanation: early) : CheckKey(ops, budget);
            counts.Add($"{key.Key}: {ops.Count} ops, {ops.Count(o => o.Outcome == EventType.Info)} open");
            if (outcome.Verdict == Verdict.Invalid)
            {
                verdict = Verdict.Invalid;
                problems.Add($"key {key.Key}: {outcome.Explanation}");
            }
            else if (outcome.Verdict == Verdict.Unknown && verdict == Verdict.Valid)
            {
                verdict = Verdict.Unknown;
                problems.Add($"key {key.Key}: {outcome.Explanation}");
            }
        }
        return new CheckResult(Name, verdict,
            $"{(includeReads ? "reads included" : "writes and cas only")}; {keys.Count} keys; {string.Join("; ", counts)}", problems);
    }

    /// <summary>
    /// A quick necessary condition, checked before the search: versions only grow, so an operation that began
    /// after another had completed must see (a read) at least, or produce (a write) more than, the version the
    /// earlier one saw or produced. When it fails the history is not linearizable and this says why in terms a
    /// person can check by hand; a search that must exhaust every configuration to say the same can run out
    /// of budget on a long history.
    /// </summary>
    internal static string? VersionOrder(IReadOnlyList<Operation> ops)
    {
        var known = ops.Where(o => o.Outcome == EventType.Ok && o.ResultVersion is not null).ToList();
        var byCompletion = known.OrderBy(o => o.CompleteNs).ToList();
        var completed = 0;
        Operation? highest = null;
        foreach (var op in known.OrderBy(o => o.InvokeNs))
        {
            while (completed < byCompletion.Count && byCompletion[completed].CompleteNs < op.InvokeNs)
            {
                var done = byCompletion[completed++];
                if (highest is null || done.ResultVersion > highest.ResultVersion)
                {
                    highest = done;
                }
            }
            if (highest is null)
            {
                continue;
            }
            var stale = op.Function == "read" ? op.ResultVersion < highest.ResultVersion : op.ResultVersion <= highest.ResultVersion;
            if (stale)
            {
                return $"{op} saw version {op.ResultVersion} although {highest} had completed with version {highest.ResultVersion} before it began";
            }
        }
        return null;
    }

    private static bool IsRegisterOp(Operation op) => op.Function is "read" or "write" or "cas";

    /// <summary>
    /// The operations that constrain the search: every ok; an open write or cas (it may have happened);
    /// a cas that failed with BadVersion. Failed or open reads, and writes that failed for certain, change
    /// nothing and are left out.
    /// </summary>
    private static bool Relevant(Operation op) => op.Outcome switch
    {
        EventType.Ok => true,
        EventType.Info => op.Function is "write" or "cas",
        EventType.Fail => op.Function == "cas" && op.Error == "BadVersion",
        _ => false,
    };

    /// <summary>
    /// The register's next state if <paramref name="op"/> takes effect in <paramref name="state"/>, or null
    /// when it cannot take effect there.
    /// </summary>
    internal static RegisterState? Step(RegisterState state, Operation op)
    {
        switch (op.Function)
        {
            case "read":
                return state.Value == op.ResultValue && state.Version == op.ResultVersion ? state : null;
            case "write":
            {
                var next = new RegisterState(op.InvokeValue ?? 0, state.Version + 1);
                return op.Outcome == EventType.Ok && op.ResultVersion is { } produced && produced != next.Version ? null : next;
            }
            case "cas":
                if (op.Outcome == EventType.Fail)
                {
                    return state.Version != op.InvokeVersion ? state : null;
                }
                if (state.Version != op.InvokeVersion)
                {
                    return null;
                }
                {
                    var next = new RegisterState(op.InvokeValue ?? 0, state.Version + 1);
                    return op.Outcome == EventType.Ok && op.ResultVersion is { } produced && produced != next.Version ? null : next;
                }
            default:
                return null;
        }
    }

    /// <summary>
    /// The value written in place of any value no read ever returned: such values cannot be told apart, so
    /// open writes of them are interchangeable and the search tries only one of each kind at a time.
    /// </summary>
    internal const long Unobserved = long.MinValue;

    private static (Verdict Verdict, string Explanation) CheckKey(List<Operation> ops, long budget)
    {
        var observed = ops.Where(o => o.Function == "read").Select(o => o.ResultValue).ToHashSet();
        var canonical = ops
            .Select(o => o.Function is "write" or "cas" && !observed.Contains(o.InvokeValue) ? o with { InvokeValue = Unobserved } : o)
            .ToList();
        var search = new Search(canonical);
        return search.Run(budget);
    }

    /// <summary>
    /// One key's search over a doubly linked list of call and return entries (Lowe's "dancing links"). The
    /// calls that may be linearized next are those before the first remaining return. Acknowledged operations
    /// are tried before open ones, and a configuration is pruned when one with the same acknowledged
    /// operations linearized, the same state and a subset of its open operations linearized was explored
    /// already: that one could do everything this one can (an open operation may always be linearized later),
    /// so it failing means this one fails. Without that, every subset of the open writes is a separate
    /// configuration and a history with a few dozen of them never finishes.
    /// </summary>
    private sealed class Search
    {
        private readonly Entry head = new(-1, isCall: true);
        private readonly Operation[] ops;
        private readonly ulong[] zobristLow;
        private readonly ulong[] zobristHigh;
        private readonly int[] openIndex;
        private readonly int openWords;

        public Search(List<Operation> operations)
        {
            ops = operations.ToArray();
            // Fixed seed: the check of a saved history is the same search every time.
            var random = new Random(14);
            zobristLow = new ulong[ops.Length];
            zobristHigh = new ulong[ops.Length];
            openIndex = new int[ops.Length];
            var opens = 0;
            for (var i = 0; i < ops.Length; i++)
            {
                zobristLow[i] = (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1);
                zobristHigh[i] = (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1);
                openIndex[i] = ops[i].Outcome == EventType.Info ? opens++ : -1;
            }
            openWords = (opens + 63) / 64;
            // Calls sort before returns at the same instant: operations that touch in time are concurrent.
            var timeline = new List<(long Time, int Order, Entry Entry)>();
            for (var i = 0; i < ops.Length; i++)
            {
                var call = new Entry(i, isCall: true);
                timeline.Add((ops[i].InvokeNs, 0, call));
                if (ops[i].Outcome != EventType.Info)
                {
                    var ret = new Entry(i, isCall: false);
                    call.Match = ret;
                    timeline.Add((ops[i].CompleteNs ?? long.MaxValue, 1, ret));
                }
            }
            var previous = head;
            foreach (var (_, _, entry) in timeline.OrderBy(t => t.Time).ThenBy(t => t.Order).ThenBy(t => t.Entry.Op))
            {
                previous.Next = entry;
                entry.Prev = previous;
                previous = entry;
            }
        }

        public (Verdict, string) Run(long budget)
        {
            var determinate = ops.Count(o => o.Outcome != EventType.Info);
            if (determinate == 0)
            {
                return (Verdict.Valid, "");
            }
            var linearizedDeterminate = 0;
            var state = Initial;
            ulong hashLow = 0, hashHigh = 0;
            var openSet = new ulong[openWords];
            var seen = new Dictionary<(ulong, ulong, RegisterState), List<ulong[]>>();
            var frames = new Stack<Frame>();
            frames.Push(new Frame(Candidates(), -1, state));
            long steps = 0;
            var deepest = -1;
            var deepestExplanation = "";
            while (true)
            {
                if (++steps > budget)
                {
                    return (Verdict.Unknown, $"search budget of {budget} steps spent with {linearizedDeterminate} of {determinate} acknowledged operations linearized");
                }
                var frame = frames.Peek();
                if (frame.Next >= frame.Candidates.Length)
                {
                    // Every candidate failed here: this configuration is dead; undo the step that led to it.
                    if (linearizedDeterminate > deepest)
                    {
                        deepest = linearizedDeterminate;
                        deepestExplanation = Explain(state, frame);
                    }
                    frames.Pop();
                    if (frame.Incoming < 0)
                    {
                        return (Verdict.Invalid, deepestExplanation);
                    }
                    state = frame.Before;
                    if (openIndex[frame.Incoming] is var open and >= 0)
                    {
                        openSet[open / 64] &= ~(1UL << (open % 64));
                    }
                    else
                    {
                        hashLow ^= zobristLow[frame.Incoming];
                        hashHigh ^= zobristHigh[frame.Incoming];
                        linearizedDeterminate--;
                    }
                    Unlift(frame.Call!);
                    continue;
                }
                var call = frame.Candidates[frame.Next++];
                if (Step(state, ops[call.Op]) is not { } next)
                {
                    continue;
                }
                var isOpen = openIndex[call.Op] >= 0;
                var low = isOpen ? hashLow : hashLow ^ zobristLow[call.Op];
                var high = isOpen ? hashHigh : hashHigh ^ zobristHigh[call.Op];
                if (isOpen)
                {
                    openSet[openIndex[call.Op] / 64] |= 1UL << (openIndex[call.Op] % 64);
                }
                else if (linearizedDeterminate + 1 == determinate)
                {
                    return (Verdict.Valid, "");
                }
                if (!Remember(seen, (low, high, next), openSet))
                {
                    if (isOpen)
                    {
                        openSet[openIndex[call.Op] / 64] &= ~(1UL << (openIndex[call.Op] % 64));
                    }
                    continue;
                }
                // Open operations are in the key through the open set, not the Zobrist hash.
                hashLow = low;
                hashHigh = high;
                if (!isOpen)
                {
                    linearizedDeterminate++;
                }
                Lift(call);
                frames.Push(new Frame(Candidates(), call.Op, state) { Call = call });
                state = next;
            }
        }

        /// <summary>
        /// Records a configuration, or says false when one with the same acknowledged set and state and a
        /// subset of its open operations was recorded already.
        /// </summary>
        private static bool Remember(Dictionary<(ulong, ulong, RegisterState), List<ulong[]>> seen, (ulong, ulong, RegisterState) key, ulong[] openSet)
        {
            if (!seen.TryGetValue(key, out var subsets))
            {
                seen[key] = [(ulong[])openSet.Clone()];
                return true;
            }
            foreach (var subset in subsets)
            {
                var contained = true;
                for (var word = 0; word < subset.Length && contained; word++)
                {
                    contained = (subset[word] & ~openSet[word]) == 0;
                }
                if (contained)
                {
                    return false;
                }
            }
            subsets.Add((ulong[])openSet.Clone());
            return true;
        }

        /// <summary>The calls before the first remaining return: acknowledged ones first, then open ones (one of each interchangeable kind).</summary>
        private Entry[] Candidates()
        {
            var determinate = new List<Entry>();
            var open = new List<Entry>();
            var kinds = new HashSet<(string, int?)>();
            for (var entry = head.Next; entry is { IsCall: true }; entry = entry.Next)
            {
                var op = ops[entry.Op];
                if (openIndex[entry.Op] < 0)
                {
                    determinate.Add(entry);
                }
                // Open writes of unobserved values with the same expected version have the same effect, now and
                // later (both are already invoked): linearizing the first stands for linearizing any of them.
                else if (op.InvokeValue != Unobserved || kinds.Add((op.Function, op.Function == "cas" ? op.InvokeVersion : null)))
                {
                    open.Add(entry);
                }
            }
            determinate.AddRange(open);
            return determinate.ToArray();
        }

        private string Explain(RegisterState state, Frame frame)
        {
            var blocking = head.Next;
            while (blocking is { IsCall: true })
            {
                blocking = blocking.Next;
            }
            var last = frame.Incoming >= 0 ? ops[frame.Incoming].ToString() : "none";
            return blocking is null
                ? $"no operation fits in state {state}"
                : $"{ops[blocking.Op]} cannot be linearized: the register is {state} and no pending operation leads on; last linearized: {last}";
        }

        private static void Lift(Entry call)
        {
            Remove(call);
            if (call.Match is { } ret)
            {
                Remove(ret);
            }
        }

        private static void Unlift(Entry call)
        {
            if (call.Match is { } ret)
            {
                Restore(ret);
            }
            Restore(call);
        }

        private static void Remove(Entry entry)
        {
            entry.Prev!.Next = entry.Next;
            if (entry.Next is not null)
            {
                entry.Next.Prev = entry.Prev;
            }
        }

        private static void Restore(Entry entry)
        {
            entry.Prev!.Next = entry;
            if (entry.Next is not null)
            {
                entry.Next.Prev = entry;
            }
        }

        /// <summary>A configuration on the search stack: its candidates, the next to try, and how it was reached.</summary>
        private sealed class Frame(Entry[] candidates, int incoming, RegisterState before)
        {
            public Entry[] Candidates { get; } = candidates;
            public int Next { get; set; }
            public int Incoming { get; } = incoming;
            public RegisterState Before { get; } = before;
            public Entry? Call { get; init; }
        }
    }


    private sealed class Entry(int op, bool isCall)
    {
        public int Op { get; } = op;
        public bool IsCall { get; } = isCall;
        public Entry? Match { get; set; }
        public Entry? Prev { get; set; }
        public Entry? Next { get; set; }
    }
}

/// <summary>A register's data (a number) and its znode version.</summary>
public readonly record struct RegisterState(long Value, int Version)
{
    public override string ToString() =>
        $"(value {(Value == RegisterChecker.Unobserved ? "never read" : Value.ToString(CultureInfo.InvariantCulture))}, version {Version.ToString(CultureInfo.InvariantCulture)})";
}
