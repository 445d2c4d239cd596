using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Warden.Server.Admin;

/// <summary>
/// Apache's AdminServer on Kestrel: GET {commandURL} lists the commands as links, GET {commandURL}/{name}
/// runs one (query parameters are its arguments) and answers JSON. A port already taken is logged once and the
/// server carries on without it, as an Apache ensemble member does (Apache's standalone server exits instead).
/// </summary>
public sealed class AdminServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly AdminServerSettings _settings;
    private readonly AdminCommands _commands;
    private readonly ILogger _log;
    private readonly Console.WebConsole? _console;
    private WebApplication? _app;

    /// <param name="console">The web console served at / beside the commands; left out when the command URL is /.</param>
    public AdminServer(AdminServerSettings settings, AdminCommands commands, ILogger log, Console.WebConsole? console = null)
    {
        _settings = settings;
        _commands = commands;
        _log = log;
        _console = console;
    }

    /// <summary>The bound endpoint (the real port when 0 was asked for); null when the server did not start.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Starts listening; returns false, having logged why, when the address cannot be bound.</summary>
    public async Task<bool> StartAsync()
    {
        System.Net.IPEndPoint endPoint;
        try
        {
            endPoint = _settings.EndPoint;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            _log.LogError("Unable to start the AdminServer: {Address} is not an address of this machine ({Reason}); the server goes on without it. Set admin.serverAddress to one",
                _settings.Address, e.Message);
            return false;
        }
        var app = HttpHost.Create(endPoint, _log);
        string root = _settings.CommandUrl.TrimEnd('/');
        // Routing matches "/commands" and "/commands/" alike.
        app.MapGet(root.Length == 0 ? "/" : root, ListCommandsAsync);
        app.MapGet(root + "/{name}", RunCommandAsync);
        if (_console is not null)
        {
            if (Console.WebConsole.FitsBeside(root)) _console.Map(app, _commands);
            else _log.LogInformation("The web console is off: admin.commandURL {Url} takes the paths it would use", _settings.CommandUrl);
        }
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (IOException e)
        {
            _log.LogError("Unable to start the AdminServer on {Address}:{Port} ({Reason}); the server goes on without it. " +
                "Free the port, or set admin.serverPort to another port, or admin.enableServer=false",
                _settings.Address, _settings.Port, e.InnerException?.Message ?? e.Message);
            await app.DisposeAsync().ConfigureAwait(false);
            return false;
        }
        _app = app;
        LocalEndPoint = HttpHost.BoundEndPoint(app, _settings.EndPoint);
        _log.LogInformation("Started AdminServer on address {Address}, port {Port} and command URL {Url}",
            _settings.Address, LocalEndPoint.Port, _settings.CommandUrl);
        return true;
    }

    private async Task ListCommandsAsync(HttpContext context)
    {
        var page = new StringBuilder();
        foreach (var command in _commands.Primary)
        {
            page.Append("<a href=\"").Append(_settings.CommandUrl.TrimEnd('/')).Append('/').Append(command.Name).Append("\">")
                .Append(command.Name).Append("</a>\n<br/>\n");
        }
        context.Response.ContentType = "text/html";
        await context.Response.WriteAsync(page.ToString(), context.RequestAborted).ConfigureAwait(false);
    }

    private async Task RunCommandAsync(HttpContext context, string name)
    {
        var arguments = context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        var response = await _commands.RunAsync(name, arguments).ConfigureAwait(false);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(response.ToJsonString(Indented), context.RequestAborted).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_console is not null) await _console.DisposeAsync().ConfigureAwait(false);
        if (_app is null) return;
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>A bare Kestrel host on one endpoint: no configuration files, no environment URLs, no logging of its own.</summary>
internal static class HttpHost
{
    public static WebApplication Create(IPEndPoint endPoint, ILogger log)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(options => options.Listen(endPoint));
        builder.Services.AddRoutingCore();
        // The host's default lifetime takes SIGTERM and Ctrl+C for itself; the server's own shutdown must get them.
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, PassiveLifetime>();
        var app = builder.Build();
        // A failing request is answered 500 and logged; it never reaches the rest of the server.
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
                if (!context.Response.HasStarted) context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            }
        });
        app.UseRouting();
        return app;
    }

    /// <summary>The endpoint Kestrel bound, so a test that asked for port 0 learns the port.</summary>
    public static IPEndPoint BoundEndPoint(WebApplication app, IPEndPoint asked)
    {
        var address = app.Services.GetService(typeof(Microsoft.AspNetCore.Hosting.Server.IServer)) is Microsoft.AspNetCore.Hosting.Server.IServer server
            ? server.Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            : null;
        return address is not null && Uri.TryCreate(address, UriKind.Absolute, out var uri) ? new IPEndPoint(asked.Address, uri.Port) : asked;
    }
}

/// <summary>A host lifetime that leaves process signals alone: the server decides when the HTTP endpoints stop.</summary>
internal sealed class PassiveLifetime : Microsoft.Extensions.Hosting.IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
