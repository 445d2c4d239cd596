using System.Text;
using Warden.Client;
using Warden.Data;
using Warden.Protocol;

namespace Warden.Cli.Shell;

// The commands, each as zkCli 3.8 runs it (ZooKeeperMain and the cli package's command classes): the same
// options, the same checks in the same order, the same text on the same stream.
public sealed partial class ShellSession
{
    /// <summary>Apache's limit for a TTL: it must fit in the low 40 bits of ephemeralOwner.</summary>
    private const long MaxTtlMs = 0xFF_FFFF_FFFF;

    private const string JavaUsageHeader = "ZooKeeper -server host:port -client-configuration properties-file cmd args";

    private static readonly OptionParser CreateOptions = new(
        new("e", false, "ephemeral"), new("s", false, "sequential"), new("c", false, "container"), new("t", true, "ttl"));
    private static readonly OptionParser VersionOption = new(new OptionSpec("v", true, "version"));
    private static readonly OptionParser BatchOption = new(new OptionSpec("b", true, "batch size"));
    private static readonly OptionParser SetOptions = new(new("s", false, "stats"), new("v", true, "version"));
    private static readonly OptionParser GetOptions = new(new("s", false, "stats"), new("w", false, "watch"));
    private static readonly OptionParser LsOptions = new(new("?", false, "help"), new("s", false, "stat"), new("w", false, "watch"), new("R", false, "recurse"));
    private static readonly OptionParser StatsOption = new(new OptionSpec("s", false, "stats"));
    private static readonly OptionParser SetAclOptions = new(new("s", false, "stats"), new("v", true, "version"), new("R", false, "recursive"));
    private static readonly OptionParser WatchOption = new(new OptionSpec("w", false, "watch"));
    private static readonly OptionParser NoOptions = new();
    private static readonly OptionParser ConfigOptions = new(new("s", false, "stats"), new("w", false, "watch"), new("c", false, "client connection string"));
    private static readonly OptionParser RemoveWatchesOptions = new(
        new("c", false, "child watcher type"), new("d", false, "data watcher type"), new("a", false, "any watcher type"),
        new("l", false, "remove locally when there is no server connection"));
    private static readonly OptionParser AddWatchOptions = new(new OptionSpec("m", true, ""));
    private static readonly OptionParser SetQuotaOptions = new OptionParser().WithGroup(new(
        [new("n", true, "num soft quota"), new("b", true, "bytes soft quota"), new("N", true, "num hard quota"), new("B", true, "bytes hard quota")], Required: true));
    private static readonly OptionParser DelQuotaOptions = new OptionParser().WithGroup(new(
        [new("n", false, "num soft quota"), new("b", false, "bytes soft quota"), new("N", false, "num hard quota"), new("B", false, "bytes hard quota")], Required: false));
    private static readonly OptionParser ReconfigOptions = new(
        new("s", false, "stats"), new("v", true, "required current config version"), new("file", true, "path of config file to parse for membership"),
        new("members", true, "comma-separated list of config strings for non-incremental reconfig"),
        new("add", true, "comma-separated list of config strings for new servers"), new("remove", true, "comma-separated list of server IDs to remove"));

    /// <summary>Every command zkCli knows, in the order `help` lists them, as "name usage".</summary>
    public static IEnumerable<string> UsageLines => CommandTable.All.Select(c => $"{c.Name} {c.Usage}");

    private async Task<bool> ProcessCommandAsync(List<string> words, CancellationToken ct)
    {
        string command = words[0];
        if (command == "help")
        {
            // zkCli prints its usage on stderr, so `warden cli help > file` leaves the file empty there too.
            WriteErr(HelpText());
            return true;
        }
        if (CommandTable.Find(command) is null)
        {
            WriteErr(JavaUsage());
            throw new CliError($"Command not found: Command not found {command}", 127);
        }
        switch (command)
        {
            case "quit":
                await CloseClientAsync().ConfigureAwait(false);
                return false;
            case "redo" when words.Count >= 2:
                return await RedoAsync(words[1], ct).ConfigureAwait(false);
            case "history":
                for (int i = _commandCount - 10; i <= _commandCount; i++)
                {
                    if (i >= 0) WriteOut($"{i} - {_history.GetValueOrDefault(i, "null")}");
                }
                break;
            case "printwatches":
                if (words.Count == 1) WriteOut($"printwatches is {(_printWatches ? "on" : "off")}");
                else _printWatches = words[1] == "on";
                break;
            case "connect":
                await ConnectAsync(words.Count >= 2 ? words[1] : _host, ct).ConfigureAwait(false);
                break;
        }
        var client = _client;
        if (client is null || client.State is ConnectionState.Closed or ConnectionState.Expired or ConnectionState.AuthFailed)
        {
            WriteOut("Not connected");
            return true;
        }
        try
        {
            await RunAsync(client, command, words, ct).ConfigureAwait(false);
        }
        catch (ZooKeeperException error) when (error.IsConnectionLoss)
        {
            await client.WhenEventsDeliveredAsync().ConfigureAwait(false);
            throw new CliError(ConnectionProblem());
        }
        catch (ZooKeeperException error)
        {
            throw new CliError(Formats.CommandError(error.Code, error.Path));
        }
        return true;
    }

    private async Task<bool> RedoAsync(string number, CancellationToken ct)
    {
        if (!Formats.TryDecodeInt(number, out int index))
        {
            throw new CliError($"Command index must be a number: {number}");
        }
        if (_commandCount <= index || index < 0) throw new CliError("Command index out of range");
        string line = _history[index];
        var words = Tokenizer.Split(line);
        if (words[0] == "redo") throw new CliError("No redoing redos");
        _history[_commandCount] = line;
        return await ProcessAsync(words, ct).ConfigureAwait(false);
    }

    private string HelpText()
    {
        var text = new StringBuilder();
        text.Append("warden cli [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r] [-waitforconnection] [command args]\n");
        foreach (string line in UsageLines) text.Append('\t').Append(line).Append('\n');
        text.Append("\thelp ");
        return text.ToString();
    }

    private static string JavaUsage()
    {
        var text = new StringBuilder(JavaUsageHeader);
        foreach (string line in UsageLines) text.Append("\n\t").Append(line);
        return text.ToString();
    }

    private static string Usage(string command) => $"{command} {CommandTable.Find(command)!.Usage}";

    private static void CheckPath(string path, bool sequential = false)
    {
        if (PathValidation.Validate(path, sequential) is { } reason) throw new CliError(reason);
    }

    private static ParsedOptions ParseAtLeast(OptionParser parser, List<string> words, int count, string command)
    {
        var parsed = parser.Parse(words);
        if (parsed.Arguments.Count < count) throw new CliError(Usage(command));
        return parsed;
    }

    /// <summary>get, stat and ls took "path watch" before 3.5: the third word becomes -w and a warning is printed.</summary>
    private ParsedOptions ParseWithOldWatchForm(OptionParser parser, List<string> words, string command, string hint, int minimum)
    {
        var parsed = parser.Parse(words);
        if (parsed.Arguments.Count < minimum) throw new CliError(Usage(command));
        if (parsed.Arguments.Count > 2)
        {
            words[2] = "-w";
            WriteErr($"'{command} path [watch]' has been deprecated. Please use '{hint}' instead.");
            parsed = parser.Parse(words);
        }
        return parsed;
    }

    private async Task RunAsync(ZooKeeperClient zk, string command, List<string> words, CancellationToken ct)
    {
        switch (command)
        {
            case "create": await CreateAsync(zk, words, ct).ConfigureAwait(false); break;
            case "delete": await DeleteAsync(zk, words, ct).ConfigureAwait(false); break;
            case "deleteall": await DeleteAllAsync(zk, words, ct).ConfigureAwait(false); break;
            case "set": await SetAsync(zk, words, ct).ConfigureAwait(false); break;
            case "get": await GetAsync(zk, words, ct).ConfigureAwait(false); break;
            case "ls": await LsAsync(zk, words, ct).ConfigureAwait(false); break;
            case "getAcl": await GetAclAsync(zk, words, ct).ConfigureAwait(false); break;
            case "setAcl": await SetAclAsync(zk, words, ct).ConfigureAwait(false); break;
            case "stat": await StatAsync(zk, words, ct).ConfigureAwait(false); break;
            case "sync": await SyncAsync(zk, words, ct).ConfigureAwait(false); break;
            case "setquota": await SetQuotaAsync(zk, words, ct).ConfigureAwait(false); break;
            case "listquota": await ListQuotaAsync(zk, words, ct).ConfigureAwait(false); break;
            case "delquota": await DelQuotaAsync(zk, words, ct).ConfigureAwait(false); break;
            case "addauth": await AddAuthAsync(zk, words, ct).ConfigureAwait(false); break;
            case "reconfig": await ReconfigAsync(zk, words, ct).ConfigureAwait(false); break;
            case "config": await ConfigAsync(zk, words, ct).ConfigureAwait(false); break;
            case "removewatches": await RemoveWatchesAsync(zk, words, ct).ConfigureAwait(false); break;
            case "getEphemerals": await GetEphemeralsAsync(zk, words, ct).ConfigureAwait(false); break;
            case "getAllChildrenNumber": await GetAllChildrenNumberAsync(zk, words, ct).ConfigureAwait(false); break;
            case "addWatch": await AddWatchAsync(zk, words, ct).ConfigureAwait(false); break;
            case "whoami": await WhoAmIAsync(zk, ct).ConfigureAwait(false); break;
            case "close": await zk.CloseAsync(ct).ConfigureAwait(false); break;
            case "version":
                if (NoOptions.Parse(words).Arguments.Count > 1) throw new CliError(Usage("version"));
                WriteOut($"ZooKeeper CLI version: {Warden.Server.Network.FourLetterWords.Version}");
                break;
        }
    }

    private async Task CreateAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ParseAtLeast(CreateOptions, words, 2, "create");
        bool e = cl.Has("e"), s = cl.Has("s"), c = cl.Has("c"), t = cl.Has("t");
        if (c && (e || s)) throw new CliError("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.");
        long ttl = 0;
        if (t && !long.TryParse(cl.Value("t"), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out ttl))
        {
            throw new CliError("-t argument must be a long value");
        }
        if (t && e) throw new CliError("TTLs cannot be used with Ephemeral znodes");
        if (t && c) throw new CliError("TTLs cannot be used with Container znodes");
        var mode = (e, s, c, t) switch
        {
            (true, true, _, _) => CreateMode.EphemeralSequential,
            (true, false, _, _) => CreateMode.Ephemeral,
            (false, true, _, true) => CreateMode.PersistentSequentialWithTtl,
            (false, true, _, false) => CreateMode.PersistentSequential,
            (false, false, true, _) => CreateMode.Container,
            (false, false, false, true) => CreateMode.PersistentWithTtl,
            _ => CreateMode.Persistent,
        };
        if (t && (ttl <= 0 || ttl > MaxTtlMs))
        {
            throw new CliError($"ttl must be positive and cannot be larger than: {MaxTtlMs}");
        }
        var args = cl.Arguments;
        string path = args[1];
        byte[]? data = args.Count > 2 ? Encoding.UTF8.GetBytes(args[2]) : null;
        IReadOnlyList<Acl> acl = args.Count > 3 ? ParseAcl(args[3]) : Acl.OpenUnsafe;
        CheckPath(path, s);
        if (acl.Count == 0)
        {
            WriteErr(Formats.KeeperMessage(ErrorCode.InvalidAcl, null));
            throw new CliError(Formats.CommandError(ErrorCode.InvalidAcl, null));
        }
        try
        {
            var created = await zk.CreateAsync(path, data, mode, acl, t ? TimeSpan.FromMilliseconds(ttl) : null, ct).ConfigureAwait(false);
            WriteErr($"Created {created.Path}");
        }
        catch (ZooKeeperException error) when (error.Code == ErrorCode.InvalidAcl)
        {
            WriteErr(Formats.KeeperMessage(error.Code, error.Path));
            throw;
        }
        catch (ZooKeeperException error) when (error.Code == ErrorCode.EphemeralOnLocalSession)
        {
            WriteErr("Unable to create ephemeral node on a local session");
            throw;
        }
    }

    private static int VersionValue(ParsedOptions cl)
    {
        if (!cl.Has("v")) return -1;
        string text = cl.Value("v") ?? "";
        if (!int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int version))
        {
            throw new CliError($"-v argument must be an int value, not \"{text}\"");
        }
        return version;
    }

    private async Task DeleteAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ParseAtLeast(VersionOption, words, 2, "delete");
        if (cl.Arguments.Count > 2)
        {
            WriteErr("'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.");
        }
        string path = cl.Arguments[1];
        int version = VersionValue(cl);
        CheckPath(path);
        await zk.DeleteAsync(path, version, ct).ConfigureAwait(false);
    }

    private async Task DeleteAllAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ParseAtLeast(BatchOption, words, 2, "deleteall");
        int batch = 1000;
        if (cl.Has("b") && !int.TryParse(cl.Value("b"), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out batch))
        {
            throw new CliError("-b argument must be an int value");
        }
        string path = cl.Arguments[1];
        CheckPath(path);
        var tree = await ListSubtreeBreadthFirstAsync(zk, path, ct).ConfigureAwait(false);
        // Leaves first, root last, in multis of at most `batch` deletes; stop at the first batch that fails.
        bool success = true;
        var ops = new List<Op>();
        for (int i = tree.Count - 1; i >= 0; i--)
        {
            ops.Add(Op.Delete(tree[i]));
            if (ops.Count != batch && i != 0) continue;
            try
            {
                await zk.MultiAsync(ops, ct).ConfigureAwait(false);
            }
            catch (ZooKeeperException error) when (!error.IsConnectionLoss)
            {
                success = false;
                break;
            }
            ops = [];
        }
        if (!success) WriteErr("Failed to delete some node(s) in the subtree!");
    }

    private static async Task<List<string>> ListSubtreeBreadthFirstAsync(ZooKeeperClient zk, string root, CancellationToken ct)
    {
        var tree = new List<string> { root };
        var queue = new Queue<string>();
        queue.Enqueue(root);
        while (queue.TryDequeue(out var node))
        {
            var children = await zk.GetChildrenAsync(node, ct).ConfigureAwait(false);
            foreach (string child in children.Children)
            {
                string childPath = (node == "/" ? "" : node) + "/" + child;
                queue.Enqueue(childPath);
                tree.Add(childPath);
            }
        }
        return tree;
    }

    private async Task SetAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ParseAtLeast(SetOptions, words, 3, "set");
        string path = cl.Arguments[1];
        byte[] data = Encoding.UTF8.GetBytes(cl.Arguments[2]);
        int version = VersionValue(cl);
        CheckPath(path);
        var stat = await zk.SetDataAsync(path, data, version, ct).ConfigureAwait(false);
        if (cl.Has("s")) WriteStat(stat);
    }

    private async Task GetAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ParseWithOldWatchForm(GetOptions, words, "get", "get [-s] [-w] path", 2);
        bool watch = cl.Has("w");
        string path = cl.Arguments[1];
        CheckPath(path);
        var node = watch
            ? await zk.GetDataAsync(path, _watcher, ct).ConfigureAwait(false)
            : await zk.GetDataAsync(path, ct).ConfigureAwait(false);
        await zk.WhenEventsDeliveredAsync().ConfigureAwait(false);
        WriteOut(node.IsNull ? "null" : Encoding.UTF8.GetString(node.Data));
        if (cl.Has("s")) WriteStat(node.Stat);
    }

    private async Task LsAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = LsOptions.Parse(words);
        if (cl.Has("?"))
        {
            WriteOut("usage: ls [options] path\n -?   help\n -R   recurse\n -s   stat\n -w   watch");
        }
        if (cl.Arguments.Count > 2)
        {
            words[2] = "-w";
            WriteErr("'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.");
            cl = LsOptions.Parse(words);
        }
        if (cl.Arguments.Count < 2) throw new CliError(Usage("ls"));
        string path = cl.Arguments[1];
        bool watch = cl.Has("w");
        CheckPath(path);
        if (cl.Has("R"))
        {
            await (watch ? zk.GetDataAsync(path, _watcher, ct) : zk.GetDataAsync(path, ct)).ConfigureAwait(false);
            WriteOut(path);
            await VisitDepthFirstAsync(zk, path, watch, p => { WriteOut(p); return Task.CompletedTask; }, ct).ConfigureAwait(false);
            return;
        }
        var children = watch
            ? await zk.GetChildrenAsync(path, _watcher, ct).ConfigureAwait(false)
            : await zk.GetChildrenAsync(path, ct).ConfigureAwait(false);
        await zk.WhenEventsDeliveredAsync().ConfigureAwait(false);
        WriteOut(Formats.JavaList(children.Children.Order(StringComparer.Ordinal)));
        if (cl.Has("s")) WriteStat(children.Stat);
    }

    /// <summary>
    /// Apache's ZKUtil.visitSubTreeDFS below the root: each node's children (sorted) are visited before any
    /// grandchild; a node deleted meanwhile is skipped.
    /// </summary>
    private async Task VisitDepthFirstAsync(ZooKeeperClient zk, string path, bool watch, Func<string, Task> visit, CancellationToken ct)
    {
        List<string> children;
        try
        {
            var listed = watch
                ? await zk.GetChildrenAsync(path, _watcher, ct).ConfigureAwait(false)
                : await zk.GetChildrenAsync(path, ct).ConfigureAwait(false);
            children = [.. listed.Children.Order(StringComparer.Ordinal)];
        }
        catch (ZooKeeperException error) when (error.Code == ErrorCode.NoNode)
        {
            return;
        }
        string prefix = path == "/" ? "/" : path + "/";
        foreach (string child in children) await visit(prefix + child).ConfigureAwait(false);
        foreach (string child in children) await VisitDepthFirstAsync(zk, prefix + child, watch, visit, ct).ConfigureAwait(false);
    }

    private async Task StatAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ParseWithOldWatchForm(WatchOption, words, "stat", "stat [-w] path", 2);
        string path = cl.Arguments[1];
        CheckPath(path);
        var stat = cl.Has("w")
            ? await zk.ExistsAsync(path, _watcher, ct).ConfigureAwait(false)
            : await zk.ExistsAsync(path, ct).ConfigureAwait(false);
        await zk.WhenEventsDeliveredAsync().ConfigureAwait(false);
        if (stat is not { } found) throw new CliError(Formats.CommandError(ErrorCode.NoNode, path));
        WriteStat(found);
    }

    private async Task SyncAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ParseAtLeast(NoOptions, words, 2, "sync");
        string path = cl.Arguments[1];
        CheckPath(path);
        try
        {
            await zk.SyncAsync(path, ct).WaitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
            WriteOut("Sync is OK");
        }
        catch (ZooKeeperException error) when (!error.IsConnectionLoss)
        {
            WriteOut($"Sync has failed. rc={(int)error.Code}");
        }
    }

    private async Task RemoveWatchesAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ParseAtLeast(RemoveWatchesOptions, words, 2, "removewatches");
        string path = cl.Arguments[1];
        var type = cl.Has("c") ? WatcherType.Children : cl.Has("d") ? WatcherType.Data : WatcherType.Any;
        CheckPath(path);
        await zk.RemoveWatchesAsync(path, type, cl.Has("l"), ct).ConfigureAwait(false);
    }

    private async Task GetEphemeralsAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = NoOptions.Parse(words);
        string path = cl.Arguments.Count < 2 ? "/" : cl.Arguments[1];
        CheckPath(path);
        var ephemerals = await zk.GetEphemeralsAsync(path, ct).ConfigureAwait(false);
        // Apache's Java client hands back the server's paths, chroot included; zkCli prints them so.
        if (zk.Chroot is { } chroot) ephemerals = [.. ephemerals.Select(p => p == "/" ? chroot : chroot + p)];
        WriteOut(Formats.JavaList(ephemerals));
    }

    private async Task GetAllChildrenNumberAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = NoOptions.Parse(words);
        if (cl.Arguments.Count < 2) throw new CliError(Usage("getAllChildrenNumber"));
        string path = cl.Arguments[1];
        CheckPath(path);
        int count = await zk.GetAllChildrenNumberAsync(path, ct).ConfigureAwait(false);
        WriteOut(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task AddWatchAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = AddWatchOptions.Parse(words);
        if (cl.Arguments.Count != 2) throw new CliError(Usage("addWatch"));
        var mode = AddWatchMode.PersistentRecursive;
        if (cl.Has("m"))
        {
            mode = (cl.Value("m") ?? "").ToUpperInvariant() switch
            {
                "PERSISTENT" => AddWatchMode.Persistent,
                "PERSISTENT_RECURSIVE" => AddWatchMode.PersistentRecursive,
                _ => throw new CliError(Usage("addWatch")),
            };
        }
        string path = cl.Arguments[1];
        CheckPath(path);
        await zk.AddWatchAsync(path, mode, _watcher, ct).ConfigureAwait(false);
    }

    private void WriteStat(Stat stat) => WriteOut(Formats.Stat(stat).TrimEnd('\n'));
}
