using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Warden.Testing;

namespace Warden.Admin.Tests;

/// <summary>
/// What Apache ZooKeeper 3.8.0 answered on its AdminServer, as key paths per command and server role
/// (admin-3.8.0.json, captured from the real server with a client holding one ephemeral node, two data watches
/// and a child watch), and the same key-path reduction applied to Warden's answers.
/// </summary>
internal static partial class ApacheAdmin
{
    /// <summary>Maps keyed by session id, path, expiry time or server id: their keys are data, not names.</summary>
    private static readonly HashSet<string> DataKeyedMaps =
        ["expiry_time_to_session_ids", "session_id_to_ephemeral_paths", "session_id_to_watched_paths", "path_to_session_ids", "current_config"];

    private static readonly JsonDocument Fixture =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "admin-3.8.0.json")));

    /// <summary>Every command Apache lists at /commands, by primary name.</summary>
    public static IReadOnlyList<string> Commands =>
        [.. Fixture.RootElement.GetProperty("commands").EnumerateArray().Select(e => e.GetString()!)];

    /// <summary>Every alias and the primary name it stands for.</summary>
    public static IReadOnlyDictionary<string, string> Aliases =>
        Fixture.RootElement.GetProperty("aliases").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

    /// <summary>The key paths of a command's answer on a server of that role (standalone, leader, follower).</summary>
    public static IReadOnlySet<string> Keys(string role, string command) =>
        Fixture.RootElement.GetProperty(role).GetProperty(command).EnumerateArray().Select(e => e.GetString()!).ToHashSet();

    /// <summary>
    /// Object keys joined by '.', array elements as "[]", data-keyed maps' keys as "*", a learner id inside a
    /// per-learner mntr key as N.
    /// </summary>
    public static IReadOnlySet<string> KeyPaths(JsonElement element)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        Walk(element, "", paths);
        return paths.Select(p => LearnerId().Replace(p, "_N_learner")).ToHashSet();
    }

    private static void Walk(JsonElement element, string prefix, HashSet<string> paths)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                string last = prefix[(prefix.LastIndexOf('.') + 1)..];
                bool any = false;
                foreach (var property in element.EnumerateObject())
                {
                    any = true;
                    string name = DataKeyedMaps.Contains(last) ? "*" : property.Name;
                    Walk(property.Value, prefix.Length == 0 ? name : prefix + "." + name, paths);
                }
                if (!any && prefix.Length > 0) paths.Add(prefix);
                break;
            case JsonValueKind.Array:
                if (element.GetArrayLength() == 0) paths.Add(prefix + "[]");
                foreach (var item in element.EnumerateArray()) Walk(item, prefix + "[]", paths);
                break;
            default:
                paths.Add(prefix);
                break;
        }
    }

    [GeneratedRegex(@"_\d+_learner")]
    private static partial Regex LearnerId();

    /// <summary>Apache's mntr keys that Warden leaves out (MntrKeysLeftOut.txt), expanded to the keys they stand for.</summary>
    public static bool IsLeftOut(string key) => LeftOutNames.Value.Any(name => IsLeftOutName(name)(key));

    /// <summary>Whether a key is the named metric itself or one of its summary keys (avg_name, p99_name, ...).</summary>
    public static Predicate<string> IsLeftOutName(string name) =>
        key => key == name || SummaryPrefixes.Any(prefix => key == prefix + "_" + name);

    public static IReadOnlyList<string> LeftOutList => LeftOutNames.Value;

    private static readonly string[] SummaryPrefixes = ["avg", "min", "max", "cnt", "sum", "p50", "p95", "p99", "p999"];

    private static readonly Lazy<IReadOnlyList<string>> LeftOutNames = new(() =>
        [.. File.ReadLines(Path.Combine(AppContext.BaseDirectory, "MntrKeysLeftOut.txt"))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))]);

    /// <summary>zoo.cfg keys that turn the AdminServer on at 127.0.0.1:port.</summary>
    public static Dictionary<string, string> AdminOn(int port) => AdminOn(port.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The AdminServer on a port the harness picks (ServerProcess.PortOf("admin.serverPort")).</summary>
    public static Dictionary<string, string> AdminOnAnyFreePort() => AdminOn(ServerProcess.AnyFreePort);

    private static Dictionary<string, string> AdminOn(string port) => new()
    {
        ["admin.enableServer"] = "true",
        ["admin.serverAddress"] = "127.0.0.1",
        ["admin.serverPort"] = port,
    };

    public static async Task<JsonElement> GetJsonAsync(HttpClient http, int port, string command)
    {
        using var response = await http.GetAsync($"http://127.0.0.1:{port}/commands/{command}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    /// <summary>mntr's lines as key and value, without the zk_ prefix.</summary>
    public static Dictionary<string, string> ParseMntr(string mntr) => mntr.Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(line => line.Split('\t', 2)).Where(parts => parts.Length == 2)
        .ToDictionary(parts => parts[0].StartsWith("zk_", StringComparison.Ordinal) ? parts[0][3..] : parts[0], parts => parts[1]);
}
