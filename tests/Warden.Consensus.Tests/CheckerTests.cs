using Warden.Consensus.Tests.Simulation;
using Warden.Protocol;

namespace Warden.Consensus.Tests;

/// <summary>
/// Each checker is shown to catch the bug it exists for: fed a broken report directly, and (for the end-to-end
/// rules) driven by a simulator with a bug planted in its host, disk or network.
/// </summary>
public sealed class CheckerTests
{
    private static readonly ServerId S1 = new(1), S2 = new(2), S3 = new(3);

    private static Txn T(int epoch, int counter, string data) => new(Zxid.From(epoch, counter), System.Text.Encoding.UTF8.GetBytes(data));

    [Fact]
    public void One_txn_per_zxid_catches_two_txns_at_one_zxid()
    {
        var checker = new SafetyChecker(2);
        checker.OnLogged(S1, T(1, 1, "a"));
        checker.OnLogged(S2, T(1, 1, "a"));
        var error = Assert.Throws<SafetyViolationException>(() => checker.OnLogged(S3, T(1, 1, "b")));
        Assert.Equal(SafetyChecker.OneTxnPerZxid, error.Rule);
    }

    [Fact]
    public void One_history_catches_a_replica_that_diverges_skips_or_goes_back()
    {
        var checker = new SafetyChecker(2);
        checker.OnApplied(S1, 0, T(1, 1, "a"));
        checker.OnApplied(S1, 1, T(1, 2, "b"));
        checker.OnApplied(S2, 0, T(1, 1, "a"));
        Assert.Equal(SafetyChecker.OneHistory, Assert.Throws<SafetyViolationException>(() => checker.OnApplied(S2, 1, T(1, 2, "other"))).Rule);
        Assert.Equal(SafetyChecker.OneHistory, Assert.Throws<SafetyViolationException>(() => checker.OnApplied(S3, 5, T(1, 9, "gap"))).Rule);
        Assert.Equal(SafetyChecker.OneHistory, Assert.Throws<SafetyViolationException>(() => checker.OnApplied(S1, 2, T(1, 2, "again"))).Rule);
        Assert.Equal(2, checker.HistoryLength);
    }

    [Fact]
    public void Committed_is_durable_catches_a_txn_held_by_less_than_a_quorum()
    {
        var checker = new SafetyChecker(2);
        var txn = T(1, 1, "a");
        checker.OnApplied(S1, 0, txn);
        DurableView Holding(bool holds)
        {
            var view = new DurableView();
            if (holds) view.Apply(new AppendTxn(txn));
            return view;
        }
        checker.CheckDurable([Holding(true), Holding(true), Holding(false)]);
        var error = Assert.Throws<SafetyViolationException>(() => checker.CheckDurable([Holding(true), Holding(false), Holding(false)]));
        Assert.Equal(SafetyChecker.CommittedIsDurable, error.Rule);
    }

    [Fact]
    public void Committed_is_durable_rechecks_old_txns_after_a_truncation()
    {
        var checker = new SafetyChecker(2);
        var txn = T(1, 1, "a");
        checker.OnApplied(S1, 0, txn);
        var disks = new[] { new DurableView(), new DurableView(), new DurableView() };
        disks[0].Apply(new AppendTxn(txn));
        disks[1].Apply(new AppendTxn(txn));
        checker.CheckDurable(disks);
        disks[1].Apply(new TruncateLog(Zxid.Zero));
        Assert.Throws<SafetyViolationException>(() => checker.CheckDurable(disks));
    }

    [Fact]
    public void Reported_commit_is_kept_catches_a_replica_that_lost_it()
    {
        var checker = new SafetyChecker(2);
        var a = T(1, 1, "a");
        var b = T(1, 2, "b");
        checker.OnApplied(S1, 0, a);
        checker.OnApplied(S1, 1, b);
        checker.OnReported(b);
        checker.CheckReportedKept(S1, [a, b]);
        var error = Assert.Throws<SafetyViolationException>(() => checker.CheckReportedKept(S2, [a]));
        Assert.Equal(SafetyChecker.ReportedIsKept, error.Rule);
        Assert.Throws<SafetyViolationException>(() => checker.OnReported(T(1, 3, "never committed")));
    }

    [Fact]
    public void Simulator_with_a_host_that_acks_before_syncing_is_caught()
    {
        var failure = FirstFailure(new SimConfig { HostSkipsSync = true }, seeds: 20);
        Assert.Contains(SafetyChecker.CommittedIsDurable, failure.Message);
        Assert.Contains("replay:", failure.Message);
    }

    [Fact]
    public void Simulator_with_a_disk_that_lies_about_sync_is_caught()
    {
        var failure = FirstFailure(new SimConfig { DiskLiesAboutSync = true }, seeds: 20);
        Assert.IsType<SafetyViolationException>(failure.InnerException);
    }

    [Fact]
    public void Simulator_with_a_disk_that_forgets_epochs_is_caught()
    {
        // Servers that restart without their epochs can elect a leader whose history misses committed txns, and
        // can reuse old epochs; the checkers (or the core's own invariants) must stop the run.
        var failure = FirstFailure(new SimConfig { DiskForgetsEpochs = true }, seeds: 40);
        Assert.True(failure.InnerException is SafetyViolationException or InvariantViolationException, failure.Message);
    }

    [Fact]
    public void Liveness_check_catches_a_network_that_never_heals()
    {
        var failure = FirstFailure(new SimConfig { BreakNetworkForLiveness = true, SafetyTicks = 20, LivenessTicks = 60 }, seeds: 1);
        Assert.IsType<LivenessViolationException>(failure.InnerException);
        Assert.Contains("seed", failure.Message);
    }

    [Fact]
    public void Same_planted_bug_runs_clean_without_the_bug()
    {
        // The control for the tests above: the same shapes of run pass when nothing is planted.
        for (ulong seed = 1; seed <= 5; seed++)
        {
            var config = SimConfig.FromSeed(seed);
            Assert.True(new Simulator(seed, config).Run().Committed > 0);
        }
    }

    private static SimulationFailedException FirstFailure(SimConfig planted, int seeds)
    {
        for (ulong seed = 1; seed <= (ulong)seeds; seed++)
        {
            var config = SimConfig.FromSeed(seed) with
            {
                HostSkipsSync = planted.HostSkipsSync,
                DiskLiesAboutSync = planted.DiskLiesAboutSync,
                DiskForgetsEpochs = planted.DiskForgetsEpochs,
                BreakNetworkForLiveness = planted.BreakNetworkForLiveness,
                SafetyTicks = planted.BreakNetworkForLiveness ? planted.SafetyTicks : SimConfig.FromSeed(seed).SafetyTicks,
                LivenessTicks = planted.BreakNetworkForLiveness ? planted.LivenessTicks : SimConfig.FromSeed(seed).LivenessTicks,
            };
            try
            {
                new Simulator(seed, config).Run();
            }
            catch (SimulationFailedException failure)
            {
                return failure;
            }
        }
        throw new Xunit.Sdk.XunitException($"no run of {seeds} seeds caught the planted bug");
    }

    /// <summary>In the seeds that run the request loop, the end of the run compares every replica's tree with the leader's.</summary>
    [Fact]
    public void Same_trees_catches_a_request_loop_that_applies_a_txn_otherwise()
    {
        ulong seed = 6; // (6 / 6) % 2 == 1: a seed that runs the request loop
        var config = SimConfig.FromSeed(seed);
        Assert.True(config.ServerCoreStateMachine);
        var clean = new Simulator(seed, config);
        clean.Run();
        Assert.Equal(1, clean.TreesCompared);
        var error = Assert.Throws<SimulationFailedException>(() => new Simulator(seed, config with { LoopCorruptsData = true }).Run());
        Assert.Contains("holds another tree", error.Message);
    }
}
