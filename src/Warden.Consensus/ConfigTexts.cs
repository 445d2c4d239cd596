using System.Globalization;
using System.Text;

namespace Warden.Consensus;

/// <summary>
/// The version line of a configuration text as Apache writes it (<c>server.N=...</c> lines, then <c>version=hex</c>),
/// which the core reads and rewrites without interpreting the server lines, which are the host's business.
/// </summary>
public static class ConfigTexts
{
    private const string VersionKey = "version=";

    /// <summary>The hex version of the text's version line; 0 when it has none or it does not parse.</summary>
    public static long VersionOf(byte[] text)
    {
        foreach (string line in Encoding.UTF8.GetString(text).Split('\n'))
        {
            string trimmed = line.Trim();
            if (trimmed.StartsWith(VersionKey, StringComparison.Ordinal)
                && long.TryParse(trimmed.AsSpan(VersionKey.Length), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long version))
            {
                return version;
            }
        }
        return 0;
    }

    /// <summary>
    /// The voters and observers the text's <c>server.N=host:quorumPort:electionPort[:participant|observer][;client]</c>
    /// lines name; a line without a role is a participant, as in Apache's QuorumServer. Null when no line parses.
    /// </summary>
    public static (List<ServerId> Voters, List<ServerId> Observers)? Members(byte[] text)
    {
        var voters = new List<ServerId>();
        var observers = new List<ServerId>();
        foreach (string line in Encoding.UTF8.GetString(text).Split('\n'))
        {
            string trimmed = line.Trim();
            int equals = trimmed.IndexOf('=', StringComparison.Ordinal);
            if (!trimmed.StartsWith("server.", StringComparison.Ordinal) || equals < 0) continue;
            if (!long.TryParse(trimmed.AsSpan("server.".Length, equals - "server.".Length), NumberStyles.None, CultureInfo.InvariantCulture, out long id)) continue;
            string server = trimmed[(equals + 1)..].Split(';')[0].Trim();
            bool observer = server.EndsWith(":observer", StringComparison.OrdinalIgnoreCase);
            (observer ? observers : voters).Add(new ServerId(id));
        }
        return voters.Count + observers.Count == 0 ? null : (voters, observers);
    }

    /// <summary>The same text with its version line saying <paramref name="version"/> (added at the end when missing).</summary>
    public static byte[] WithVersion(byte[] text, long version)
    {
        var lines = Encoding.UTF8.GetString(text).Split('\n').Where(l => !l.Trim().StartsWith(VersionKey, StringComparison.Ordinal)).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        lines.Add(VersionKey + version.ToString("x", CultureInfo.InvariantCulture));
        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }
}
