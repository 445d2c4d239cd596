using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Compat.Tests;

/// <summary>
/// The seeded differential workload (four kazoo sessions, every reply and watch event) against a 3-server Apache
/// ZooKeeper 3.8 ensemble and a 3-server Warden ensemble. The sessions connect to server 1 of each, a follower
/// or the leader as the election went, so writes are forwarded and committed through the quorum and reads are
/// served from that member's copy; the answers must still be the same, zxids included.
/// WARDEN_DIFF_SEED and WARDEN_ENSEMBLE_DIFF_OPS choose the run (defaults 1 and 2000).
/// </summary>
public sealed class EnsembleDifferentialTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SeededWorkloadOnAThreeServerEnsembleMatchesApache()
    {
        var seed = DifferentialTests.FromEnvironment("WARDEN_DIFF_SEED", 1);
        var ops = DifferentialTests.FromEnvironment("WARDEN_ENSEMBLE_DIFF_OPS", 2000);
        // tickTime 2000, as the default: the workload's sessions must not expire while a loaded machine runs it.
        var startApache = EnsembleProcess.StartAsync(3, ServerKind.Apache, tickTimeMs: 2000);
        var startWarden = EnsembleProcess.StartAsync(3, ServerKind.Warden, tickTimeMs: 2000);
        await using var apache = await startApache;
        await using var warden = await startWarden;
        var oracle = new DriverTarget("Apache", apache[1].ConnectString, apache.DescribeOutputs);
        var subject = new DriverTarget("Warden", warden[1].ConnectString, warden.DescribeOutputs);
        await DifferentialTests.CompareDriverTracesAsync("differential.py", oracle, subject, seed, ops, TimeSpan.FromMinutes(5), output);
    }
}
