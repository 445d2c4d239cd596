using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Warden.Client;
using Warden.Testing;

namespace Warden.Console.Tests;

/// <summary>
/// One Warden server with its AdminServer (and so the console) on a free port of 127.0.0.1, a super digest
/// configured, and a client session of the test's own, shared by the tests of one class.
/// </summary>
public sealed class ConsoleServer : IAsyncLifetime
{
    public const string SuperPassword = "console-secret";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private ServerProcess? _server;
    private ZooKeeperClient? _client;

    public int AdminPort { get; private set; }
    public string BaseUrl => $"http://127.0.0.1:{AdminPort}";
    public ServerProcess Server => _server ?? throw new InvalidOperationException("not started");
    public ZooKeeperClient Client => _client ?? throw new InvalidOperationException("not started");
    public HttpClient Http { get; } = new() { Timeout = Timeout };

    /// <summary>zookeeper.DigestAuthenticationProvider.superDigest for a password: super:base64(sha1("super:password")).</summary>
    public static string SuperDigest(string password) =>
        "super:" + Convert.ToBase64String(SHA1.HashData(Encoding.UTF8.GetBytes("super:" + password)));

    public async Task InitializeAsync()
    {
        _server = await ServerProcess.StartAsync(ServerKind.Warden,
            new Dictionary<string, string>
            {
                ["admin.enableServer"] = "true",
                ["admin.serverAddress"] = "127.0.0.1",
                ["admin.serverPort"] = ServerProcess.AnyFreePort,
            },
            systemProperties: new Dictionary<string, string>
            {
                ["zookeeper.DigestAuthenticationProvider.superDigest"] = SuperDigest(SuperPassword),
            });
        AdminPort = _server.PortOf("admin.serverPort");
        using var connecting = new CancellationTokenSource(Timeout);
        _client = await ZooKeeperClient.ConnectAsync(_server.ConnectString, TimeSpan.FromSeconds(30), connecting.Token);
    }

    public async Task<JsonElement> GetJsonAsync(string pathAndQuery)
    {
        using var response = await Http.GetAsync(BaseUrl + pathAndQuery);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {pathAndQuery}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_client is not null) await _client.DisposeAsync();
        if (_server is not null) await _server.DisposeAsync();
    }
}
