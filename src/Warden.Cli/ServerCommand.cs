using System.CommandLine;
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
        var command = new Command("server", "Run a Warden server.") { configFile };
        command.SetAction(async (parse, cancellation) =>
        {
            // SIGTERM (a service manager, `warden ensemble`) stops the server as cleanly as Ctrl-C does.
            var signals = TerminationSignals.ForProcess(cancellation);
            return await RunAsync(parse.GetValue(configFile), properties, signals.Token);
        });
        return command;
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
            opened = new WardenServer(settings, log);
        }
        catch (Exception e) when (e is Warden.Storage.TxnLogCorruptException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"warden: cannot load the data in {settings.DataDir}: {e.Message}");
            return 1;
        }
        await using var server = opened;
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
        var stopped = new TaskCompletionSource();
        using var registration = cancellation.Register(() => stopped.TrySetResult());
        if (await Task.WhenAny(stopped.Task, server.Failed) == server.Failed)
        {
            var failure = await server.Failed;
            Console.Error.WriteLine($"warden: stopping because {failure.Message}");
            return 1;
        }
        log.LogInformation("Shutting down");
        return 0;
    }

    /// <summary>How other servers name this one: its server.N and its zoo.cfg.</summary>
    private static string Describe(ServerConfig config, bool withProcess)
    {
        string file = (config.ConfigFilePath ?? "no zoo.cfg") + (withProcess ? $", pid {Environment.ProcessId}" : "");
        return config.IsDistributed && config.MyId is long id ? $"server.{id} ({file})" : $"a standalone server ({file})";
    }
}
