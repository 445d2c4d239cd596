using System.Net;
using System.Net.Sockets;
using Warden.Testing;

namespace Warden.Console.Tests;

/// <summary>An Apache command URL that takes the console's paths keeps them: the console then stays off.</summary>
public sealed class CommandUrlTests
{
    [Fact]
    public async Task CommandsAtTheRootKeepTheRootAndTheConsoleIsOff()
    {
        int adminPort;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            adminPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden,
            new Dictionary<string, string>
            {
                ["admin.enableServer"] = "true",
                ["admin.serverAddress"] = "127.0.0.1",
                ["admin.serverPort"] = adminPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            systemProperties: new Dictionary<string, string> { ["zookeeper.admin.commandURL"] = "/" });
        using var http = new HttpClient { Timeout = ConsoleServer.Timeout };

        string root = await http.GetStringAsync($"http://127.0.0.1:{adminPort}/");
        Assert.Contains("<a href=\"/server_stats\">", root, StringComparison.Ordinal);
        Assert.DoesNotContain("console.js", root, StringComparison.Ordinal);
        using var api = await http.GetAsync($"http://127.0.0.1:{adminPort}/console/api/node?path=/");
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
    }
}
