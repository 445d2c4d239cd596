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
        command.SetAction(async (parse, cancellation) =>
        {
            // SIGTERM (a service manager, `warden ensemble`) stops the server as cleanly as Ctrl-C does.
            var signals = TerminationSignals.ForProcess(cancellation);
            return await RunAsync(parse.GetValue(configFile), properties, signals);
        });
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
        ("zookeeper.request_throttle_max_requests", "requests in process before new ones wait in the throttle (0: off)"),
        ("zookeeper.request_throttle_stall_time", "ms between staleness checks of a waiting request (100)"),
        ("zookeeper.request_throttle_drop_stale", "drop a waiting request whose client is gone (true)"),
        ("zookeeper.throttled_op_wait_time", "ms a request may wait before it is answered ThrottledOp (0: never)"),
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
        ("zookeeper.snapshotSizeFactor", "DIFF from the txn log while it is at most this x the snapshot's size, else SNAP; -1: off (0.33)"),
        ("jute.maxbuffer", "largest packet in bytes (1048575)"),
        ("readonlymode.enabled", "go read-only when cut off from the quorum, as Apache does (false)"),
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

    private static async Task<int> RunAsync(FileInfo? configFile, IReadOnlyDictionary<string, string> properties, TerminationSignals signals)
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
        string self = Describe(config, withProcess: false);
        DataDirectoryLock folders;
        try
        {
            folders = DataDirectoryLock.Acquire([("dataDir", settings.DataDir), ("dataLogDir", settings.DataLogDir)],
                Describe(config, withProcess: true));
        }
        catch (DataDirectoryInUseException e)
        {
            Console.Error.WriteLine($"warden: {e.Key} {e.Folder} is in use by {e.Holder}, so {self} cannot use it too " +
                                    "(two servers writing one folder destroy each other's data); give each server its own dataDir and dataLogDir");
            return 1;
        }
        using var heldFolders = folders;
        WardenServer opened;
        try
        {
            opened = new WardenServer(settings, log, trimHeap: true);
        }
        catch (Exception e) when (e is Warden.Storage.TxnLogCorruptException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"warden: cannot load the data in {settings.DataDir}: {e.Message}");
            return 1;
        }
        var server = opened;
        try
        {
            return await ServeAsync(server, settings, log, signals);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task<int> ServeAsync(WardenServer server, ServerSettings settings, ILogger log, TerminationSignals signals)
    {
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = signals.Token.Register(() => stop.TrySetResult());
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
        await stop.Task;
        string reason = signals.Received switch
        {
            PosixSignal.SIGINT => "Ctrl-C",
            PosixSignal.SIGTERM => "SIGTERM",
            PosixSignal.SIGQUIT => "SIGQUIT",
            _ => "a stop request",
        };
        var stopping = Stopwatch.StartNew();
        await server.DisposeAsync();
        log.LogInformation("Warden stopped on {Reason} in {Ms} ms; every acknowledged write is on disk", reason, stopping.ElapsedMilliseconds);
        return 0;
    }

    /// <summary>How other servers name this one: its server.N and its zoo.cfg.</summary>
    private static string Describe(ServerConfig config, bool withProcess)
    {
        string file = (config.ConfigFilePath ?? "no zoo.cfg") + (withProcess ? $", pid {Environment.ProcessId}" : "");
        return config.IsDistributed && config.MyId is long id ? $"server.{id} ({file})" : $"a standalone server ({file})";
    }
}
