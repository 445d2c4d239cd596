using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Warden.Server;
using Warden.Server.Configuration;

namespace Warden.Cli;

/// <summary>`warden server [zoo.cfg]`: runs a server until Ctrl-C or SIGTERM.</summary>
public static class ServerCommand
{
    public static Command Create(IReadOnlyDictionary<string, string> properties)
    {
        var configFile = new Argument<FileInfo?>("zoo.cfg")
        {
            Description = "A ZooKeeper configuration file. Without one, a standalone server on port 2181 keeps its data in ./data.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("server", Description()) { configFile };
        command.SetAction((parse, cancellation) => RunAsync(parse.GetValue(configFile), properties, cancellation));
        return command;
    }

    /// <summary>
    /// Apache's knobs that are Java system properties, as `-Dname=value` before or after zoo.cfg (or, for the
    /// zookeeper.* ones, as name=value in zoo.cfg without the prefix, where Apache takes them too).
    /// </summary>
    public static readonly (string Property, string Meaning)[] Knobs =
    [
        ("zookeeper.maxCnxns", "client connections the whole server takes (0: no limit)"),
        ("zookeeper.snapCount", "txns between snapshots, about (100000)"),
        ("zookeeper.preAllocSize", "txn log preallocation in KB (65536)"),
        ("zookeeper.forceSync", "no: do not fsync the txn log (yes)"),
        ("zookeeper.globalOutstandingLimit", "requests in flight before busy connections stop being read (1000)"),
        ("zookeeper.4lw.commands.whitelist", "four-letter words answered, e.g. srvr,mntr,ruok or * (srvr)"),
        ("zookeeper.nio.sessionlessCnxnTimeout", "ms a connection has to finish its handshake (10000)"),
        ("zookeeper.admin.enableServer", "the AdminServer (true)"),
        ("zookeeper.admin.serverAddress", "the AdminServer's address (0.0.0.0)"),
        ("zookeeper.admin.serverPort", "the AdminServer's port (8080)"),
        ("zookeeper.extendedTypesEnabled", "TTL nodes (false)"),
        ("zookeeper.enforceQuota", "refuse writes over a quota instead of logging them (false)"),
        ("zookeeper.DigestAuthenticationProvider.superDigest", "super:<base64 sha1> digest of the super user"),
        ("zookeeper.skipACL", "yes: no ACL checks at all (no)"),
        ("zookeeper.datadir.autocreate", "false: refuse to create a missing dataDir (true)"),
        ("zookeeper.cnxTimeout", "ms to dial another ensemble member (5000)"),
        ("zookeeper.commitLogCount", "committed txns a leader keeps to bring a follower up by DIFF (20000; Apache 500)"),
        ("jute.maxbuffer", "largest packet in bytes (1048575)"),
        ("readonlymode.enabled", "serve reads when cut off from the quorum (false)"),
        ("znode.container.checkIntervalMs", "ms between container and TTL sweeps (60000)"),
        ("znode.container.maxPerMinute", "containers deleted per minute at most (10000)"),
        ("znode.container.maxNeverUsedIntervalMs", "ms before a never-used container goes; 0 keeps it (0)"),
    ];

    private static string Description()
    {
        var text = new System.Text.StringBuilder("Run a Warden server; Ctrl-C or SIGTERM stops it cleanly.\n\n");
        text.Append("Apache ZooKeeper's -D knobs are taken the same way, e.g. warden server -Dzookeeper.maxCnxns=100 zoo.cfg\n");
        int width = Knobs.Max(k => k.Property.Length) + 3;
        foreach ((string property, string meaning) in Knobs)
        {
            text.Append("  -D").Append(property.PadRight(width)).Append(meaning).Append('\n');
        }
        return text.ToString().TrimEnd();
    }

    private static async Task<int> RunAsync(FileInfo? configFile, IReadOnlyDictionary<string, string> properties, CancellationToken cancellation)
    {
        using var loggerFactory = LoggerFactory.Create(builder => builder
            .AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.TimestampFormat = "yyyy-MM-dd HH:mm:ss,fff ";
            })
            .SetMinimumLevel(LogLevel.Information));
        var log = loggerFactory.CreateLogger("Warden");

        var loaded = configFile is null ? ServerConfig.LoadEmbedded(properties) : ServerConfig.Load(configFile.FullName, properties);
        foreach (var warning in loaded.Warnings) log.LogWarning("{Warning}", warning);
        if (!loaded.Succeeded)
        {
            foreach (var error in loaded.Errors) Console.Error.WriteLine($"warden: {error}");
            return 1;
        }
        var config = loaded.Config!;
        if (config.ClientPort is null)
        {
            // Seen on Apache 3.8: it logs "clientPort is not set" and then listens on no client port at all.
            log.LogWarning("{File} sets no clientPort, so Warden serves clients on 2181, the default (Apache ZooKeeper 3.8 would open no client port at all); write clientPort=2181 to make it explicit",
                configFile?.Name ?? "zoo.cfg");
        }
        var settings = ServerSettings.From(config);
        WardenServer opened;
        try
        {
            opened = new WardenServer(settings, log);
        }
        catch (Exception e) when (e is Warden.Storage.TxnLogCorruptException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"warden: cannot load the data in {settings.DataDir}: {e.Message}");
            return 1;
        }
        var server = opened;
        try
        {
            return await ServeAsync(server, settings, log, cancellation);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task<int> ServeAsync(WardenServer server, ServerSettings settings, ILogger log, CancellationToken cancellation)
    {
        // Our own signal handlers: without them the runtime ends the process at SIGTERM before the server
        // is disposed (seen: exit 143, no shutdown line). With them both signals stop it the same clean way.
        var stop = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.TrySetResult("Ctrl-C"); });
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.TrySetResult("SIGTERM"); });
        using var registration = cancellation.Register(() => stop.TrySetResult("a stop request"));
        try
        {
            await server.StartAsync();
        }
        catch (InvalidOperationException e) when (e.InnerException is SocketException)
        {
            // The election port (or another ensemble port) is taken; the message names it and the fix.
            Console.Error.WriteLine($"warden: {e.Message}");
            return 1;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            Console.Error.WriteLine($"warden: {await PortInUse.DescribeAsync(settings.ClientEndpoint)}");
            return 1;
        }
        catch (SocketException e)
        {
            Console.Error.WriteLine($"warden: cannot listen on {settings.ClientEndpoint}: {e.Message}; check clientPortAddress and clientPort");
            return 1;
        }
        if (await Task.WhenAny(stop.Task, server.Failed) == server.Failed)
        {
            var failure = await server.Failed;
            Console.Error.WriteLine($"warden: stopping because {failure.Message}");
            return 1;
        }
        string reason = await stop.Task;
        var stopping = Stopwatch.StartNew();
        await server.DisposeAsync();
        log.LogInformation("Warden stopped on {Reason} in {Ms} ms; every acknowledged write is on disk", reason, stopping.ElapsedMilliseconds);
        return 0;
    }
}
