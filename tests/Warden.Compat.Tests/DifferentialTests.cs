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

    private Task CompareAsync(ServerProcess oracle, ServerProcess subject, int seed, int ops) =>
        CompareDriverTracesAsync("differential.py", oracle, subject, seed, ops, DriverTimeout, output);

    /// <summary>
    /// Runs a seeded trace driver against both servers at once and asserts the traces are equal. Before
    /// comparing, <paramref name="checkOracleTrace"/> may assert that the oracle's trace covers what the
    /// workload is meant to reach.
    /// </summary>
    internal static Task CompareDriverTracesAsync(string driver, ServerProcess oracle, ServerProcess subject,
        int seed, int ops, TimeSpan timeout, ITestOutputHelper output, Action<string[]>? checkOracleTrace = null) =>
        CompareDriverTracesAsync(driver, DriverTarget.Of(oracle), DriverTarget.Of(subject), seed, ops, timeout, output, checkOracleTrace);

    /// <summary>The same comparison for any pair of targets, such as two ensembles given by their connect strings.</summary>
    internal static async Task CompareDriverTracesAsync(string driver, DriverTarget oracle, DriverTarget subject,
        int seed, int ops, TimeSpan timeout, ITestOutputHelper output, Action<string[]>? checkOracleTrace = null)
    {
        var directory = Directory.CreateTempSubdirectory("warden-diff-");
        try
        {
            var oracleTrace = Path.Combine(directory.FullName, "oracle.jsonl");
            var subjectTrace = Path.Combine(directory.FullName, "subject.jsonl");
            var started = DateTime.UtcNow;
            var runs = await Task.WhenAll(
                RunDriverAsync(driver, oracle, seed, ops, oracleTrace, timeout),
                RunDriverAsync(driver, subject, seed, ops, subjectTrace, timeout));
            output.WriteLine($"{driver}: seed {seed}, {ops} ops, {oracle} vs {subject}: both runs took {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
            Assert.True(runs[0].ExitCode == 0,
                $"the driver failed against the oracle {oracle}: {runs[0].Describe()}\n--- server ---\n{oracle.Output()}");

            var expected = await File.ReadAllLinesAsync(oracleTrace);
            checkOracleTrace?.Invoke(expected);
            var actual = File.Exists(subjectTrace) ? await File.ReadAllLinesAsync(subjectTrace) : [];
            var difference = FirstDifference(expected, actual, seed, ops, subject.Kind);
            if (difference is not null)
            {
                Assert.Fail($"{difference}driver: {runs[1].Describe()}\n" +
                            $"--- {subject.Kind} server output (tail) ---\n{Tail(subject.Output())}");
            }
            Assert.True(runs[1].ExitCode == 0, $"the driver failed against {subject}: {runs[1].Describe()}");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Null when the traces are equal; otherwise the seed, the first differing step with both
    /// answers, and the step before it (equal), which is what it takes to start debugging.
    /// </summary>
    internal static string? FirstDifference(string[] expected, string[] actual, int seed, int ops, string subjectName)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            if (i >= actual.Length)
            {
                return $"seed {seed}: the {subjectName} trace ends after {actual.Length} of {expected.Length} lines.\n" +
                       $"next expected: {expected[i]}\n";
            }
            if (expected[i] != actual[i])
            {
                return $"seed {seed} (WARDEN_DIFF_SEED={seed} WARDEN_DIFF_OPS={ops} reproduces it): first difference at trace line {i + 1}\n" +
                       $"Apache:  {expected[i]}\n{subjectName,-7}: {actual[i]}\n" +
                       (i > 0 ? $"previous step (equal): {expected[i - 1]}\n" : "");
            }
        }
        return actual.Length == expected.Length
            ? null
            : $"seed {seed}: the {subjectName} trace has {actual.Length - expected.Length} extra lines, the first: {actual[expected.Length]}\n";
    }

    private static Task<ProcessResult> RunDriverAsync(string driver, DriverTarget server, int seed, int ops, string tracePath, TimeSpan timeout) =>
        Transcripts.RunPythonAsync(
            driver,
            ["--server", server.ConnectString, "--seed", seed.ToString(CultureInfo.InvariantCulture),
             "--ops", ops.ToString(CultureInfo.InvariantCulture), "--out", tracePath],
            timeout);

    private static string Tail(string text) => text.Length <= 6000 ? text : "...\n" + text[^6000..];

    internal static int FromEnvironment(string name, int fallback)
    {
        var value = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrEmpty(value) ? fallback : int.Parse(value, CultureInfo.InvariantCulture);
    }
}

/// <summary>What a trace driver runs against: a name for messages, a connect string, and the servers' output.</summary>
internal sealed record DriverTarget(string Kind, string ConnectString, Func<string> Output)
{
    public static DriverTarget Of(ServerProcess server) => new(server.Kind.ToString(), server.ConnectString, () => server.CapturedOutput) { Description = server.ToString() };

    public string Description { get; init; } = "";

    public override string ToString() => Description.Length > 0 ? Description : $"{Kind} at {ConnectString}";
}
