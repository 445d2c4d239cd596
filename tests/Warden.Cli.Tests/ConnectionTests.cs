using System.Net;
using System.Net.Sockets;
using Warden.Testing;

namespace Warden.Cli.Tests;

/// <summary>
/// What a person sees when there is no server, or when it goes away under the shell: one line that says
/// what happened and what to do, never a stack trace; the shell carries on and picks the session up again.
/// </summary>
public sealed class ConnectionTests
{
    private const string Refused = "connection refused; is a server running there? start one with \"warden server\"";

    private static void AssertNoStackTrace(string text)
    {
        Assert.DoesNotContain("Exception", text);
        Assert.DoesNotContain("   at ", text);
    }

    [Fact]
    public async Task OneCommandAgainstNoServerSaysSoInOneLine()
    {
        using var dead = new DeadPort();
        int port = dead.Port;
        var run = await ProcessRunner.RunAsync("dotnet", [InstalledTools.WardenDll, "cli", "-server", $"127.0.0.1:{port}", "ls", "/"], TimeSpan.FromSeconds(60));
        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"cannot connect to 127.0.0.1:{port}: {Refused}", run.StandardError.Trim());
        Assert.Equal($"Connecting to 127.0.0.1:{port}", run.StandardOutput.Trim());
    }

    [Fact]
    public async Task WaitForConnectionGivesUpAfterTheTimeoutWithTheReason()
    {
        using var dead = new DeadPort();
        int port = dead.Port;
        var run = await ProcessRunner.RunAsync("dotnet",
            [InstalledTools.WardenDll, "cli", "-server", $"127.0.0.1:{port}", "-timeout", "1500", "-waitforconnection", "ls", "/"], TimeSpan.FromSeconds(60));
        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"cannot connect to 127.0.0.1:{port}: {Refused}", run.StandardError.Trim());
        AssertNoStackTrace(run.StandardOutput);
    }

    [Fact]
    public async Task AnUnknownHostIsNamed()
    {
        var run = await ProcessRunner.RunAsync("dotnet", [InstalledTools.WardenDll, "cli", "-server", "no-such-host.invalid:2181", "ls", "/"], TimeSpan.FromSeconds(60));
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("cannot connect to no-such-host.invalid:2181: no such host; check the name in -server", run.StandardError.Trim());
    }

    [Fact]
    public async Task AScriptCarriesOnWhileTheServerIsStoppedAndRestarted()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("warden-cli-restart-").FullName;
        try
        {
            var config = new Dictionary<string, string> { ["dataDir"] = dataDirectory };
            var first = await ServerProcess.StartAsync(ServerKind.Warden, config);
            int port = first.ClientPort;
            await using var cli = CliProcess.Start("-server", first.ConnectString, "-timeout", "20000");
            await cli.SendAsync("create /kept x");
            await cli.WaitForAsync(c => c.Error, "Created /kept");

            await first.DisposeAsync();
            await cli.WaitForAsync(c => c.Output, "WatchedEvent state:Disconnected type:None path:null");
            await cli.SendAsync("ls /");
            await cli.WaitForAsync(c => c.Error, $"cannot connect to 127.0.0.1:{port}: {Refused}");

            config["clientPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await using var second = await ServerProcess.StartAsync(ServerKind.Warden, config);
            // The shell's session comes back by itself (resumed, as its timeout has not run out).
            await cli.WaitForAsync(c => c.Output, "WatchedEvent state:SyncConnected type:None path:null", times: 2);
            await cli.SendAsync("get /kept");
            await cli.WaitForAsync(c => c.Output, "\nx\n");
            await cli.SendAsync("quit");
            int exitCode = await cli.FinishAsync();
            Assert.Equal(0, exitCode);
            AssertNoStackTrace(cli.Output + cli.Error);
            Assert.Equal(1, CliProcess.Occurrences(cli.Error, "cannot connect"));
        }
        finally
        {
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
