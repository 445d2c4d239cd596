using System.Globalization;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Compat.Tests;

/// <summary>
/// The differential test: one seeded random workload from four kazoo sessions against Apache
/// ZooKeeper 3.8 and against the subject; every step's answer and watch events must match.
/// WARDEN_DIFF_SEED and WARDEN_DIFF_OPS choose the run (defaults 1 and 5000).
/// </summary>
public sealed class DifferentialTests(ITestOutputHelper output)
{
    private static readonly TimeSpan DriverTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task SeededWorkloadMatchesApache()
    {
        var seed = FromEnvironment("WARDEN_DIFF_SEED", 1);
        var ops = FromEnvironment("WARDEN_DIFF_OPS", 5000);
        Assert.True(ops > 0, "WARDEN_DIFF_OPS must be positive");
        var (oracle, subject) = await Transcripts.StartPairAsync();
        await using (oracle)
        await using (subject)
        {
            await CompareAsync(oracle, subject, seed, ops);
        }
    }

    /// <summary>
    /// The harness is only worth something if the oracle agrees with itself: two Apache servers
    /// given the same seed must produce identical traces. A smaller run, on every test run.
    /// </summary>
    [Fact]
    public async Task TwoApacheRunsOfOneSeedAgree()
    {
        var seed = FromEnvironment("WARDEN_DIFF_SEED", 1) + 1000;
        var startFirst = ServerProcess.StartAsync(ServerKind.Apache);
        var startSecond = ServerProcess.StartAsync(ServerKind.Apache);
        await using var first = await startFirst;
        await using var second = await startSecond;
        await CompareAsync(first, second, seed, 1000);
    }

    private async Task CompareAsync(ServerProcess oracle, ServerProcess subject, int seed, int ops)
    {
        var directory = Directory.CreateTempSubdirectory("warden-diff-");
        try
        {
            var oracleTrace = Path.Combine(directory.FullName, "oracle.jsonl");
            var subjectTrace = Path.Combine(directory.FullName, "subject.jsonl");
            var started = DateTime.UtcNow;
            var runs = await Task.WhenAll(
                RunAsync(oracle, seed, ops, oracleTrace),
                RunAsync(subject, seed, ops, subjectTrace));
            output.WriteLine($"seed {seed}, {ops} ops: both runs took {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
            Assert.True(runs[0].ExitCode == 0,
                $"the driver failed against the oracle {oracle}: {runs[0].Describe()}\n--- server ---\n{oracle.CapturedOutput}");

            var expected = await File.ReadAllLinesAsync(oracleTrace);
            var actual = File.Exists(subjectTrace) ? await File.ReadAllLinesAsync(subjectTrace) : [];
            for (var i = 0; i < expected.Length; i++)
            {
                if (i >= actual.Length)
                {
                    Assert.Fail(
                        $"seed {seed}: the {subject.Kind} trace ends after {actual.Length} of {expected.Length} steps.\n" +
                        $"next expected: {expected[i]}\ndriver: {runs[1].Describe()}\n" +
                        $"--- {subject.Kind} server output (tail) ---\n{Tail(subject.CapturedOutput)}");
                }
                if (expected[i] != actual[i])
                {
                    Assert.Fail(
                        $"seed {seed} (WARDEN_DIFF_SEED={seed} WARDEN_DIFF_OPS={ops} reproduces it): first difference at trace line {i + 1}\n" +
                        $"Apache:  {expected[i]}\n{subject.Kind,-7}: {actual[i]}\n" +
                        (i > 0 ? $"previous step (equal): {expected[i - 1]}\n" : "") +
                        $"--- {subject.Kind} server output (tail) ---\n{Tail(subject.CapturedOutput)}");
                }
            }
            Assert.True(actual.Length == expected.Length,
                $"seed {seed}: the {subject.Kind} trace has {actual.Length - expected.Length} extra lines");
            Assert.True(runs[1].ExitCode == 0, $"the driver failed against {subject}: {runs[1].Describe()}");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static Task<ProcessResult> RunAsync(ServerProcess server, int seed, int ops, string tracePath) =>
        Transcripts.RunPythonAsync(
            "differential.py",
            ["--server", server.ConnectString, "--seed", seed.ToString(CultureInfo.InvariantCulture),
             "--ops", ops.ToString(CultureInfo.InvariantCulture), "--out", tracePath],
            DriverTimeout);

    private static string Tail(string text) => text.Length <= 6000 ? text : "...\n" + text[^6000..];

    private static int FromEnvironment(string name, int fallback)
    {
        var value = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrEmpty(value) ? fallback : int.Parse(value, CultureInfo.InvariantCulture);
    }
}
