using System.Text.Json.Nodes;
using Warden.Server.Network;
using Warden.Server.Processing;

namespace Warden.Server.Admin;

/// <summary>One AdminServer command: its primary name, the other names it answers to, and what it returns.</summary>
/// <param name="ServerRequired">
/// When true the command answers only while the server serves clients, as Apache's commands that need a
/// running ZooKeeperServer do.
/// </param>
public sealed record AdminCommand(string Name, string[] Aliases, bool ServerRequired, Func<IReadOnlyDictionary<string, string>, Task<JsonObject>> Run);

/// <summary>
/// Apache ZooKeeper 3.8's AdminServer commands (server/admin/Commands.java): the same names, aliases and JSON
/// keys. Commands that read the loop's state run on the loop through the same calls as the four-letter words,
/// so `cons` on the client port and /commands/cons describe the same thing.
/// </summary>
public sealed partial class AdminCommands
{
    public const string NotServing = "This ZooKeeper instance is not currently serving requests";
    private readonly FourLetterWords _words;
    private readonly ServerCore _core;
    private readonly Dictionary<string, AdminCommand> _byName = new(StringComparer.Ordinal);

    public AdminCommands(FourLetterWords words)
    {
        _words = words;
        _core = words.Core;
        Primary = Build();
        foreach (var command in Primary)
        {
            _byName[command.Name] = command;
            foreach (var alias in command.Aliases) _byName[alias] = command;
        }
    }

    /// <summary>Every command once, by primary name, in Apache's /commands order (alphabetical).</summary>
    public IReadOnlyList<AdminCommand> Primary { get; }

    /// <summary>Runs a command by any of its names; an unknown name gets Apache's error, not a 404.</summary>
    public async Task<JsonObject> RunAsync(string name, IReadOnlyDictionary<string, string> arguments)
    {
        if (!_byName.TryGetValue(name, out var command))
        {
            return new JsonObject { ["command"] = name, ["error"] = $"Unknown command: {name}" };
        }
        if (command.ServerRequired && _core.Mode == ServingMode.NotServing)
        {
            return Failed(command.Name, NotServing);
        }
        var response = await command.Run(arguments).ConfigureAwait(false);
        if (!response.ContainsKey("error"))
        {
            response["command"] = command.Name;
            response["error"] = null;
        }
        return response;
    }

    /// <summary>Apache's shape of a command that could not answer: the error, then the command.</summary>
    private static JsonObject Failed(string command, string error) => new() { ["error"] = error, ["command"] = command };

    private List<AdminCommand> Build() =>
    [
        new("configuration", ["conf", "config"], true, _ => Task.FromResult(Configuration())),
        new("connection_stat_reset", ["crst"], true, async _ =>
        {
            await _core.QueryAsync(_words.ResetConnectionStats).ConfigureAwait(false);
            return new JsonObject();
        }),
        new("connections", ["cons"], true, _ => _core.QueryAsync(() => ConnectionList(brief: false))),
        new("dirs", [], true, _ => Task.FromResult(new JsonObject
        {
            ["datadir_size"] = FourLetterWords.DirectorySize(_core.Settings.DataDir),
            ["logdir_size"] = FourLetterWords.DirectorySize(_core.Settings.DataLogDir),
        })),
        new("dump", [], true, _ => _core.QueryAsync(Dump)),
        new("environment", ["env", "envi"], false, _ => Task.FromResult(Environment())),
        new("get_trace_mask", ["gtmk"], false, _ => Task.FromResult(new JsonObject { ["tracemask"] = _words.TraceMask })),
        // Warden keeps no tree digests (zookeeper.digest.enabled has no effect), so the digest log is empty.
        new("hash", [], true, _ => Task.FromResult(new JsonObject { ["digests"] = new JsonArray() })),
        new("initial_configuration", ["icfg"], true, _ => Task.FromResult(new JsonObject
        {
            ["initial_configuration"] = _core.Settings.InitialConfiguration,
        })),
        new("is_read_only", ["isro"], true, _ => Task.FromResult(new JsonObject { ["read_only"] = _core.Mode == Processing.ServingMode.ReadOnly })),
        new("last_snapshot", ["lsnp"], true, _ => Task.FromResult(LastSnapshot())),
        new("leader", ["lead"], true, _ => Task.FromResult(Leader())),
        new("monitor", ["mntr"], false, _ => _core.QueryAsync(Monitor)),
        new("observer_connection_stat_reset", ["orst"], true, _ => Task.FromResult(new JsonObject())),
        new("observers", ["obsr"], true, _ => Task.FromResult(Observers())),
        new("ruok", [], true, _ => Task.FromResult(new JsonObject())),
        new("server_stats", ["srvr"], true, _ => _core.QueryAsync(() => ServerStats(withConnections: false))),
        new("set_trace_mask", ["stmk"], false, arguments => Task.FromResult(SetTraceMask(arguments))),
        new("stat_reset", ["srst"], true, async _ =>
        {
            await _core.QueryAsync(_words.ResetServerStats).ConfigureAwait(false);
            return new JsonObject();
        }),
        new("stats", ["stat"], true, _ => _core.QueryAsync(() => ServerStats(withConnections: true))),
        new("system_properties", ["sysp"], false, _ => Task.FromResult(SystemProperties())),
        new("voting_view", [], true, _ => Task.FromResult(VotingView())),
        new("watch_summary", ["wchs"], true, _ => _core.QueryAsync(WatchSummary)),
        new("watches", ["wchc"], true, _ => _core.QueryAsync(() => Watches(byPath: false))),
        new("watches_by_path", ["wchp"], true, _ => _core.QueryAsync(() => Watches(byPath: true))),
        new("zabstate", [], false, _ => _core.QueryAsync(ZabState)),
    ];

    private JsonObject SetTraceMask(IReadOnlyDictionary<string, string> arguments)
    {
        if (!arguments.TryGetValue("traceMask", out var text) || !long.TryParse(text, out long mask))
        {
            return Failed("set_trace_mask", "setTraceMask requires long traceMask argument");
        }
        _words.TraceMask = mask;
        return new JsonObject { ["tracemask"] = mask };
    }
}
