using Warden.Consensus.Tests.Simulation;
using Xunit.Abstractions;

namespace Warden.Consensus.Tests;

/// <summary>
/// Randomised runs of the simulator. By default a few hundred seeds run in CI; set WARDEN_SIM_SEEDS (how many) and
/// WARDEN_SIM_FIRST_SEED (where to start) to run thousands, or WARDEN_SIM_SEED to replay one seed.
/// </summary>
public sealed class SimulationTests(ITestOutputHelper output)
{
    private const int DefaultSeeds = 300;

    public static IEnumerable<object[]> SeedBatches()
    {
        int seeds = int.TryParse(Environment.GetEnvironmentVariable("WARDEN_SIM_SEEDS"), out var n) ? n : DefaultSeeds;
        ulong first = ulong.TryParse(Environment.GetEnvironmentVariable("WARDEN_SIM_FIRST_SEED"), out var f) ? f : 1;
        const int batches = 6;
        for (int batch = 0; batch < batches; batch++)
        {
            yield return [first, seeds, batch, batches];
        }
    }

    [Theory]
    [MemberData(nameof(SeedBatches))]
    public void Random_runs_keep_safety_and_recover(ulong first, int seeds, int batch, int batches)
    {
        int runs = 0, serverCoreRuns = 0;
        long commits = 0;
        for (ulong seed = first + (ulong)batch; seed < first + (ulong)seeds; seed += (ulong)batches)
        {
            var config = SimConfig.FromSeed(seed);
            var simulator = new Simulator(seed, config);
            var result = simulator.Run();
            // Seeds that run the server's request loop end by comparing every up replica's tree with the leader's.
            Assert.Equal(config.ServerCoreStateMachine ? 1 : 0, simulator.TreesCompared);
            if (config.ServerCoreStateMachine) serverCoreRuns++;
            output.WriteLine($"seed {seed}: committed {result.Committed}, reported {result.Reported}, messages {result.Messages}, crashes {result.Crashes}, trace {result.TraceHash:x16}");
            Assert.True(result.Committed > 0, $"seed {seed} committed nothing");
            // Connections deliver in order or not at all, so a correct leader never sends a learner anything the
            // protocol forbids; a learner that saw one points at a bug even if safety held.
            Assert.True(result.ProtocolErrors == 0, $"seed {seed} saw {result.ProtocolErrors} protocol errors, first {result.FirstProtocolError}; replay with WARDEN_SIM_SEED={seed}");
            runs++;
            commits += result.Committed;
        }
        output.WriteLine($"{runs} seeds, {commits} commits, {serverCoreRuns} with the request loop as the state machine");
        if (runs >= 4) Assert.InRange(serverCoreRuns, 1, runs - 1);
    }

    /// <summary>
    /// The same runs with broken connections reported to both ends (as a host's failed socket read reports them) and
    /// learners forwarding client syncs; each SYNC must follow the commits of what its leader had proposed.
    /// </summary>
    [Theory]
    [MemberData(nameof(SeedBatches))]
    public void Random_runs_with_reported_disconnects_and_syncs_keep_safety_and_recover(ulong first, int seeds, int batch, int batches)
    {
        int runs = 0, syncs = 0;
        for (ulong seed = first + (ulong)batch; seed < first + (ulong)seeds; seed += (ulong)batches)
        {
            var config = SimConfig.FromSeed(seed) with { ReportDisconnects = true, SyncRequestsPerTick = 0.3 };
            var simulator = new Simulator(seed, config);
            var result = simulator.Run();
            Assert.True(result.Committed > 0, $"seed {seed} committed nothing");
            Assert.True(result.ProtocolErrors == 0, $"seed {seed} saw {result.ProtocolErrors} protocol errors, first {result.FirstProtocolError}");
            runs++;
            syncs += simulator.SyncsAnswered;
        }
        output.WriteLine($"{runs} seeds, {syncs} syncs answered");
        Assert.True(syncs > runs, $"only {syncs} syncs were answered in {runs} runs");
    }

    [Fact]
    public void ReplaySeed()
    {
        var text = Environment.GetEnvironmentVariable("WARDEN_SIM_SEED");
        ulong seed = ulong.TryParse(text, out var s) ? s : 42;
        var result = new Simulator(seed, SimConfig.FromSeed(seed)).Run();
        output.WriteLine($"seed {seed}: {result}");
        Assert.True(result.Committed > 0);
    }

    [Fact]
    public void Same_seed_replays_the_same_run()
    {
        foreach (ulong seed in new ulong[] { 7, 8, 9 })
        {
            var first = new Simulator(seed, SimConfig.FromSeed(seed)).Run();
            var second = new Simulator(seed, SimConfig.FromSeed(seed)).Run();
            Assert.Equal(first.TraceHash, second.TraceHash);
            Assert.Equal(first, second);
        }
        var other = new Simulator(10, SimConfig.FromSeed(7)).Run();
        Assert.NotEqual(new Simulator(7, SimConfig.FromSeed(7)).Run().TraceHash, other.TraceHash);
    }
}
