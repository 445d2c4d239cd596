using System.Text;
using Warden.Client;
using Warden.Data;

namespace Warden.Cli.Shell;

// The ensemble's configuration: config and reconfig.
public sealed partial class ShellSession
{
    private async Task ConfigAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ConfigOptions.Parse(words);
        var config = await zk.GetConfigAsync(cl.Has("w") ? _watcher : null, ct).ConfigureAwait(false);
        string text = config.IsNull ? "null" : Encoding.UTF8.GetString(config.Data);
        WriteOut(cl.Has("c") ? ClientConnectString(text) : text);
        if (cl.Has("s")) WriteStat(config.Stat);
    }

    /// <summary>
    /// `config -c`: the config version, a space, then each server's client address (host:port after the ';' of
    /// its line, 0.0.0.0 when only a port is given, nothing for a server without one), comma separated, in the
    /// order Apache's ConfigUtils.getClientConfigStr visits them: that of the java.util.Properties it loads the
    /// text into, which is hash order, not file order.
    /// </summary>
    public static string ClientConnectString(string config)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var keys = new List<string>();
        foreach (string line in config.Split('\n'))
        {
            string trimmed = line.Trim();
            int equals = trimmed.IndexOf('=', StringComparison.Ordinal);
            if (trimmed.Length == 0 || trimmed[0] is '#' or '!' || equals <= 0) continue;
            string key = trimmed[..equals].Trim();
            if (!values.ContainsKey(key)) keys.Add(key);
            values[key] = trimmed[(equals + 1)..].Trim();
        }
        // Properties keeps its entries in a ConcurrentHashMap: 16 buckets, doubled when three quarters full.
        int capacity = 16;
        while (keys.Count >= capacity - capacity / 4) capacity *= 2;
        string version = "";
        var clients = new List<string>();
        foreach (string key in JavaHashOrder.Order(keys, capacity))
        {
            if (key == "version") version = values[key];
            if (!key.StartsWith("server.", StringComparison.Ordinal)) continue;
            string client = values[key].Split(';', 2) is [_, var address] ? address.Trim() : "";
            clients.Add(client.Length == 0 ? "" : client.Contains(':', StringComparison.Ordinal) ? client : "0.0.0.0:" + client);
        }
        return version + " " + string.Join(",", clients);
    }

    private async Task ReconfigAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ReconfigOptions.Parse(words);
        if (!(cl.Has("file") || cl.Has("members")) && !cl.Has("add") && !cl.Has("remove")) throw new CliError(Usage("reconfig"));
        long version = -1;
        if (cl.Has("v") && !long.TryParse(cl.Value("v"), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out version))
        {
            throw new CliError("-v must be followed by a long (configuration version)");
        }
        if ((cl.Has("file") || cl.Has("members")) && (cl.Has("add") || cl.Has("remove")))
        {
            throw new CliError("Can't use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)");
        }
        if (cl.Has("file") && cl.Has("members")) throw new CliError("Can't use -file and -members together (conflicting non-incremental modes)");
        string? members = cl.Value("members")?.ToLowerInvariant();
        if (cl.Has("file"))
        {
            string file = cl.Value("file")!;
            try
            {
                members = string.Join("\n", File.ReadAllLines(file)
                    .Select(l => l.Trim())
                    .Where(l => l.StartsWith("server.", StringComparison.Ordinal) || l.StartsWith("version=", StringComparison.Ordinal)));
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                throw new CliError($"Error processing {file}{error.Message}");
            }
        }
        var config = await zk.ReconfigAsync(cl.Value("add")?.ToLowerInvariant(), cl.Value("remove")?.ToLowerInvariant(), members, version, ct).ConfigureAwait(false);
        WriteOut("Committed new configuration:\n" + Encoding.UTF8.GetString(config.Data));
        if (cl.Has("s")) WriteStat(config.Stat);
    }
}
