using System.Reflection;
using Microsoft.AspNetCore.Http;

namespace Warden.Server.Admin.Console;

/// <summary>
/// The console's page, script and style, embedded in the assembly so the console works offline and with nothing
/// installed beside the server. The policy header lets the page load only its own files.
/// </summary>
internal static class ConsoleAssets
{
    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        ["index.html"] = "text/html; charset=utf-8",
        ["console.js"] = "text/javascript; charset=utf-8",
        ["console.css"] = "text/css; charset=utf-8",
    };

    public static async Task WriteAsync(HttpContext context, string name)
    {
        if (!ContentTypes.TryGetValue(name, out var contentType)
            || typeof(ConsoleAssets).Assembly.GetManifestResourceStream("Warden.Console." + name) is not { } stream)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        await using (stream.ConfigureAwait(false))
        {
            context.Response.ContentType = contentType;
            context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; frame-ancestors 'none'";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers.CacheControl = "no-cache";
            await stream.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
