using Warden.Faults.Tests.Checkers;
using Warden.Faults.Tests.History;

namespace Warden.Faults.Tests.CheckerTests;

/// <summary>The set, sequence and lock checkers pass correct histories and fail each planted bug.</summary>
public sealed class SetSequenceLockCheckerTests
{
    private static HistoryBuilder SetHistory(IReadOnlyList<long> finalRead) => new HistoryBuilder()
        .Op(1, "add", 0, 10, EventType.Ok, invokeValue: 1)
        .Op(2, "add", 5, 15, EventType.Ok, invokeValue: 2)
        .Op(1, "add", 20, 30, EventType.Info, invokeValue: 3)
        .Op(2, "add", 20, 30, EventType.Info, invokeValue: 4)
        .Op(3, "add", 40, 50, EventType.Fail, invokeValue: 5)
        .Op(3, "read-all", 100, 110, EventType.Ok, values: finalRead);

    [Fact]
    public void SetWithEveryAcknowledgedElementPasses()
    {
        var result = SetChecker.Check(SetHistory([1, 2, 3]).Operations);
        Assert.True(result.IsValid, result.ToString());
        Assert.Contains("2 acknowledged, 2 unknown (1 present), 1 failed; 1 final reads of 3; lost 0", result.Summary);
    }

    [Fact]
    public void SetCatchesALostAcknowledgedAdd()
    {
        var result = SetChecker.Check(SetHistory([1, 3]).Operations);
        Assert.Equal(Verdict.Invalid, result.Verdict);
        Assert.Equal("acknowledged add of 2 is missing from the final read", result.Problems.Single());
    }

    [Fact]
    public void SetCatchesAnElementNeverWrittenAndOneWhoseAddFailed()
    {
        var result = SetChecker.Check(SetHistory([1, 2, 9, 5]).Operations);
        Assert.Equal(Verdict.Invalid, result.Verdict);
        Assert.Equal(2, result.Problems.Count);
        Assert.Contains("9 is in the final read but was never added", result.Problems);
    }

    [Fact]
    public void SetWithoutAFinalReadIsUnknownNotValid()
    {
        Assert.Equal(Verdict.Unknown, SetChecker.Check(new HistoryBuilder().Op(1, "add", 0, 10, EventType.Ok, invokeValue: 1).Operations).Verdict);
    }

    private static HistoryBuilder Sequence(long first, long second, long third, IReadOnlyList<long>? listing = null)
    {
        var history = new HistoryBuilder()
            .Op(1, "next", 0, 10, EventType.Ok, resultValue: first)
            .Op(2, "next", 5, 30, EventType.Ok, resultValue: second)
            .Op(1, "next", 20, 40, EventType.Ok, resultValue: third)
            .Op(3, "next", 20, 40, EventType.Info);
        return listing is null ? history : history.Op(3, "read-seq", 100, 110, EventType.Ok, values: listing);
    }

    [Fact]
    public void SequenceNumbersUniqueAndInRealTimeOrderPass()
    {
        // Op 2 overlaps op 3, so either may have the smaller number; op 1 completed before both began.
        Assert.True(SequenceChecker.Check(Sequence(1, 4, 3, [1, 2, 3, 4]).Operations).IsValid);
    }

    [Fact]
    public void SequenceCatchesADuplicateNumber()
    {
        var result = SequenceChecker.Check(Sequence(1, 3, 3).Operations);
        Assert.Equal(Verdict.Invalid, result.Verdict);
        Assert.Contains(result.Problems, p => p.StartsWith("sequence number 3 was given to 2 creates", StringComparison.Ordinal));
    }

    [Fact]
    public void SequenceCatchesANumberSmallerThanOneAlreadyAcknowledged()
    {
        var result = SequenceChecker.Check(Sequence(5, 6, 4).Operations);
        Assert.Equal(Verdict.Invalid, result.Verdict);
        Assert.Contains("got 4 after", result.Problems.Single());
    }

    [Fact]
    public void SequenceCatchesAnAcknowledgedNumberMissingFromTheListing()
    {
        var result = SequenceChecker.Check(Sequence(1, 2, 3, [1, 3]).Operations);
        Assert.Equal(Verdict.Invalid, result.Verdict);
        Assert.StartsWith("acknowledged sequence number 2", result.Problems.Single());
    }

    private static HistoryBuilder Locks(IReadOnlyList<long> log) => new HistoryBuilder()
        .Op(1, "acquire", 0, 10, EventType.Ok, resultValue: 3)
        .Op(1, "fenced", 11, 20, EventType.Ok, invokeValue: 3)
        .Op(1, "fenced", 21, 30, EventType.Info, invokeValue: 3)
        .Op(2, "acquire", 40, 50, EventType.Ok, resultValue: 7)
        .Op(2, "fenced", 51, 60, EventType.Ok, invokeValue: 7)
        .Op(1, "fenced", 55, 65, EventType.Fail, invokeValue: 3)
        .Op(3, "read-fenced", 100, 110, EventType.Ok, values: log);

    [Fact]
    public void LockWithTokensInOrderPasses()
    {
        Assert.True(LockChecker.Check(Locks([3, 3, 7]).Operations).IsValid);
        Assert.True(LockChecker.Check(Locks([3, 7]).Operations).IsValid);
    }

    [Fact]
    public void LockCatchesTwoHoldersAtOnce()
    {
        // Holder 3 wrote after holder 7 had: its lock was gone, yet its fenced write went through.
        var result = LockChecker.Check(Locks([3, 7, 3]).Operations);
        Assert.Equal(Verdict.Invalid, result.Verdict);
        Assert.Contains("two holders at once", result.Problems.Single());
    }

    [Fact]
    public void LockCatchesALostFencedWriteAndATokenNeverGranted()
    {
        Assert.Equal(Verdict.Invalid, LockChecker.Check(Locks([7]).Operations).Verdict);
        var result = LockChecker.Check(Locks([3, 7, 9]).Operations);
        Assert.Contains(result.Problems, p => p.Contains("which no acquire was granted", StringComparison.Ordinal));
    }
}
