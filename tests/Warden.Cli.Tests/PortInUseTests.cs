using System.Net;
using System.Net.Sockets;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Cli.Tests;

/// <summary>
/// `warden server` on a client port someone else holds: the one-line refusal says who holds it, asking srvr
/// (the word Apache answers whatever its whitelist says; its default whitelist refuses ruok).
/// </summary>
public sealed class PortInUseTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunBound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task APortHeldByAServerNamesTheServer(ServerKind kind)
    {
        string holder = kind == ServerKind.Apache
            ? "a ZooKeeper server (3.8.0, standalone) is already running there"
            : $"a Warden server (3.8.0-warden-{Warden.Server.WardenVersion.Number}, standalone) is already running there";
        await using var server = await ServerProcess.StartAsync(kind);
        int port = int.Parse(server.ConnectString.Split(':')[1]);

        var result = await WardenServerOnPortAsync(port);

        Assert.True(result.ExitCode != 0, result.Describe());
        Assert.Contains($"warden: client port {port} on 127.0.0.1 is already in use: {holder}; stop it, or set a free clientPort in zoo.cfg\n",
            result.StandardError);
    }

    [Fact]
    public async Task APortHeldBySomethingElseIsSaidToBeAnotherProgram()
    {
        // Listens but never accepts: the probe's connection waits in the backlog and srvr is never answered.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            string message = await PortInUse.DescribeAsync(new IPEndPoint(IPAddress.Loopback, port), TimeSpan.FromMilliseconds(300));
            Assert.Equal($"client port {port} on 127.0.0.1 is already in use: another program is using it; stop it, or set a free clientPort in zoo.cfg",
                message);
        }
        finally
        {
            listener.Stop();
        }
    }

    private async Task<ProcessResult> WardenServerOnPortAsync(int port)
    {
        string directory = Directory.CreateTempSubdirectory("warden-port-in-use-").FullName;
        try
        {
            string config = Path.Combine(directory, "zoo.cfg");
            await File.WriteAllTextAsync(config,
                $"tickTime=2000\ndataDir={Path.Combine(directory, "data")}\nclientPort={port}\nclientPortAddress=127.0.0.1\n");
            var result = await ProcessRunner.RunAsync("dotnet", [InstalledTools.WardenDll, "server", config], RunBound);
            output.WriteLine(result.Describe());
            return result;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
