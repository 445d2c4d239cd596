using Warden.Client;
using Warden.Protocol;
using Warden.Testing;

namespace Warden.Compat.Tests;

/// <summary>
/// SASL (DIGEST-MD5) against Apache ZooKeeper 3.8 and Warden started alike, the way kazoo's own test harness
/// starts its servers for its SASL tests: authProvider.1=SASLAuthenticationProvider in zoo.cfg, a JAAS file
/// with a Server section given as -Djava.security.auth.login.config, and a super digest.
/// kazoo's test_sasl.py runs unchanged against each (tests/compat/kazoo_suite.py), and so does a
/// Warden.Client login, a sasl ACL and a refused password.
/// </summary>
public sealed class SaslTests
{
    private const string Jaas = """
        Server {
            org.apache.zookeeper.server.auth.DigestLoginModule required
            user_super="super_secret"
            user_jaasuser="jaas_password";
        };
        """;

    [Fact]
    public async Task KazooSaslTestsPassAgainstApacheAndWarden()
    {
        using var jaas = new JaasDirectory();
        var (oracle, subject) = await Transcripts.StartPairAsync(jaas.ZooCfg, jaas.SystemProperties);
        await using (oracle)
        await using (subject)
        {
            var runs = await Task.WhenAll(RunSuiteAsync(oracle), RunSuiteAsync(subject));
            Assert.True(runs[0].ExitCode == 0, $"kazoo's test_sasl.py failed against Apache: {runs[0].Describe()}");
            // The DIGEST-MD5 tests must have run and passed, not been skipped (a missing pure-sasl skips them).
            Assert.Contains("TestSASLDigestAuthentication::test_connect_sasl_auth PASSED", runs[0].StandardOutput, StringComparison.Ordinal);
            Assert.Contains("TestSASLDigestAuthentication::test_invalid_sasl_auth PASSED", runs[0].StandardOutput, StringComparison.Ordinal);
            Transcripts.AssertSame("kazoo test_sasl.py", "Apache", runs[0].StandardOutput, subject.Kind.ToString(),
                runs[1].StandardOutput + (runs[1].ExitCode == 0 ? "" : $"<pytest exit code {runs[1].ExitCode}>\n{runs[1].StandardError}"));
        }
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task WardenClientLogsInAndSaslAclsHoldOthersOut(ServerKind kind)
    {
        using var jaas = new JaasDirectory();
        await using var server = await ServerProcess.StartAsync(kind, jaas.ZooCfg, systemProperties: jaas.SystemProperties);
        await using var user = await ZooKeeperClient.ConnectAsync(Options(server, new SaslLogin("jaasuser", "jaas_password")));
        Assert.Contains(new ClientInfo("sasl", "jaasuser"), await user.WhoAmIAsync());
        await user.CreateAsync("/sasl-only", [1], CreateMode.Persistent, [new Acl(Perms.All, new Id("sasl", "jaasuser"))]);
        Assert.Equal([1], (await user.GetDataAsync("/sasl-only")).Data);

        await using var anonymous = await ZooKeeperClient.ConnectAsync(Options(server, null));
        var refused = await Assert.ThrowsAsync<ZooKeeperException>(() => anonymous.GetDataAsync("/sasl-only"));
        Assert.Equal(ErrorCode.NoAuth, refused.Code);
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task WardenClientWithAWrongPasswordEndsInAuthFailed(ServerKind kind)
    {
        using var jaas = new JaasDirectory();
        await using var server = await ServerProcess.StartAsync(kind, jaas.ZooCfg, systemProperties: jaas.SystemProperties);
        var error = await Assert.ThrowsAsync<ZooKeeperException>(
            () => ZooKeeperClient.ConnectAsync(Options(server, new SaslLogin("jaasuser", "wrong"))));
        Assert.Equal(ErrorCode.AuthFailed, error.Code);
    }

    private static ZooKeeperClientOptions Options(ServerProcess server, SaslLogin? login) => new()
    {
        ConnectString = server.ConnectString,
        SessionTimeout = TimeSpan.FromSeconds(10),
        Sasl = login,
    };

    private static Task<ProcessResult> RunSuiteAsync(ServerProcess server) =>
        Transcripts.RunPythonAsync("kazoo_suite.py", ["--server", server.ConnectString, "--module", "test_sasl"], TimeSpan.FromSeconds(120));

    /// <summary>A temporary directory holding the JAAS file, and the settings kazoo's harness gives its servers.</summary>
    private sealed class JaasDirectory : IDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("warden-sasl-").FullName;

        public JaasDirectory()
        {
            string path = Path.Combine(_directory, "jaas.conf");
            File.WriteAllText(path, Jaas);
            SystemProperties = new Dictionary<string, string>
            {
                ["java.security.auth.login.config"] = path,
                // kazoo's harness sets the super user's password to "test" this way.
                ["zookeeper.DigestAuthenticationProvider.superDigest"] = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
            };
        }

        public IReadOnlyDictionary<string, string> ZooCfg { get; } = new Dictionary<string, string>
        {
            ["authProvider.1"] = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
        };

        public IReadOnlyDictionary<string, string> SystemProperties { get; }

        public void Dispose() => Directory.Delete(_directory, recursive: true);
    }
}
