using System.Net;
using Warden.Testing;

namespace Warden.Console.Tests;

/// <summary>An Apache command URL that takes the console's paths keeps them: the console then stays off.</summary>
public sealed class CommandUrlTests
{
    [Fact]
    public async Task CommandsAtTheRootKeepTheRootAndTheConsoleIsOff()
    {
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden,
            new Dictionary<string, string>
            {
                ["admin.enableServer"] = "true",
                ["admin.serverAddress"] = "127.0.0.1",
                ["admin.serverPort"] = ServerProcess.AnyFreePort,
            },
            systemProperties: new Dictionary<string, string> { ["zookeeper.admin.commandURL"] = "/" });
        int adminPort = server.PortOf("admin.serverPort");
        using var http = new HttpClient { Timeout = ConsoleServer.Timeout };

        string root = await http.GetStringAsync($"http://127.0.0.1:{adminPort}/");
        Assert.Contains("<a href=\"/server_stats\">", root, StringComparison.Ordinal);
        Assert.DoesNotContain("console.js", root, StringComparison.Ordinal);
        using var api = await http.GetAsync($"http://127.0.0.1:{adminPort}/console/api/node?path=/");
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
    }
}
