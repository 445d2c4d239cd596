namespace Warden.Cli.Shell;

/// <summary>A zkCli command as `help` lists it: its name, its usage after the name, and the options it takes.</summary>
public sealed record CommandSpec(string Name, string Usage, IReadOnlyList<string> Options, bool TakesPath);

/// <summary>zkCli 3.8's commands (ZooKeeperMain's built-ins and its CliCommand classes), with their usage strings.</summary>
public static class CommandTable
{
    public static readonly IReadOnlyList<CommandSpec> All =
    [
        new("addWatch", "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE", ["-m"], true),
        new("addauth", "scheme auth", [], false),
        new("close", "", [], false),
        new("config", "[-c] [-w] [-s]", ["-c", "-w", "-s"], false),
        new("connect", "host:port", [], false),
        new("create", "[-s] [-e] [-c] [-t ttl] path [data] [acl]", ["-s", "-e", "-c", "-t"], true),
        new("delete", "[-v version] path", ["-v"], true),
        new("deleteall", "path [-b batch size]", ["-b"], true),
        new("delquota", "[-n|-b|-N|-B] path", ["-n", "-b", "-N", "-B"], true),
        new("get", "[-s] [-w] path", ["-s", "-w"], true),
        new("getAcl", "[-s] path", ["-s"], true),
        new("getAllChildrenNumber", "path", [], true),
        new("getEphemerals", "path", [], true),
        new("history", "", [], false),
        new("listquota", "path", [], true),
        new("ls", "[-s] [-w] [-R] path", ["-s", "-w", "-R"], true),
        new("printwatches", "on|off", [], false),
        new("quit", "", [], false),
        new("reconfig", "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]",
            ["-s", "-v", "-file", "-members", "-add", "-remove"], false),
        new("redo", "cmdno", [], false),
        new("removewatches", "path [-c|-d|-a] [-l]", ["-c", "-d", "-a", "-l"], true),
        new("set", "[-s] [-v version] path data", ["-s", "-v"], true),
        new("setAcl", "[-s] [-v version] [-R] path acl", ["-s", "-v", "-R"], true),
        new("setquota", "-n|-b|-N|-B val path", ["-n", "-b", "-N", "-B"], true),
        new("stat", "[-w] path", ["-w"], true),
        new("sync", "path", [], true),
        new("version", "", [], false),
        new("whoami", "", [], false),
    ];

    private static readonly Dictionary<string, CommandSpec> ByName = All.ToDictionary(c => c.Name, StringComparer.Ordinal);

    public static CommandSpec? Find(string name) => ByName.GetValueOrDefault(name);
}
