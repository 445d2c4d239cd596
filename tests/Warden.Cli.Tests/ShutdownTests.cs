using Warden.Client;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Cli.Tests;

/// <summary>`warden server` stopped by SIGTERM (systemd's stop, docker stop) or Ctrl-C: a clean exit and one log line.</summary>
public sealed class ShutdownTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SigtermStopsTheServerCleanlyWithOneLine()
    {
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden);
        await using (var client = await ZooKeeperClient.ConnectAsync(server.ConnectString, TimeSpan.FromSeconds(10)))
        {
            await client.CreateAsync("/before-stop", [1]);
        }
        int linesBefore = server.CapturedOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

        var kill = await ProcessRunner.RunAsync("kill", ["-TERM", server.ProcessId.ToString()], TimeSpan.FromSeconds(10));
        Assert.True(kill.ExitCode == 0, kill.Describe());
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int exitCode = await server.WaitForExitAsync(bound.Token);
        output.WriteLine(server.CapturedOutput);

        Assert.Equal(0, exitCode);
        string[] after = server.CapturedOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)[linesBefore..];
        string line = Assert.Single(after, l => l.Contains("Warden stopped", StringComparison.Ordinal));
        Assert.Matches(@"Warden stopped on SIGTERM in \d+ ms; every acknowledged write is on disk$", line.TrimEnd());
    }
}
