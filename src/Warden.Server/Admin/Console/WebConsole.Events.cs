using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Warden.Client;
using Warden.Protocol;

namespace Warden.Server.Admin.Console;

public sealed partial class WebConsole
{
    /// <summary>
    /// A server-sent-events stream of every change under <c>path</c>: a persistent recursive watch (addWatch
    /// PERSISTENT_RECURSIVE) on the console's session, removed when the page goes away. The first event,
    /// <c>ready</c>, is sent once the server has the watch, so nothing the page reads afterwards can be missed.
    /// Each change is <c>change</c> with the event type and path; recursive watches report creations and
    /// deletions of descendants, which is what the tree needs, and no separate children-changed events.
    /// </summary>
    private async Task EventsAsync(HttpContext context)
    {
        if (PathOf(context) is not { } path)
        {
            await BadPathAsync(context, context.Request.Query["path"]).ConfigureAwait(false);
            return;
        }
        if (Interlocked.Increment(ref _openStreams) > MaxStreams)
        {
            Interlocked.Decrement(ref _openStreams);
            await WriteJsonAsync(context, StatusCodes.Status503ServiceUnavailable, new JsonObject
            {
                ["error"] = "TooManyStreams",
                ["message"] = $"the console keeps at most {MaxStreams} change streams open; close another console tab",
            }).ConfigureAwait(false);
            return;
        }
        try
        {
            await StreamAsync(context, path, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The page went away; the watch was removed on the way out.
        }
        finally
        {
            Interlocked.Decrement(ref _openStreams);
        }
    }

    private async Task StreamAsync(HttpContext context, string path, CancellationToken cancellation)
    {
        PersistentWatch watch;
        try
        {
            var client = await _sessions.ReaderAsync(cancellation).ConfigureAwait(false);
            watch = await client.AddWatchAsync(path, AddWatchMode.PersistentRecursive, cancellation).ConfigureAwait(false);
        }
        catch (ZooKeeperException e)
        {
            await WriteErrorAsync(context, e, path).ConfigureAwait(false);
            return;
        }
        await using (((IAsyncDisposable)watch).ConfigureAwait(false))
        {
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-store";
            await WriteEventAsync(context, "ready", new JsonObject { ["path"] = path }, cancellation).ConfigureAwait(false);
            try
            {
                await foreach (var change in watch.WithCancellation(cancellation).ConfigureAwait(false))
                {
                    await WriteEventAsync(context, "change", new JsonObject
                    {
                        ["type"] = change.Type.ToString(),
                        ["path"] = change.Path,
                    }, cancellation).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is ZooKeeperException or InvalidOperationException)
            {
                // The session ended or the page fell too far behind: say so, and the page starts a new stream.
                _log.LogInformation("Console change stream on {Path} ended: {Reason}", path, e.Message);
            }
            await WriteEventAsync(context, "ended", new JsonObject { ["path"] = path }, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task WriteEventAsync(HttpContext context, string name, JsonObject data, CancellationToken cancellation)
    {
        await context.Response.WriteAsync($"event: {name}\ndata: {data.ToJsonString()}\n\n", cancellation).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(cancellation).ConfigureAwait(false);
    }
}
