using Warden.Testing;

namespace Warden.Cli.Tests;

/// <summary>
/// SASL logins: zkCli.sh given a JAAS Client section through CLIENT_JVMFLAGS against Apache ZooKeeper 3.8, and
/// `warden cli` given the same file as -Djava.security.auth.login.config against Warden, both servers started
/// with a JAAS Server section and the sasl scheme registered. A good password shows SaslAuthenticated and the
/// sasl id; a wrong one shows AuthFailed.
/// </summary>
public sealed partial class GoldenTests
{
    [Theory]
    [InlineData("jaas_password", "whoami")]
    [InlineData("jaas_password", "create /s x sasl:jaasuser:cdrwa\ngetAcl /s\nget /s\nwhoami\n")]
    [InlineData("wrong", "whoami")]
    public async Task SaslLoginMatchesZkCli(string password, string commands)
    {
        string directory = Directory.CreateTempSubdirectory("warden-cli-sasl-").FullName;
        try
        {
            string serverJaas = Path.Combine(directory, "server.conf");
            File.WriteAllText(serverJaas, "Server {\n org.apache.zookeeper.server.auth.DigestLoginModule required\n user_jaasuser=\"jaas_password\";\n};\n");
            string clientJaas = Path.Combine(directory, "client.conf");
            File.WriteAllText(clientJaas, $"Client {{\n org.apache.zookeeper.server.auth.DigestLoginModule required\n username=\"jaasuser\"\n password=\"{password}\";\n}};\n");
            var config = new Dictionary<string, string> { ["authProvider.1"] = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider" };
            var properties = new Dictionary<string, string> { ["java.security.auth.login.config"] = serverJaas };
            await using var apacheServer = await ServerProcess.StartAsync(ServerKind.Apache, config, systemProperties: properties);
            await using var wardenServer = await ServerProcess.StartAsync(ServerKind.Warden, config, systemProperties: properties);

            bool oneCommand = !commands.Contains('\n');
            string[] words = oneCommand ? commands.Split(' ') : [];
            string? script = oneCommand ? null : commands;
            var timeout = TimeSpan.FromSeconds(90);
            var runs = await Task.WhenAll(
                ProcessRunner.RunAsync(InstalledTools.Require(InstalledTools.ZkCli, "zookeeper"), ["-server", apacheServer.ConnectString, .. words],
                    timeout, script, new Dictionary<string, string> { ["CLIENT_JVMFLAGS"] = $"-Djava.security.auth.login.config={clientJaas}" }),
                ProcessRunner.RunAsync("dotnet", [InstalledTools.WardenDll, "cli", $"-Djava.security.auth.login.config={clientJaas}",
                    "-server", wardenServer.ConnectString, .. words], timeout, script));
            Assert.False(runs[0].TimedOut, runs[0].Describe());
            Assert.Contains(password == "wrong" ? "state:AuthFailed" : "state:SaslAuthenticated", runs[0].StandardOutput, StringComparison.Ordinal);
            AssertSame(runs[0], runs[1]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
