using Warden.Faults.Tests.Checkers;
using Warden.Faults.Tests.History;

namespace Warden.Faults.Tests.CheckerTests;

/// <summary>
/// The linearizability checker accepts what a correct register may do (overlapping operations in either
/// order, an unknown write taking effect late or never) and rejects planted bugs: a stale read, a lost
/// acknowledged write, two compare-and-sets from one version, a BadVersion that was not.
/// </summary>
public sealed class RegisterCheckerTests
{
    [Fact]
    public void SequentialHistoryIsLinearizable()
    {
        var history = new HistoryBuilder()
            .Write(1, "k", 0, 10, 5, 1)
            .Read(2, "k", 20, 30, 5, 1)
            .Cas(1, "k", 40, 50, 1, 6)
            .Cas(2, "k", 60, 70, 1, 7, EventType.Fail)
            .Read(3, "k", 80, 90, 6, 2);
        AssertVerdict(Verdict.Valid, history);
    }

    [Fact]
    public void ReadOverlappingAWriteMaySeeEitherValue()
    {
        AssertVerdict(Verdict.Valid, new HistoryBuilder().Write(1, "k", 0, 100, 5, 1).Read(2, "k", 10, 20, 0, 0).Read(3, "k", 30, 40, 5, 1));
        AssertVerdict(Verdict.Valid, new HistoryBuilder().Write(1, "k", 0, 100, 5, 1).Read(2, "k", 10, 20, 5, 1));
    }

    [Fact]
    public void PlantedStaleReadIsCaught()
    {
        // The write was acknowledged before the read began, yet the read returns the old state.
        var history = new HistoryBuilder().Write(1, "k", 0, 10, 5, 1).Read(2, "k", 20, 30, 0, 0);
        var result = AssertVerdict(Verdict.Invalid, history);
        Assert.Contains("key k", result.Problems[0]);
    }

    [Fact]
    public void ReadGoingBackInTimeIsCaughtEvenWhenEachReadAloneFits()
    {
        // Both reads overlap the write, so each alone is fine; in this order they make the write un-happen.
        var history = new HistoryBuilder().Write(1, "k", 0, 100, 5, 1).Read(2, "k", 10, 20, 5, 1).Read(3, "k", 30, 40, 0, 0);
        AssertVerdict(Verdict.Invalid, history);
    }

    [Fact]
    public void PlantedLostAcknowledgedWriteIsCaught()
    {
        // Two acknowledged writes; a later read shows the first one's state: the second was lost.
        var history = new HistoryBuilder()
            .Write(1, "k", 0, 10, 5, 1)
            .Write(2, "k", 20, 30, 6, 2)
            .Read(3, "k", 40, 50, 5, 1);
        AssertVerdict(Verdict.Invalid, history);
    }

    [Fact]
    public void TwoSuccessfulCompareAndSetsFromOneVersionAreCaught()
    {
        var history = new HistoryBuilder().Cas(1, "k", 0, 100, 0, 5).Cas(2, "k", 0, 100, 0, 6);
        AssertVerdict(Verdict.Invalid, history);
    }

    [Fact]
    public void BadVersionWhenTheVersionMatchedIsCaught()
    {
        AssertVerdict(Verdict.Invalid, new HistoryBuilder().Cas(1, "k", 0, 10, 0, 5, EventType.Fail));
        // Overlapping a write that moves the version, the same failure is legitimate.
        AssertVerdict(Verdict.Valid, new HistoryBuilder().Write(2, "k", 0, 20, 9, 1).Cas(1, "k", 5, 10, 0, 5, EventType.Fail));
    }

    [Fact]
    public void WriteVersionMustFollowThePreviousOne()
    {
        // setData reported version 3 where the znode could only reach version 1.
        AssertVerdict(Verdict.Invalid, new HistoryBuilder().Write(1, "k", 0, 10, 5, 3));
    }

    [Fact]
    public void UnknownWriteMayTakeEffectLateOrNever()
    {
        // Connection lost at 10 ms; the write shows up in a read a second later.
        AssertVerdict(Verdict.Valid, new HistoryBuilder().Write(1, "k", 0, 10, 7, null, EventType.Info).Read(2, "k", 20, 30, 0, 0).Read(2, "k", 1000, 1010, 7, 1));
        // Or never.
        AssertVerdict(Verdict.Valid, new HistoryBuilder().Write(1, "k", 0, 10, 7, null, EventType.Info).Read(2, "k", 1000, 1010, 0, 0));
        // But it cannot take effect before it was invoked, nor un-happen once seen.
        AssertVerdict(Verdict.Invalid, new HistoryBuilder().Read(2, "k", 0, 5, 7, 1).Write(1, "k", 10, 20, 7, null, EventType.Info));
        AssertVerdict(Verdict.Invalid, new HistoryBuilder().Write(1, "k", 0, 10, 7, null, EventType.Info).Read(2, "k", 20, 30, 7, 1).Read(2, "k", 40, 50, 0, 0));
    }

    [Fact]
    public void VersionGoingBackAfterACompletedOperationIsNamedPlainly()
    {
        var history = new HistoryBuilder().Write(1, "k", 0, 10, 5, 1).Write(2, "k", 20, 30, 6, 2).Read(3, "k", 40, 50, 5, 1);
        var result = AssertVerdict(Verdict.Invalid, history);
        Assert.Contains("saw version 1 although", result.Problems[0]);
        // Overlapping operations may see versions in any order the search can justify.
        AssertVerdict(Verdict.Valid, new HistoryBuilder().Write(1, "k", 0, 100, 5, 1).Read(3, "k", 10, 20, 5, 1).Read(2, "k", 5, 30, 0, 0));
    }

    [Fact]
    public void KeysAreCheckedApart()
    {
        var history = new HistoryBuilder().Write(1, "a", 0, 10, 5, 1).Read(2, "b", 20, 30, 0, 0).Read(2, "a", 40, 50, 0, 0);
        var result = AssertVerdict(Verdict.Invalid, history);
        Assert.Single(result.Problems);
        Assert.StartsWith("key a", result.Problems[0]);
    }

    [Fact]
    public void LongConcurrentHistoriesOfACorrectRegisterPassAndAPlantedStaleReadFails()
    {
        for (var seed = 1; seed <= 5; seed++)
        {
            var (events, lastWrite) = SimulatedRegister(seed, operations: 3000, processes: 5);
            var result = RegisterChecker.Check(HistoryLog.Pair(events));
            Assert.True(result.IsValid, $"seed {seed}: {result}");

            // A read after everything else, returning the state before the last acknowledged write.
            var end = events.Max(e => e.TimeNs) + 1_000_000;
            var stale = events.Append(new HistoryEvent(1_000_000, 99, EventType.Invoke, "read", end, "k"))
                .Append(new HistoryEvent(1_000_000, 99, EventType.Ok, "read", end + 1_000, "k", lastWrite.Before.Value, lastWrite.Before.Version));
            Assert.Equal(Verdict.Invalid, RegisterChecker.Check(HistoryLog.Pair(stale)).Verdict);
        }
    }

    /// <summary>
    /// A history of a correct register: each operation takes effect at a random instant inside its interval,
    /// processes overlap, and some writes lose their connection (open, though they took effect or not).
    /// </summary>
    private static (List<HistoryEvent> Events, (RegisterState Before, RegisterState After) LastWrite) SimulatedRegister(
        int seed, int operations, int processes)
    {
        var random = new Random(seed);
        var state = RegisterChecker.Initial;
        var events = new List<HistoryEvent>();
        var clock = new long[processes];
        var pending = new List<(long At, Action Apply)>();
        (RegisterState, RegisterState) lastWrite = (state, state);
        long value = 0;
        for (var op = 0; op < operations; op++)
        {
            var process = random.Next(processes);
            var start = clock[process] + random.Next(1, 50);
            var point = start + random.Next(0, 50);
            var end = point + random.Next(0, 50);
            clock[process] = end;
            var kind = random.Next(3);
            var open = random.Next(40) == 0;
            var written = ++value;
            var expected = random.Next(2) == 0 ? state.Version : Math.Max(0, state.Version - random.Next(0, 2));
            var opId = op;
            pending.Add((point, () =>
            {
                var before = state;
                switch (kind)
                {
                    case 0:
                        events.Add(new HistoryEvent(opId, process, EventType.Invoke, "read", start, "k"));
                        events.Add(new HistoryEvent(opId, process, EventType.Ok, "read", end, "k", state.Value, state.Version));
                        return;
                    case 1:
                        events.Add(new HistoryEvent(opId, process, EventType.Invoke, "write", start, "k", written));
                        if (open && random.Next(2) == 0)
                        {
                            events.Add(new HistoryEvent(opId, process, EventType.Info, "write", end, "k", Error: "ConnectionLoss"));
                            return;
                        }
                        state = new RegisterState(written, state.Version + 1);
                        events.Add(open
                            ? new HistoryEvent(opId, process, EventType.Info, "write", end, "k", Error: "ConnectionLoss")
                            : new HistoryEvent(opId, process, EventType.Ok, "write", end, "k", Version: state.Version));
                        lastWrite = (before, state);
                        return;
                    default:
                        events.Add(new HistoryEvent(opId, process, EventType.Invoke, "cas", start, "k", written, expected));
                        if (state.Version != expected)
                        {
                            events.Add(new HistoryEvent(opId, process, EventType.Fail, "cas", end, "k", Error: "BadVersion"));
                            return;
                        }
                        state = new RegisterState(written, state.Version + 1);
                        events.Add(new HistoryEvent(opId, process, EventType.Ok, "cas", end, "k", Version: state.Version));
                        lastWrite = (before, state);
                        return;
                }
            }));
            // Apply every operation whose instant has passed on all clocks, in instant order.
            var horizon = clock.Min();
            foreach (var ready in pending.Where(p => p.At <= horizon).OrderBy(p => p.At).ToList())
            {
                ready.Apply();
                pending.Remove(ready);
            }
        }
        foreach (var rest in pending.OrderBy(p => p.At))
        {
            rest.Apply();
        }
        return (events, lastWrite);
    }

    private static CheckResult AssertVerdict(Verdict expected, HistoryBuilder history)
    {
        var result = RegisterChecker.Check(history.Operations);
        Assert.True(result.Verdict == expected, $"expected {expected}: {result}");
        return result;
    }
}
