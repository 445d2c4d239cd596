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

    /// <summary>The same text with its version line saying <paramref name="version"/> (added at the end when missing).</summary>
    public static byte[] WithVersion(byte[] text, long version)
    {
        var lines = Encoding.UTF8.GetString(text).Split('\n').Where(l => !l.Trim().StartsWith(VersionKey, StringComparison.Ordinal)).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        lines.Add(VersionKey + version.ToString("x", CultureInfo.InvariantCulture));
        return Encoding.UTF8.GetBytes(string.Join('\n', lines));
    }
}
