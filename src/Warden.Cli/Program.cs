using System.CommandLine;
using Warden.Cli;

// warden: the one executable. `warden server [zoo.cfg]` runs a server; more commands join as they are built.
// Java-style system properties (-Dzookeeper.name=value) are taken out before parsing, as Apache's scripts pass them.
var (properties, rest) = SystemProperties.Extract(args);

var root = new RootCommand("Warden: a ZooKeeper-compatible coordination service.");
root.Subcommands.Add(ServerCommand.Create(properties));
return await root.Parse(rest).InvokeAsync();
