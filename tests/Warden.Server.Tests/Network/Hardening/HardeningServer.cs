using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using Warden.Protocol;

namespace Warden.Server.Tests.Network.Hardening;

/// <summary>An in-memory Warden server on a free loopback port, with its log lines kept for assertions.</summary>
internal sealed class HardeningServer : IAsyncDisposable
{
    private HardeningServer(WardenServer server, CapturingLogger log)
    {
        Server = server;
        Log = log;
    }

    public WardenServer Server { get; }
    public CapturingLogger Log { get; }
    public IPEndPoint EndPoint => Server.LocalEndPoint;

    public static async Task<HardeningServer> StartAsync(Func<ServerSettings, ServerSettings>? configure = null)
    {
        var settings = new ServerSettings
        {
            ClientEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
            Persistent = false,
            TickTimeMs = 200,
            MinSessionTimeoutMs = 400,
            MaxSessionTimeoutMs = 20_000,
        };
        settings = configure?.Invoke(settings) ?? settings;
        var log = new CapturingLogger();
        var server = new WardenServer(settings, log);
        await server.StartAsync();
        return new HardeningServer(server, log);
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}

internal sealed class CapturingLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel)) Lines.Enqueue((logLevel, formatter(state, exception), exception));
    }

    public int Count(string containing) => Lines.Count(l => l.Message.Contains(containing, StringComparison.Ordinal));

    /// <summary>Lines that mean the server treated something as a fault rather than ordinary bad input.</summary>
    public List<string> Faults() =>
        [.. Lines.Where(l => l.Level >= LogLevel.Error || l.Exception is not null).Select(l => $"{l.Level}: {l.Message} {l.Exception}")];
}

/// <summary>
/// A healthy client beside the hostile one: it keeps one session busy with small reads and records every
/// error and the slowest answer. A session that expired shows up as an error or a closed connection.
/// </summary>
internal sealed class Bystander : IAsyncDisposable
{
    private readonly WireClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    private Bystander(WireClient client)
    {
        _client = client;
        _running = Task.Run(RunAsync);
    }

    public List<string> Errors { get; } = [];
    public long MaxLatencyMs { get; private set; }
    public int Calls { get; private set; }

    /// <summary>The session timeout is short on purpose: a server that stops hearing it for long would expire it.</summary>
    public static async Task<Bystander> StartAsync(IPEndPoint endPoint, int sessionTimeoutMs = 4000)
    {
        var client = await WireClient.OpenSessionAsync(endPoint, sessionTimeoutMs);
        return new Bystander(client);
    }

    private async Task RunAsync()
    {
        var watch = Stopwatch.StartNew();
        while (!_stop.IsCancellationRequested)
        {
            var started = watch.ElapsedMilliseconds;
            try
            {
                var (error, _) = await _client.CallAsync(OpCode.Exists, new PathWatchRequest("/", false));
                if (error != ErrorCode.Ok) Errors.Add($"exists answered {error}");
            }
            catch (Exception e)
            {
                Errors.Add($"{e.GetType().Name}: {e.Message}");
                return;
            }
            MaxLatencyMs = Math.Max(MaxLatencyMs, watch.ElapsedMilliseconds - started);
            Calls++;
            // Pace the calls a little so the bystander is a client, not a load of its own.
            await Task.Delay(20);
        }
    }

    /// <summary>Stops the bystander and asserts it saw no error, no expiry and no answer slower than the bound.</summary>
    public async Task AssertHealthyAsync(long maxLatencyMs)
    {
        _stop.Cancel();
        await _running.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(Errors.Count == 0, "the bystander saw: " + string.Join("; ", Errors));
        Assert.True(Calls > 0, "the bystander never got an answer");
        var (error, _) = await _client.CallAsync(OpCode.Exists, new PathWatchRequest("/", false));
        Assert.Equal(ErrorCode.Ok, error);
        Assert.True(MaxLatencyMs <= maxLatencyMs, $"the bystander waited {MaxLatencyMs} ms for an answer (bound {maxLatencyMs} ms)");
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { await _running.WaitAsync(TimeSpan.FromSeconds(30)); } catch (Exception) { }
        _client.Dispose();
    }
}
