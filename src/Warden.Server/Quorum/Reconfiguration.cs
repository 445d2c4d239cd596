using System.Globalization;
using System.Text;

namespace Warden.Server.Quorum;

/// <summary>A reconfig request that cannot be carried out: malformed, or asking for an ensemble that cannot work.</summary>
public sealed class ReconfigArgumentException(string message) : Exception(message);

/// <summary>
/// The ensemble configuration as text and back, and the membership changes a reconfig request asks for, with
/// Apache's rules (PrepRequestProcessor's reconfig case, QuorumServer's parser, QuorumMaj.toString):
/// <list type="bullet">
/// <item>incremental: <c>leaving</c> is a comma-separated list of server ids, <c>joining</c> a comma-separated list
/// of <c>server.N=host:quorumPort:electionPort[:participant|observer];[clientHost:]clientPort</c>, where the client
/// part is required; a joiner that is already a member replaces its line;</item>
/// <item>bulk: <c>members</c> is the whole new list of server lines, separated by commas or newlines;</item>
/// <item>the new configuration needs at least two voters (one when standaloneEnabled=false).</item>
/// </list>
/// Everything here is pure: the checks that need the leader's state (its version, its synchronised learners) are
/// the caller's.
/// </summary>
public static class Reconfiguration
{
    /// <summary>Reads configuration text (<c>server.N=...</c> lines, optionally <c>version=hex</c>) as /zookeeper/config holds it.</summary>
    public static (List<EnsembleMember> Members, long Version) ParseConfigText(string text)
    {
        var members = new List<EnsembleMember>();
        long version = 0;
        foreach (var (key, value) in Lines(text))
        {
            if (key == "version")
            {
                if (!long.TryParse(value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out version))
                {
                    throw new ReconfigArgumentException($"version={value} is not a hex number");
                }
            }
            else if (key.StartsWith("server.", StringComparison.Ordinal))
            {
                members.Add(ParseServer(ServerId(key), value, requireClientPort: false));
            }
        }
        return (members, version);
    }

    /// <summary>The members after an incremental change: the leaving ids removed, then each joiner added or replaced.</summary>
    public static List<EnsembleMember> Incremental(IReadOnlyList<EnsembleMember> current, string? joining, string? leaving)
    {
        var next = current.ToDictionary(m => m.Id);
        foreach (string leaver in Split(leaving))
        {
            if (!long.TryParse(leaver, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long id))
            {
                throw new FormatException($"\"{leaver}\" is not a server id");
            }
            next.Remove(id);
        }
        foreach (string joiner in Split(joining))
        {
            string[] parts = joiner.Split('=');
            if (parts.Length != 2) throw new ReconfigArgumentException("Wrong format of server string");
            string key = parts[0].Trim();
            long id = ServerId(key[(key.LastIndexOf('.') + 1)..], whole: key);
            var member = ParseServer(id, parts[1], requireClientPort: true);
            foreach (var other in next.Values.Where(o => o.Id != id))
            {
                if (SameAddress(other, member)) throw new ReconfigArgumentException("Reconfiguration failed");
            }
            next.Remove(id);
            next[id] = member;
        }
        return [.. next.Values];
    }

    /// <summary>The members of a bulk (-members) change: the whole new list, commas or newlines between lines.</summary>
    public static List<EnsembleMember> Bulk(string members)
    {
        var parsed = new Dictionary<long, EnsembleMember>();
        foreach (var (key, value) in Lines(members.Replace(',', '\n')))
        {
            if (key == "version") continue;
            if (!key.StartsWith("server.", StringComparison.Ordinal))
            {
                if (key.StartsWith("group", StringComparison.Ordinal) || key.StartsWith("weight", StringComparison.Ordinal))
                {
                    throw new ReconfigArgumentException("hierarchical quorums are not supported");
                }
                throw new ReconfigArgumentException($"Unrecognised parameter: {key}");
            }
            var member = ParseServer(ServerId(key), value, requireClientPort: false);
            parsed[member.Id] = member;
        }
        return [.. parsed.Values];
    }

    /// <summary>Apache's minimum: two voters, or one when standaloneEnabled=false.</summary>
    public static void CheckVoters(IReadOnlyList<EnsembleMember> members, bool standaloneEnabled)
    {
        int voters = members.Count(m => !m.IsObserver);
        if (standaloneEnabled && voters < 2)
        {
            throw new ReconfigArgumentException("Reconfig failed - new configuration must include at least 2 followers");
        }
        if (voters < 1) throw new ReconfigArgumentException("Reconfig failed - new configuration must include at least 1 follower");
    }

    /// <summary>
    /// The text of a configuration as Apache's QuorumMaj.toString writes it into /zookeeper/config: each member's line,
    /// in ascending id order, then <c>version=</c> and the version in hex, with no final newline.
    /// </summary>
    public static string ConfigText(IEnumerable<EnsembleMember> members, long version)
    {
        var text = new StringBuilder();
        foreach (var member in members.OrderBy(m => m.Id)) text.Append(member.ConfigLine()).Append('\n');
        text.Append("version=").Append(version.ToString("x", CultureInfo.InvariantCulture));
        return text.ToString();
    }

    /// <summary>
    /// The dynamic file Apache writes (QuorumPeerConfig.writeDynamicConfig): the server lines without the version,
    /// sorted as strings (so server.10 comes before server.2), joined by newlines with none at the end.
    /// </summary>
    public static string DynamicFileText(IEnumerable<EnsembleMember> members) =>
        string.Join("\n", members.Select(m => m.ConfigLine()).Order(StringComparer.Ordinal));

    /// <summary>Parses one server's value, <c>host:quorumPort:electionPort[:role][;[clientHost:]clientPort]</c>.</summary>
    public static EnsembleMember ParseServer(long id, string value, bool requireClientPort)
    {
        string[] halves = value.Split(';');
        if (halves.Length > 2) throw new ReconfigArgumentException($"server.{id}: more than one ';' in {value}");
        var server = SplitAddress(halves[0].Trim());
        if (server.Count is not (3 or 4))
        {
            throw new ReconfigArgumentException($"server.{id}: expected host:quorumPort:electionPort[:participant|observer], got {halves[0]}");
        }
        int quorumPort = Port(server[1], id);
        int electionPort = Port(server[2], id);
        if (quorumPort == electionPort) throw new ReconfigArgumentException($"server.{id}: the quorum and election ports must differ");
        bool observer = false;
        if (server.Count == 4)
        {
            observer = server[3].ToLowerInvariant() switch
            {
                "observer" => true,
                "participant" => false,
                _ => throw new ReconfigArgumentException($"server.{id}: unrecognised peer type {server[3]}"),
            };
        }
        string? clientHost = null;
        int? clientPort = null;
        if (halves.Length == 2)
        {
            var client = SplitAddress(halves[1].Trim());
            switch (client.Count)
            {
                case 1: clientHost = "0.0.0.0"; clientPort = Port(client[0], id); break;
                case 2: clientHost = client[0]; clientPort = Port(client[1], id); break;
                default: throw new ReconfigArgumentException($"server.{id}: expected [clientHost:]clientPort after ';', got {halves[1]}");
            }
        }
        else if (requireClientPort)
        {
            throw new ReconfigArgumentException("Wrong format of server string - each server should have 3 ports specified");
        }
        return new EnsembleMember(id, server[0], quorumPort, electionPort, observer, clientHost, clientPort);
    }

    private static bool SameAddress(EnsembleMember a, EnsembleMember b) =>
        string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase)
        && (a.QuorumPort == b.QuorumPort || a.ElectionPort == b.ElectionPort || a.QuorumPort == b.ElectionPort || a.ElectionPort == b.QuorumPort);

    /// <summary>Splits on ':' outside [brackets], so that an IPv6 host stays whole.</summary>
    private static List<string> SplitAddress(string text)
    {
        var parts = new List<string>();
        var part = new StringBuilder();
        bool bracketed = false;
        foreach (char c in text)
        {
            if (c == '[') bracketed = true;
            else if (c == ']') bracketed = false;
            else if (c == ':' && !bracketed)
            {
                parts.Add(part.ToString());
                part.Clear();
                continue;
            }
            part.Append(c);
        }
        parts.Add(part.ToString());
        for (int i = 0; i < parts.Count; i++)
        {
            string p = parts[i].Trim();
            parts[i] = p.StartsWith('[') && p.EndsWith(']') ? p[1..^1] : p;
        }
        if (parts.Any(p => p.Length == 0)) throw new ReconfigArgumentException($"an empty part in {text}");
        return parts;
    }

    private static int Port(string text, long id) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and <= 65535
            ? port
            : throw new ReconfigArgumentException($"server.{id}: {text} is not a port number");

    private static long ServerId(string key) => ServerId(key["server.".Length..], whole: key);

    private static long ServerId(string digits, string whole) =>
        long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long id)
            ? id
            : throw new ReconfigArgumentException($"\"{whole}\" needs a number after \"server.\"");

    private static IEnumerable<string> Split(string? list) =>
        list is null ? [] : list.Split(',').Select(s => s.Trim()).Where(s => s.Length > 0);

    /// <summary>key=value lines of a configuration text, blank and comment lines skipped.</summary>
    private static IEnumerable<(string Key, string Value)> Lines(string text)
    {
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or '!') continue;
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0) throw new ReconfigArgumentException($"\"{line}\" is not a key=value line");
            yield return (line[..equals].Trim(), line[(equals + 1)..].Trim());
        }
    }
}
