using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Warden.Client;
using Warden.Protocol;

namespace Warden.Server.Admin.Console;

public sealed partial class WebConsole
{
    /// <summary>The largest write body the console reads; data beyond jute.maxbuffer would be refused anyway.</summary>
    private const int MaxWriteBodyBytes = 2 * 1024 * 1024;

    private Task LoginStateAsync(HttpContext context) =>
        WriteJsonAsync(context, StatusCodes.Status200OK, new JsonObject
        {
            ["loggedIn"] = _sessions.Writer(context.Request.Cookies[LoginCookie]) is not null,
            ["canLogIn"] = _sessions.CanLogIn,
        });

    private async Task LogInAsync(HttpContext context)
    {
        if (await ReadWriteBodyAsync(context).ConfigureAwait(false) is not { } body) return;
        string password = body["password"]?.GetValue<string>() ?? "";
        string? token;
        try
        {
            token = await _sessions.LogInAsync(password, context.RequestAborted).ConfigureAwait(false);
        }
        catch (ZooKeeperException e)
        {
            await WriteErrorAsync(context, e, "/").ConfigureAwait(false);
            return;
        }
        if (token is null)
        {
            await WriteJsonAsync(context, StatusCodes.Status403Forbidden, new JsonObject
            {
                ["error"] = "AuthFailed",
                ["message"] = _sessions.CanLogIn
                    ? "the password does not match zookeeper.DigestAuthenticationProvider.superDigest"
                    : "no zookeeper.DigestAuthenticationProvider.superDigest is set, so the console is read-only",
            }).ConfigureAwait(false);
            return;
        }
        context.Response.Cookies.Append(LoginCookie, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Path = "/console/api",
        });
        await WriteJsonAsync(context, StatusCodes.Status200OK, new JsonObject { ["loggedIn"] = true }).ConfigureAwait(false);
    }

    private async Task LogOutAsync(HttpContext context)
    {
        if (await ReadWriteBodyAsync(context).ConfigureAwait(false) is null) return;
        await _sessions.LogOutAsync(context.Request.Cookies[LoginCookie]).ConfigureAwait(false);
        context.Response.Cookies.Delete(LoginCookie, new CookieOptions { Path = "/console/api" });
        await WriteJsonAsync(context, StatusCodes.Status200OK, new JsonObject { ["loggedIn"] = false }).ConfigureAwait(false);
    }

    /// <summary>Creates a persistent node: <c>{"path", "data" (base64, optional)}</c>.</summary>
    private Task CreateAsync(HttpContext context) => WriteAsync(context, async (client, path, body) =>
    {
        var created = await client.CreateAsync(path, Data(body), CreateMode.Persistent, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        return new JsonObject { ["path"] = created.Path, ["stat"] = ConsoleJson.Stat(created.Stat) };
    });

    /// <summary>Sets a node's data: <c>{"path", "data" (base64), "version" (-1 for any)}</c>.</summary>
    private Task SetAsync(HttpContext context) => WriteAsync(context, async (client, path, body) =>
    {
        var stat = await client.SetDataAsync(path, Data(body), Version(body), context.RequestAborted).ConfigureAwait(false);
        return new JsonObject { ["path"] = path, ["stat"] = ConsoleJson.Stat(stat) };
    });

    /// <summary>Deletes a node: <c>{"path", "version" (-1 for any)}</c>.</summary>
    private Task DeleteAsync(HttpContext context) => WriteAsync(context, async (client, path, body) =>
    {
        await client.DeleteAsync(path, Version(body), context.RequestAborted).ConfigureAwait(false);
        return new JsonObject { ["path"] = path, ["deleted"] = true };
    });

    /// <summary>
    /// A write runs only with the console header and on the session of a login; without them it is refused
    /// with 403 and nothing reaches the server.
    /// </summary>
    private async Task WriteAsync(HttpContext context, Func<ZooKeeperClient, string, JsonObject, Task<JsonObject>> write)
    {
        if (await ReadWriteBodyAsync(context).ConfigureAwait(false) is not { } body) return;
        if (_sessions.Writer(context.Request.Cookies[LoginCookie]) is not { } client)
        {
            await WriteJsonAsync(context, StatusCodes.Status403Forbidden, new JsonObject
            {
                ["error"] = "NotLoggedIn",
                ["message"] = "the console is read-only until you log in with the super password",
            }).ConfigureAwait(false);
            return;
        }
        string? path = body["path"]?.GetValue<string>();
        if (path is null || !IsValidPath(path))
        {
            await BadPathAsync(context, path).ConfigureAwait(false);
            return;
        }
        JsonObject answer;
        try
        {
            answer = await write(client, path, body).ConfigureAwait(false);
        }
        catch (ZooKeeperException e)
        {
            await WriteErrorAsync(context, e, path).ConfigureAwait(false);
            return;
        }
        catch (FormatException)
        {
            await WriteJsonAsync(context, StatusCodes.Status400BadRequest, new JsonObject
            {
                ["error"] = "BadArguments",
                ["message"] = "data must be base64",
            }).ConfigureAwait(false);
            return;
        }
        await WriteJsonAsync(context, StatusCodes.Status200OK, answer).ConfigureAwait(false);
    }

    /// <summary>Checks the console header and reads a JSON object body; answers the refusal itself and returns null.</summary>
    private static async Task<JsonObject?> ReadWriteBodyAsync(HttpContext context)
    {
        if (context.Request.Headers[WriteHeader].Count == 0)
        {
            await WriteJsonAsync(context, StatusCodes.Status403Forbidden, new JsonObject
            {
                ["error"] = "MissingHeader",
                ["message"] = $"console writes need the {WriteHeader} header",
            }).ConfigureAwait(false);
            return null;
        }
        if (context.Request.ContentLength is > MaxWriteBodyBytes)
        {
            await WriteJsonAsync(context, StatusCodes.Status413PayloadTooLarge, new JsonObject { ["error"] = "TooLarge" }).ConfigureAwait(false);
            return null;
        }
        try
        {
            if (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false) is JsonObject body)
            {
                return body;
            }
        }
        catch (JsonException)
        {
        }
        await WriteJsonAsync(context, StatusCodes.Status400BadRequest, new JsonObject
        {
            ["error"] = "BadArguments",
            ["message"] = "the body must be a JSON object",
        }).ConfigureAwait(false);
        return null;
    }

    private static byte[]? Data(JsonObject body) =>
        body["data"]?.GetValue<string>() is { } base64 ? Convert.FromBase64String(base64) : null;

    private static int Version(JsonObject body) => body["version"]?.GetValue<int>() ?? -1;
}
