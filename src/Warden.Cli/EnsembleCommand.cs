using System.CommandLine;

namespace Warden.Cli;

/// <summary>
/// `warden ensemble`: the ZooKeeper guide's pseudo-cluster (several servers on one machine) in one command, and
/// `warden ensemble init DIR`, which only writes the files so that each server can be started by hand.
/// </summary>
public static class EnsembleCommand
{
    public const string DefaultDirectory = "warden-ensemble";

    public static Command Create()
    {
        var (servers, observers, basePort) = SizeOptions();
        var directory = new Option<string>("--dir")
        {
            Description = "Where each server's zoo.cfg, data and log folders are (zk1, zk2, ...). Files already there are used as they are.",
            HelpName = "DIR",
            DefaultValueFactory = _ => DefaultDirectory,
        };
        var command = new Command("ensemble",
            "Run a pseudo-cluster: several servers on this machine, each with its own ports and folders, until Ctrl-C.")
        {
            servers, observers, directory, basePort, CreateInit(),
        };
        command.SetAction((parse, cancellation) => RunAsync(parse.GetValue(directory)!, parse.GetValue(servers),
            parse.GetValue(observers), parse.GetValue(basePort), cancellation));
        return command;
    }

    private static Command CreateInit()
    {
        var (servers, observers, basePort) = SizeOptions();
        var directory = new Argument<string>("DIR") { Description = "The folder to write zk1, zk2, ... into." };
        var init = new Command("init", "Only write each server's zoo.cfg, myid and folders, to start each server by hand with `warden server`.")
        {
            directory, servers, observers, basePort,
        };
        init.SetAction(parse => Init(parse.GetValue(directory)!, parse.GetValue(servers), parse.GetValue(observers), parse.GetValue(basePort)));
        return init;
    }

    private static (Option<int> Servers, Option<int> Observers, Option<int> BasePort) SizeOptions() =>
    (
        new Option<int>("--servers") { Description = "How many voting servers.", DefaultValueFactory = _ => 3 },
        new Option<int>("--observers") { Description = "How many observers besides them.", DefaultValueFactory = _ => 0 },
        new Option<int>("--base-port")
        {
            Description = "The first client port; quorum ports start 707 above it and election ports 1707 above it (2181, 2888, 3888).",
            DefaultValueFactory = _ => EnsembleLayout.DefaultBasePort,
        });

    private static int Init(string directory, int servers, int observers, int basePort)
    {
        var layout = EnsembleLayout.Plan(directory, servers, observers, basePort, out var problem);
        if (layout is null)
        {
            Console.Error.WriteLine($"warden: {problem}");
            return 1;
        }
        if (layout.Existing.Count > 0)
        {
            Console.Error.WriteLine($"warden: {layout.Existing[0].ConfigPath} already exists; choose another folder, or remove it to start afresh");
            return 1;
        }
        layout.Write();
        foreach (var server in layout.Servers)
        {
            Console.Out.WriteLine($"wrote {server.ConfigPath} and {Path.Combine(server.DataDir, "myid")}");
        }
        Console.Out.WriteLine("Start each server in its own terminal:");
        foreach (var server in layout.Servers)
        {
            Console.Out.WriteLine($"  warden server {server.ConfigPath}");
        }
        Console.Out.WriteLine($"Connect string: {layout.ConnectString}");
        return 0;
    }

    private static async Task<int> RunAsync(string directory, int servers, int observers, int basePort, CancellationToken cancellation)
    {
        var layout = EnsembleLayout.Plan(directory, servers, observers, basePort, out var problem);
        if (layout is null)
        {
            Console.Error.WriteLine($"warden: {problem}");
            return 1;
        }
        var existing = layout.Existing;
        if (existing.Count == 0)
        {
            layout.Write();
            Console.Out.WriteLine($"ensemble | wrote {layout.Servers.Count} servers' zoo.cfg and myid under {layout.Directory}");
        }
        else if (existing.Count != layout.Servers.Count || File.Exists(Path.Combine(layout.Directory, $"zk{layout.Servers.Count + 1}", "zoo.cfg")))
        {
            Console.Error.WriteLine($"warden: {layout.Directory} holds another ensemble's servers; give --servers and --observers as when it was made, or use another --dir");
            return 1;
        }
        else
        {
            Console.Out.WriteLine($"ensemble | using the zoo.cfg files already in {layout.Directory}");
        }
        var signals = TerminationSignals.ForProcess(cancellation);
        return await new EnsembleRunner(layout, StatusCommand.UseColour()).RunAsync(signals.Token);
    }
}
