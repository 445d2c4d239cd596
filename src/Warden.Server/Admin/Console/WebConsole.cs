using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Warden.Client;
using Warden.Protocol;

namespace Warden.Server.Admin.Console;

/// <summary>
/// The web console on the admin port: the page at <c>/</c>, its assets under <c>/console/</c>, and a JSON API
/// under <c>/console/api/</c>, a prefix no Apache command URL uses. It reads the tree through a client session
/// of its own (see <see cref="ConsoleSessions"/>) and the server's figures through the AdminServer's commands.
/// </summary>
public sealed partial class WebConsole : IAsyncDisposable
{
    /// <summary>
    /// The header every write (and login) must carry. A page on another origin cannot add it without a CORS
    /// preflight, which the console never grants, so a forged form post or image request cannot write.
    /// </summary>
    public const string WriteHeader = "X-Warden-Console";

    /// <summary>Change streams open at once; each holds a persistent recursive watch on the server.</summary>
    public const int MaxStreams = 32;

    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;
    private const string LoginCookie = "warden-console-login";

    private readonly ConsoleSessions _sessions;
    private readonly ILogger _log;
    private readonly string? _myId;
    private AdminCommands? _commands;
    private int _openStreams;

    /// <param name="clientEndPoint">The server's client port, read when the first session connects.</param>
    /// <param name="superDigest">zookeeper.DigestAuthenticationProvider.superDigest; null keeps the console read-only.</param>
    /// <param name="myId">This member's id in an ensemble (its myid); null for a standalone server.</param>
    public WebConsole(Func<IPEndPoint> clientEndPoint, string? superDigest, ILogger log, long? myId = null)
    {
        _sessions = new ConsoleSessions(clientEndPoint, superDigest, log);
        _log = log;
        _myId = myId?.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The console takes / and /console/..., so it stays off when the commands are at / or under /console
    /// (the command URL of an existing setup wins over the console).
    /// </summary>
    public static bool FitsBeside(string commandRoot) =>
        commandRoot.Length > 0 && commandRoot != "/console" && !commandRoot.StartsWith("/console/", StringComparison.Ordinal);

    /// <summary>Adds the page, its assets and the API to the admin host.</summary>
    internal void Map(IEndpointRouteBuilder app, AdminCommands commands)
    {
        _commands = commands;
        app.MapGet("/", context => ConsoleAssets.WriteAsync(context, "index.html"));
        app.MapGet("/console/{asset}", (HttpContext context, string asset) => ConsoleAssets.WriteAsync(context, asset));
        app.MapGet("/console/api/children", ChildrenAsync);
        app.MapGet("/console/api/node", NodeAsync);
        app.MapGet("/console/api/events", EventsAsync);
        app.MapGet("/console/api/ensemble", EnsembleAsync);
        app.MapGet("/console/api/connections", ConnectionsAsync);
        app.MapGet("/console/api/login", LoginStateAsync);
        app.MapPost("/console/api/login", LogInAsync);
        app.MapPost("/console/api/logout", LogOutAsync);
        app.MapPost("/console/api/create", CreateAsync);
        app.MapPost("/console/api/set", SetAsync);
        app.MapPost("/console/api/delete", DeleteAsync);
    }

    /// <summary>
    /// One page of a node's children in name order: at most <c>limit</c> names after the cursor <c>after</c>,
    /// each with its child count, and the cursor of the next page (null on the last). The whole list still
    /// crosses the client port once per page, but the browser only ever holds a page of it.
    /// </summary>
    private async Task ChildrenAsync(HttpContext context)
    {
        if (PathOf(context) is not { } path)
        {
            await BadPathAsync(context, context.Request.Query["path"]).ConfigureAwait(false);
            return;
        }
        int limit = int.TryParse(context.Request.Query["limit"], out var asked) ? Math.Clamp(asked, 1, MaxPageSize) : DefaultPageSize;
        string? after = context.Request.Query["after"].FirstOrDefault();
        await AnswerAsync(context, path, async client =>
        {
            var all = await client.GetChildrenAsync(path, context.RequestAborted).ConfigureAwait(false);
            var sorted = all.Children.Order(StringComparer.Ordinal).ToArray();
            int start = after is null ? 0 : FirstAfter(sorted, after);
            var page = sorted.AsSpan(start, Math.Min(limit, sorted.Length - start)).ToArray();
            // The client pipelines these on one connection; a child deleted meanwhile is left out.
            var stats = await Task.WhenAll(page.Select(name => client.ExistsAsync(Join(path, name), context.RequestAborted))).ConfigureAwait(false);
            var children = new JsonArray();
            for (int i = 0; i < page.Length; i++)
            {
                if (stats[i] is not { } stat) continue;
                children.Add(new JsonObject
                {
                    ["name"] = page[i],
                    ["numChildren"] = stat.NumChildren,
                    ["ephemeral"] = stat.EphemeralOwner != 0,
                });
            }
            bool more = start + page.Length < sorted.Length;
            return new JsonObject
            {
                ["path"] = path,
                ["total"] = sorted.Length,
                ["children"] = children,
                ["next"] = more ? page[^1] : null,
            };
        }).ConfigureAwait(false);
    }

    private static int FirstAfter(string[] sorted, string after)
    {
        int index = Array.BinarySearch(sorted, after, StringComparer.Ordinal);
        return index >= 0 ? index + 1 : ~index;
    }

    /// <summary>A node's data (base64), its stat and its ACL, read in one multi so they describe one version.</summary>
    private async Task NodeAsync(HttpContext context)
    {
        if (PathOf(context) is not { } path)
        {
            await BadPathAsync(context, context.Request.Query["path"]).ConfigureAwait(false);
            return;
        }
        await AnswerAsync(context, path, async client =>
        {
            var read = await client.GetDataAsync(path, context.RequestAborted).ConfigureAwait(false);
            var acl = await client.GetAclAsync(path, context.RequestAborted).ConfigureAwait(false);
            return new JsonObject
            {
                ["path"] = path,
                ["data"] = read.IsNull ? null : Convert.ToBase64String(read.Data),
                ["stat"] = ConsoleJson.Stat(read.Stat),
                ["acl"] = ConsoleJson.Acl(acl.Acl),
            };
        }).ConfigureAwait(false);
    }

    private async Task ConnectionsAsync(HttpContext context)
    {
        var connections = await _commands!.RunAsync("connections", NoArguments).ConfigureAwait(false);
        await WriteJsonAsync(context, StatusCodes.Status200OK, connections).ConfigureAwait(false);
    }

    private static readonly IReadOnlyDictionary<string, string> NoArguments = new Dictionary<string, string>();

    /// <summary>Runs a read on the shared session and answers its JSON, or the ZooKeeper error as a status.</summary>
    private async Task AnswerAsync(HttpContext context, string path, Func<ZooKeeperClient, Task<JsonObject>> read)
    {
        JsonObject body;
        try
        {
            var client = await _sessions.ReaderAsync(context.RequestAborted).ConfigureAwait(false);
            body = await read(client).ConfigureAwait(false);
        }
        catch (ZooKeeperException e)
        {
            await WriteErrorAsync(context, e, path).ConfigureAwait(false);
            return;
        }
        await WriteJsonAsync(context, StatusCodes.Status200OK, body).ConfigureAwait(false);
    }

    private static Task WriteErrorAsync(HttpContext context, ZooKeeperException error, string path)
    {
        int status = error.Code switch
        {
            ErrorCode.NoNode => StatusCodes.Status404NotFound,
            ErrorCode.NoAuth or ErrorCode.AuthFailed => StatusCodes.Status403Forbidden,
            ErrorCode.NodeExists or ErrorCode.BadVersion or ErrorCode.NotEmpty => StatusCodes.Status409Conflict,
            ErrorCode.BadArguments or ErrorCode.NoChildrenForEphemerals or ErrorCode.InvalidAcl => StatusCodes.Status400BadRequest,
            _ => StatusCodes.Status503ServiceUnavailable,
        };
        return WriteJsonAsync(context, status, new JsonObject
        {
            ["error"] = error.Code.ToString(),
            ["path"] = path,
            ["message"] = error.Message,
        });
    }

    /// <summary>The request's <c>path</c> (the root when absent), or null when it is not a znode path.</summary>
    private static string? PathOf(HttpContext context)
    {
        string path = context.Request.Query["path"].FirstOrDefault() ?? "/";
        return IsValidPath(path) ? path : null;
    }

    private static Task BadPathAsync(HttpContext context, string? path) =>
        WriteJsonAsync(context, StatusCodes.Status400BadRequest, new JsonObject
        {
            ["error"] = "BadArguments",
            ["path"] = path,
            ["message"] = "a path starts with / and has no empty, . or .. element, nor a trailing /",
        });

    private static bool IsValidPath(string path)
    {
        if (path == "/") return true;
        if (!path.StartsWith('/') || path.EndsWith('/')) return false;
        foreach (var element in path[1..].Split('/'))
        {
            if (element is "" or "." or "..") return false;
        }
        return true;
    }

    private static string Join(string parent, string name) => parent == "/" ? "/" + name : parent + "/" + name;

    internal static async Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _sessions.DisposeAsync();
}
