using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Warden.Client;
using Warden.Protocol;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Admin.Tests;

/// <summary>
/// A standalone Warden's AdminServer against what Apache ZooKeeper 3.8.0 answers on its own: every command, by
/// every name, with the same JSON keys; and the same figures as the four-letter words.
/// </summary>
public sealed class StandaloneAdminTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task EveryCommandAnswersWithApachesKeys()
    {
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden, ApacheAdmin.AdminOnAnyFreePort());
        int adminPort = server.PortOf("admin.serverPort");
        await using var client = await ClientWithWatchesAsync(server);
        using var http = new HttpClient { Timeout = Timeout };

        var listing = await http.GetStringAsync($"http://127.0.0.1:{adminPort}/commands");
        foreach (var command in ApacheAdmin.Commands)
        {
            Assert.Contains($"<a href=\"/commands/{command}\">{command}</a>", listing);
            var answer = await ApacheAdmin.GetJsonAsync(http, adminPort, command);
            output.WriteLine($"{command}: {answer}");
            Assert.Equal(command, answer.GetProperty("command").GetString());
            var keys = ApacheAdmin.KeyPaths(answer);
            if (command is "environment" or "system_properties")
            {
                // Maps of properties: Apache's are the JVM's, so only the command's own keys compare.
                Assert.Superset(ApacheAdmin.Keys("standalone", command).ToHashSet(), keys.ToHashSet());
                continue;
            }
            if (command == "monitor")
            {
                Assert.Subset(ApacheAdmin.Keys("standalone", command).ToHashSet(), keys.ToHashSet());
                continue;
            }
            Assert.Equal(ApacheAdmin.Keys("standalone", command).Order(), keys.Order());
        }
    }

    [Fact]
    public async Task EveryAliasRunsItsCommandAndAnUnknownNameGetsApachesError()
    {
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden, ApacheAdmin.AdminOnAnyFreePort());
        int adminPort = server.PortOf("admin.serverPort");
        using var http = new HttpClient { Timeout = Timeout };
        foreach (var (alias, primary) in ApacheAdmin.Aliases)
        {
            var answer = await ApacheAdmin.GetJsonAsync(http, adminPort, alias);
            Assert.Equal(primary, answer.GetProperty("command").GetString());
        }
        var unknown = await ApacheAdmin.GetJsonAsync(http, adminPort, "nosuch");
        Assert.Equal("Unknown command: nosuch", unknown.GetProperty("error").GetString());
        var leader = await ApacheAdmin.GetJsonAsync(http, adminPort, "leader");
        Assert.Equal("server is not initialized", leader.GetProperty("error").GetString());
        var traceMask = await ApacheAdmin.GetJsonAsync(http, adminPort, "set_trace_mask");
        Assert.Equal("setTraceMask requires long traceMask argument", traceMask.GetProperty("error").GetString());
        Assert.Equal(0, (await ApacheAdmin.GetJsonAsync(http, adminPort, "stmk?traceMask=0")).GetProperty("tracemask").GetInt64());
        Assert.Equal(0, (await ApacheAdmin.GetJsonAsync(http, adminPort, "gtmk")).GetProperty("tracemask").GetInt64());
    }

    /// <summary>The admin commands read the loop through the four-letter words' calls, so both tell the same story.</summary>
    [Fact]
    public async Task CommandsAgreeWithTheFourLetterWords()
    {
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden, ApacheAdmin.AdminOnAnyFreePort());
        int adminPort = server.PortOf("admin.serverPort");
        await using var client = await ClientWithWatchesAsync(server);
        using var http = new HttpClient { Timeout = Timeout };
        long sessionId = client.SessionId.Value;

        var mntr = ApacheAdmin.ParseMntr(await server.FourLetterWordAsync("mntr", Timeout));
        var monitor = await ApacheAdmin.GetJsonAsync(http, adminPort, "monitor");
        Assert.Equal(mntr.Keys.Order(), monitor.EnumerateObject().Select(p => p.Name).Where(n => n is not "command" and not "error").Order());
        foreach (var key in new[] { "znode_count", "ephemerals_count", "watch_count", "global_sessions", "approximate_data_size" })
        {
            Assert.Equal(mntr[key], monitor.GetProperty(key).GetRawText());
        }
        Assert.Equal("7", mntr["znode_count"]);
        Assert.Equal("1", mntr["ephemerals_count"]);

        var connections = (await ApacheAdmin.GetJsonAsync(http, adminPort, "connections")).GetProperty("connections");
        var mine = Assert.Single(connections.EnumerateArray(), c => c.GetProperty("session_id").GetInt64() == sessionId);
        Assert.StartsWith("127.0.0.1:", mine.GetProperty("remote_socket_address").GetString());
        Assert.True(mine.GetProperty("packets_received").GetInt64() >= 5);

        var dump = await ApacheAdmin.GetJsonAsync(http, adminPort, "dump");
        var ephemerals = dump.GetProperty("session_id_to_ephemeral_paths").GetProperty(sessionId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(["/app/e"], ephemerals.EnumerateArray().Select(e => e.GetString()));

        var wchs = await server.FourLetterWordAsync("wchs", Timeout);
        var summary = await ApacheAdmin.GetJsonAsync(http, adminPort, "watch_summary");
        Assert.Equal($"1 connections watching {summary.GetProperty("num_paths").GetInt32()} paths\nTotal watches:{summary.GetProperty("num_total_watches").GetInt32()}\n", wchs);
        var byPath = (await ApacheAdmin.GetJsonAsync(http, adminPort, "watches_by_path")).GetProperty("path_to_session_ids");
        Assert.Equal(sessionId, byPath.GetProperty("/app")[0].GetInt64());
        Assert.Equal(sessionId, byPath.GetProperty("/nope")[0].GetInt64());

        var stats = await ApacheAdmin.GetJsonAsync(http, adminPort, "server_stats");
        Assert.Equal("standalone", stats.GetProperty("server_stats").GetProperty("server_state").GetString());
        Assert.Equal(7, stats.GetProperty("node_count").GetInt32());
        var config = await ApacheAdmin.GetJsonAsync(http, adminPort, "configuration");
        Assert.Equal(server.ClientPort, config.GetProperty("client_port").GetInt32());
        var initial = (await ApacheAdmin.GetJsonAsync(http, adminPort, "initial_configuration")).GetProperty("initial_configuration").GetString();
        Assert.Equal(await File.ReadAllTextAsync(server.ConfigPath), initial);
    }

    /// <summary>
    /// A taken admin port does not stop the server: one error line names the port and the fix, and clients are
    /// served (an Apache ensemble member carries on the same way; Apache's standalone server exits instead).
    /// </summary>
    [Fact]
    public async Task ATakenAdminPortIsLoggedOnceAndTheServerServes()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden, ApacheAdmin.AdminOn(port));
        Assert.Contains("Mode: standalone", await server.FourLetterWordAsync("srvr", Timeout));
        // The server logs the clients' port as serving after it tried the admin port.
        await server.WaitForOutputAsync("is serving clients", Timeout);
        var lines = server.CapturedOutput.Split('\n').Where(l => l.Contains("AdminServer", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        Assert.Contains($"Unable to start the AdminServer on 127.0.0.1:{port}", line);
        Assert.Contains("admin.serverPort", line);
    }

    /// <summary>The client's figures Apache's capture had: one ephemeral node, data watches on /app and /nope, a child watch on /app.</summary>
    internal static async Task<ZooKeeperClient> ClientWithWatchesAsync(ServerProcess server)
    {
        var client = await ZooKeeperClient.ConnectAsync(server.ConnectString, TimeSpan.FromSeconds(10));
        await client.CreateAsync("/app", null);
        await client.CreateAsync("/app/e", "x"u8.ToArray(), CreateMode.Ephemeral);
        await client.GetDataAsync("/app", _ => { });
        await client.GetChildrenAsync("/app", _ => { });
        await client.ExistsAsync("/nope", _ => { });
        return client;
    }
}
