using Warden.Faults.Tests.Checkers;
using Warden.Faults.Tests.History;

namespace Warden.Faults.Tests.CheckerTests;

/// <summary>
/// What fault runs hold reads to (ZooKeeper's promise: a session never goes back), and the register checker
/// without reads still catching lost writes.
/// </summary>
public sealed class SessionOrderCheckerTests
{
    [Fact]
    public void SessionThatNeverGoesBackPassesEvenWhenAnotherSessionLags()
    {
        // Process 2 reads an old version after process 1's write completed: not linearizable, but allowed.
        var history = new HistoryBuilder().Write(1, "k", 0, 10, 5, 1).Read(2, "k", 20, 30, 0, 0).Read(2, "k", 40, 50, 5, 1);
        Assert.True(SessionOrderChecker.Check(history.Operations).IsValid);
        Assert.True(RegisterChecker.Check(history.Operations, includeReads: false).IsValid);
        Assert.Equal(Verdict.Invalid, RegisterChecker.Check(history.Operations, includeReads: true).Verdict);
    }

    [Fact]
    public void PlantedReadGoingBackInOneSessionIsCaught()
    {
        var history = new HistoryBuilder().Write(1, "k", 0, 10, 5, 1).Read(1, "k", 20, 30, 0, 0);
        var result = SessionOrderChecker.Check(history.Operations);
        Assert.Equal(Verdict.Invalid, result.Verdict);
        Assert.Contains("after the same session had seen 1", result.Problems.Single());
    }

    [Fact]
    public void WritesAloneStillCatchALostAcknowledgedWrite()
    {
        // Two compare-and-sets from version 0, one after the other: the first one's write was lost.
        var history = new HistoryBuilder().Cas(1, "k", 0, 10, 0, 5).Cas(2, "k", 20, 30, 0, 6);
        Assert.Equal(Verdict.Invalid, RegisterChecker.Check(history.Operations, includeReads: false).Verdict);
    }
}
