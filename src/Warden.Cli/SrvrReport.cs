using System.Globalization;
using Warden.Protocol;

namespace Warden.Cli;

/// <summary>
/// What a server says about itself in answer to the `srvr` four-letter word. Apache ZooKeeper 3.8 and
/// Warden print the same lines:
/// <code>
/// Zookeeper version: 3.8.0-..., built on 2024-12-29 17:54 UTC
/// READ-ONLY mode; serving only read-only clients        (read-only servers only)
/// Latency min/avg/max: 0/1.402/26
/// Received: 309
/// Sent: 320
/// Connections: 1
/// Outstanding: 0
/// Zxid: 0x6e                                            (Java's Long.toHexString: no padding)
/// Mode: standalone                                      (or leader, follower, observer, read-only)
/// Node count: 21
/// Proposal sizes last/min/max: -1/-1/-1                 (leaders only)
/// </code>
/// </summary>
public sealed record SrvrReport(
    string Version,
    string Mode,
    Zxid Zxid,
    string ZxidText,
    long Connections,
    long Outstanding,
    long NodeCount,
    string Latency)
{
    /// <summary>
    /// The version without its build stamp and source-control suffix, short enough for a table column:
    /// "3.8.0-5a02a05e..., built on ..." and Debian's unexpanded "3.8.0-${mvngit.commit.id}, built on ..."
    /// both become "3.8.0", while a named build such as "3.8.0-warden" keeps its name.
    /// </summary>
    public string ShortVersion
    {
        get
        {
            string version = Version;
            int built = version.IndexOf(", built on", StringComparison.Ordinal);
            if (built >= 0) version = version[..built];
            int dash = version.IndexOf('-');
            if (dash > 0)
            {
                string suffix = version[(dash + 1)..];
                bool commitHash = suffix.Length >= 7 && suffix.All(char.IsAsciiHexDigit);
                bool unexpanded = suffix.StartsWith("${", StringComparison.Ordinal);
                if (commitHash || unexpanded) version = version[..dash];
            }
            return version.Trim();
        }
    }
}

/// <summary>Turns the text a server sent back for `srvr` into a report, or into the reason it is not one.</summary>
public static class SrvrParser
{
    /// <summary>What Apache (and Warden) print instead of the report while the server cannot serve clients.</summary>
    public const string NotServing = "This ZooKeeper instance is not currently serving requests";

    /// <summary>The end of Apache's answer to a word that is left out of 4lw.commands.whitelist.</summary>
    private const string NotWhitelisted = "is not executed because it is not in the whitelist.";

    public static ProbeOutcome Parse(string answer)
    {
        string text = answer.Trim();
        if (text.Length == 0) return ProbeOutcome.Failed(FailureKind.NoAnswer);
        if (text.Contains(NotWhitelisted, StringComparison.Ordinal)) return ProbeOutcome.Failed(FailureKind.NotWhitelisted);
        if (text.StartsWith(NotServing, StringComparison.Ordinal)) return ProbeOutcome.Failed(FailureKind.NotServing);

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n'))
        {
            int colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0) fields.TryAdd(line[..colon], line[(colon + 2)..].TrimEnd('\r'));
        }
        if (!fields.TryGetValue("Mode", out string? mode)
            || !fields.TryGetValue("Zxid", out string? zxidText)
            || !TryParseZxid(zxidText, out var zxid))
        {
            return ProbeOutcome.Failed(FailureKind.NotZooKeeper, FirstLine(text));
        }
        return ProbeOutcome.Answered(new SrvrReport(
            Version: fields.GetValueOrDefault("Zookeeper version", ""),
            Mode: mode,
            Zxid: zxid,
            ZxidText: zxidText,
            Connections: Number(fields, "Connections"),
            Outstanding: Number(fields, "Outstanding"),
            NodeCount: Number(fields, "Node count"),
            Latency: fields.GetValueOrDefault("Latency min/avg/max", "")));
    }

    /// <summary>
    /// Reads srvr's zxid, which Java prints as an unpadded, unsigned hex number after "0x" (so a zxid
    /// with the top bit set has all sixteen digits).
    /// </summary>
    public static bool TryParseZxid(string text, out Zxid zxid)
    {
        zxid = Zxid.Zero;
        if (!text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) return false;
        if (!ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong value)) return false;
        zxid = new Zxid(unchecked((long)value));
        return true;
    }

    /// <summary>A missing or unreadable count is shown as -1 rather than failing the whole report.</summary>
    private static long Number(Dictionary<string, string> fields, string name) =>
        fields.TryGetValue(name, out string? text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)
            ? value
            : -1;

    private static string FirstLine(string text)
    {
        string line = text.Split('\n')[0].TrimEnd('\r');
        // Whatever answered may not be text at all; keep the message printable and short.
        var printable = new string(line.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return printable.Length <= 60 ? printable : printable[..60] + "...";
    }
}
