using System.CommandLine;
using Warden.Cli;
using Warden.Server.Configuration;

// warden: the one executable. `warden server [zoo.cfg]` runs a server; more commands join as they are built.
// Java-style system properties (-Dzookeeper.name=value) are taken out before parsing, as Apache's scripts pass them.
// `warden cli` takes zkCli's own single-dash options (-server, -timeout), so it is dispatched before the parser.
if (args is ["cli", .. var shellArgs])
{
    using var interrupt = new CancellationTokenSource();
    return await Warden.Cli.Shell.ShellProgram.RunAsync(shellArgs, Console.In, Console.Out, Console.Error,
        !Console.IsInputRedirected, interrupt.Token);
}

var properties = SystemPropertyArguments.Extract(args, out var rest);

var root = new RootCommand("Warden: a ZooKeeper-compatible coordination service.");
root.Subcommands.Add(ServerCommand.Create(properties));
root.Subcommands.Add(DataCommands.Log());
root.Subcommands.Add(DataCommands.Snapshot());
root.Subcommands.Add(DataCommands.Purge());
root.Subcommands.Add(StatusCommand.Create());
root.Subcommands.Add(EnsembleCommand.Create());
// Listed for `warden --help`; the command line itself was handled above.
root.Subcommands.Add(new Command("cli",
    "A ZooKeeper shell with zkCli.sh's commands and output: warden cli [-server host:port[,...][/chroot]] [-timeout ms] [-r] [-waitforconnection] [command args]"));
// No termination handling of System.CommandLine's own: `server` and `ensemble` turn SIGINT and SIGTERM into a clean
// stop themselves (TerminationSignals), and its handler would end them with 130 before they have finished stopping.
return await root.Parse(rest.ToArray()).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
