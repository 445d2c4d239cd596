using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Warden.Protocol;

namespace Warden.Console.Tests;

/// <summary>The console's JSON API over HTTP: paging, a node's detail, the change stream, and guarded writes.</summary>
public sealed class ConsoleApiTests(ConsoleServer console) : IClassFixture<ConsoleServer>
{
    [Fact]
    public async Task ChildrenComeInNameOrderAPageAtATimeWithACursor()
    {
        await console.Client.CreateAsync("/paged", null);
        var names = Enumerable.Range(0, 250).Select(i => $"c{i:D3}").ToArray();
        await Task.WhenAll(names.Reverse().Select(name => console.Client.CreateAsync("/paged/" + name, null)));
        await console.Client.CreateAsync("/paged/c007/grandchild", null);

        var seen = new List<string>();
        string? cursor = null;
        int pages = 0;
        do
        {
            var page = await console.GetJsonAsync("/console/api/children?path=/paged&limit=100" +
                (cursor is null ? "" : "&after=" + Uri.EscapeDataString(cursor)));
            pages++;
            Assert.Equal(250, page.GetProperty("total").GetInt32());
            var children = page.GetProperty("children").EnumerateArray().ToList();
            Assert.True(children.Count <= 100);
            seen.AddRange(children.Select(c => c.GetProperty("name").GetString()!));
            if (children.FirstOrDefault(c => c.GetProperty("name").GetString() == "c007") is { ValueKind: JsonValueKind.Object } parent)
            {
                Assert.Equal(1, parent.GetProperty("numChildren").GetInt32());
            }
            cursor = page.GetProperty("next").GetString();
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(names, seen);
    }

    [Fact]
    public async Task ANodeShowsItsDataStatAndAcl()
    {
        await console.Client.CreateAsync("/detail", "{\"a\":1}"u8.ToArray());
        await console.Client.SetDataAsync("/detail", "{\"a\":2}"u8.ToArray());

        var node = await console.GetJsonAsync("/console/api/node?path=/detail");

        Assert.Equal("{\"a\":2}", Encoding.UTF8.GetString(Convert.FromBase64String(node.GetProperty("data").GetString()!)));
        Assert.Equal(1, node.GetProperty("stat").GetProperty("version").GetInt32());
        Assert.Equal(7, node.GetProperty("stat").GetProperty("dataLength").GetInt32());
        var acl = Assert.Single(node.GetProperty("acl").EnumerateArray());
        Assert.Equal("world", acl.GetProperty("scheme").GetString());
        Assert.Equal("anyone", acl.GetProperty("id").GetString());
        Assert.Equal("cdrwa", acl.GetProperty("perms").GetString());
    }

    [Fact]
    public async Task ReadsKeepTheTreesAclsAndSayWhatIsMissing()
    {
        await console.Client.AddAuthAsync("digest", "owner:pw"u8.ToArray());
        await console.Client.CreateAsync("/guarded", "secret"u8.ToArray(), acl: [new Acl(Perms.All, new Id("auth", ""))]);

        using var guarded = await console.Http.GetAsync(console.BaseUrl + "/console/api/node?path=/guarded");
        Assert.Equal(HttpStatusCode.Forbidden, guarded.StatusCode);
        Assert.DoesNotContain("secret", await guarded.Content.ReadAsStringAsync());
        using var missing = await console.Http.GetAsync(console.BaseUrl + "/console/api/node?path=/no/such/node");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var bad = await console.Http.GetAsync(console.BaseUrl + "/console/api/children?path=relative");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task TheChangeStreamReportsChangesUnderItsPathOnly()
    {
        await console.Client.CreateAsync("/streamed", null);
        await console.Client.CreateAsync("/elsewhere", null);
        using var cancel = new CancellationTokenSource(ConsoleServer.Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, console.BaseUrl + "/console/api/events?path=/streamed");
        using var response = await console.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token));

        Assert.Equal(("ready", "/streamed"), await NextEventAsync(reader, cancel.Token));
        await console.Client.SetDataAsync("/elsewhere", "x"u8.ToArray());
        await console.Client.CreateAsync("/streamed/child", null);
        await console.Client.SetDataAsync("/streamed/child", "y"u8.ToArray());

        Assert.Equal(("NodeCreated", "/streamed/child"), await NextEventAsync(reader, cancel.Token));
        Assert.Equal(("NodeDataChanged", "/streamed/child"), await NextEventAsync(reader, cancel.Token));
    }

    [Fact]
    public async Task WritesAreRefusedWithoutTheHeaderOrALogin()
    {
        await console.Client.CreateAsync("/kept", "before"u8.ToArray());
        using var http = new HttpClient(new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() })
        {
            Timeout = ConsoleServer.Timeout,
        };

        using var withoutLogin = await PostAsync(http, "set", new { path = "/kept", data = Base64("after") }, withHeader: true);
        Assert.Equal(HttpStatusCode.Forbidden, withoutLogin.StatusCode);
        using var wrongPassword = await PostAsync(http, "login", new { password = "wrong" }, withHeader: true);
        Assert.Equal(HttpStatusCode.Forbidden, wrongPassword.StatusCode);
        using var loginWithoutHeader = await PostAsync(http, "login", new { password = ConsoleServer.SuperPassword }, withHeader: false);
        Assert.Equal(HttpStatusCode.Forbidden, loginWithoutHeader.StatusCode);
        using var login = await PostAsync(http, "login", new { password = ConsoleServer.SuperPassword }, withHeader: true);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        using var setWithoutHeader = await PostAsync(http, "set", new { path = "/kept", data = Base64("after") }, withHeader: false);
        Assert.Equal(HttpStatusCode.Forbidden, setWithoutHeader.StatusCode);

        Assert.Equal("before", Encoding.UTF8.GetString((await console.Client.GetDataAsync("/kept")).Data));
    }

    [Fact]
    public async Task ALoginWithTheSuperPasswordCreatesSetsAndDeletesEvenPastAcls()
    {
        await console.Client.AddAuthAsync("digest", "owner:pw"u8.ToArray());
        await console.Client.CreateAsync("/owned", null, acl: [new Acl(Perms.All, new Id("auth", ""))]);
        using var http = new HttpClient(new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() })
        {
            Timeout = ConsoleServer.Timeout,
        };
        using var login = await PostAsync(http, "login", new { password = ConsoleServer.SuperPassword }, withHeader: true);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var state = JsonDocument.Parse(await http.GetStringAsync(console.BaseUrl + "/console/api/login")).RootElement;
        Assert.True(state.GetProperty("loggedIn").GetBoolean());

        using var create = await PostAsync(http, "create", new { path = "/owned/made", data = Base64("one") }, withHeader: true);
        Assert.Equal(HttpStatusCode.OK, create.StatusCode);
        Assert.Equal("one", Encoding.UTF8.GetString((await console.Client.GetDataAsync("/owned/made")).Data));
        using var set = await PostAsync(http, "set", new { path = "/owned/made", data = Base64("two"), version = 0 }, withHeader: true);
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal("two", Encoding.UTF8.GetString((await console.Client.GetDataAsync("/owned/made")).Data));
        using var staleSet = await PostAsync(http, "set", new { path = "/owned/made", data = Base64("three"), version = 0 }, withHeader: true);
        Assert.Equal(HttpStatusCode.Conflict, staleSet.StatusCode);
        using var delete = await PostAsync(http, "delete", new { path = "/owned/made" }, withHeader: true);
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.Null(await console.Client.ExistsAsync("/owned/made"));

        using var logout = await PostAsync(http, "logout", new { }, withHeader: true);
        using var afterLogout = await PostAsync(http, "create", new { path = "/owned/late" }, withHeader: true);
        Assert.Equal(HttpStatusCode.Forbidden, afterLogout.StatusCode);
    }

    [Fact]
    public async Task ThePageIsAtTheRootAndTheCommandsStillAnswer()
    {
        using var page = await console.Http.GetAsync(console.BaseUrl + "/");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/console/console.js", await page.Content.ReadAsStringAsync());
        using var script = await console.Http.GetAsync(console.BaseUrl + "/console/console.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        var srvr = await console.GetJsonAsync("/commands/srvr");
        Assert.Equal("server_stats", srvr.GetProperty("command").GetString());
        var connections = await console.GetJsonAsync("/console/api/connections");
        Assert.NotEmpty(connections.GetProperty("connections").EnumerateArray());
        var ensemble = await console.GetJsonAsync("/console/api/ensemble");
        Assert.Equal("standalone", ensemble.GetProperty("server").GetProperty("server_state").GetString());
    }

    private async Task<HttpResponseMessage> PostAsync(HttpClient http, string action, object body, bool withHeader)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, console.BaseUrl + "/console/api/" + action)
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        if (withHeader) request.Headers.Add("X-Warden-Console", "1");
        return await http.SendAsync(request);
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>Reads one server-sent event; for a change, its type and path, for others its name and path.</summary>
    private static async Task<(string, string)> NextEventAsync(StreamReader reader, CancellationToken cancellation)
    {
        string? name = null;
        string? data = null;
        while (await reader.ReadLineAsync(cancellation) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line["event: ".Length..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line["data: ".Length..];
            else if (line.Length == 0 && name is not null && data is not null)
            {
                var json = JsonDocument.Parse(data).RootElement;
                string path = json.GetProperty("path").GetString()!;
                return name == "change" ? (json.GetProperty("type").GetString()!, path) : (name, path);
            }
        }
        throw new EndOfStreamException("the change stream ended");
    }
}
