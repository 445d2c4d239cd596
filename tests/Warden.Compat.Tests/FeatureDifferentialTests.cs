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
        var seed = DifferentialTests.FromEnvironment("WARDEN_FEATURES_SEED", 1);
        var ops = DifferentialTests.FromEnvironment("WARDEN_FEATURES_OPS", 1500);
        var (oracle, subject) = await Transcripts.StartPairAsync(FeatureConfig(), FeatureProperties());
        await using (oracle)
        await using (subject)
        {
            await DifferentialTests.CompareDriverTracesAsync("features.py", oracle, subject, seed, ops, DriverTimeout, output,
                expected =>
                {
                    // The workload must reach what it is meant to cover, or matching proves little.
                    foreach (var evidence in new[] { "\"removed by the server\"", "NoAuthError", "InvalidACLError", "QuotaExceededError",
                                                     "\"digest:super\"", "[-4,-115]", "[1,3,", "NoWatcherError" })
                    {
                        Assert.True(expected.Any(l => l.Contains(evidence, StringComparison.Ordinal)),
                            $"seed {seed}: the Apache trace never shows {evidence}; the workload no longer covers it");
                    }
                });
        }
    }
}
