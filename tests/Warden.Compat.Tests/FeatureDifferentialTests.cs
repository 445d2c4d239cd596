using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Compat.Tests;

/// <summary>
/// The differential test for the 3.5+ features (tests/compat/features.py): ACLs of every scheme with
/// digest, ip and super users, INVALIDACL and NOAUTH, AUTHFAILED, whoAmI, containers and TTL nodes
/// removed by the server's timer, persistent and recursive watches, checkWatches/removeWatches,
/// getEphemerals, getAllChildrenNumber and enforced quotas. Both servers get the same settings; every
/// step's answer and events must match Apache's. WARDEN_FEATURES_SEED / WARDEN_FEATURES_OPS choose the run.
/// </summary>
public sealed class FeatureDifferentialTests(ITestOutputHelper output)
{
    private static readonly TimeSpan DriverTimeout = TimeSpan.FromMinutes(3);

    /// <summary>The super user's password; the driver authenticates as super with it.</summary>
    private const string SuperPassword = "super-secret";

    /// <summary>zoo.cfg keys: unknown keys become zookeeper.&lt;key&gt; system properties on both servers.</summary>
    internal static Dictionary<string, string> FeatureConfig() => new()
    {
        ["extendedTypesEnabled"] = "true",
        ["enforceQuota"] = "true",
        ["DigestAuthenticationProvider.superDigest"] = "super:" +
            Convert.ToBase64String(SHA1.HashData(Encoding.UTF8.GetBytes("super:" + SuperPassword))),
    };

    /// <summary>Apache reads the container check interval only as a -D property; a short one keeps the test fast.</summary>
    internal static Dictionary<string, string> FeatureProperties() => new()
    {
        ["znode.container.checkIntervalMs"] = "100",
    };

    [Fact]
    public async Task SeededFeatureWorkloadMatchesApache()
    {
        var seed = FromEnvironment("WARDEN_FEATURES_SEED", 1);
        var ops = FromEnvironment("WARDEN_FEATURES_OPS", 1500);
        var (oracle, subject) = await Transcripts.StartPairAsync(FeatureConfig(), FeatureProperties());
        await using (oracle)
        await using (subject)
        {
            var directory = Directory.CreateTempSubdirectory("warden-features-");
            try
            {
                var oracleTrace = Path.Combine(directory.FullName, "oracle.jsonl");
                var subjectTrace = Path.Combine(directory.FullName, "subject.jsonl");
                var started = DateTime.UtcNow;
                var runs = await Task.WhenAll(
                    RunAsync(oracle, seed, ops, oracleTrace),
                    RunAsync(subject, seed, ops, subjectTrace));
                output.WriteLine($"seed {seed}, {ops} ops: {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
                Assert.True(runs[0].ExitCode == 0, $"the driver failed against Apache: {runs[0].Describe()}\n{oracle.CapturedOutput}");
                var expected = await File.ReadAllLinesAsync(oracleTrace);
                // The workload must reach what it is meant to cover, or matching proves little.
                foreach (var evidence in new[] { "\"removed by the server\"", "NoAuthError", "InvalidACLError", "QuotaExceededError",
                                                 "\"digest:super\"", "[-4,-115]", "[1,3,", "NoWatcherError" })
                {
                    Assert.True(expected.Any(l => l.Contains(evidence, StringComparison.Ordinal)),
                        $"seed {seed}: the Apache trace never shows {evidence}; the workload no longer covers it");
                }
                var actual = File.Exists(subjectTrace) ? await File.ReadAllLinesAsync(subjectTrace) : [];
                var difference = DifferentialTests.FirstDifference(expected, actual, seed, ops, subject.Kind.ToString());
                Assert.True(difference is null, $"{difference}driver: {runs[1].Describe()}");
                Assert.True(runs[1].ExitCode == 0, $"the driver failed against {subject}: {runs[1].Describe()}");
            }
            finally
            {
                directory.Delete(recursive: true);
            }
        }
    }

    private static Task<ProcessResult> RunAsync(ServerProcess server, int seed, int ops, string tracePath) =>
        Transcripts.RunPythonAsync(
            "features.py",
            ["--server", server.ConnectString, "--seed", seed.ToString(CultureInfo.InvariantCulture),
             "--ops", ops.ToString(CultureInfo.InvariantCulture), "--out", tracePath],
            DriverTimeout);

    private static int FromEnvironment(string name, int fallback)
    {
        var value = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrEmpty(value) ? fallback : int.Parse(value, CultureInfo.InvariantCulture);
    }
}
