using System.Globalization;
using System.Text;
using Warden.Client;
using Warden.Protocol;

namespace Warden.Cli;

/// <summary>How far a server's data is behind the most advanced server of the list.</summary>
public static class Lag
{
    public const string OlderEpoch = "behind (older epoch)";

    /// <summary>The highest zxid among the servers that answered, or null when none did.</summary>
    public static Zxid? Highest(IEnumerable<ServerStatus> statuses)
    {
        Zxid? highest = null;
        foreach (var status in statuses)
        {
            if (status.Outcome.Report is { } report && (highest is null || report.Zxid > highest.Value)) highest = report.Zxid;
        }
        return highest;
    }

    /// <summary>
    /// The number of transactions <paramref name="zxid"/> is behind <paramref name="highest"/>. Within one epoch
    /// that is the difference of the counters (the low 32 bits); across epochs the counters restart, so the
    /// count is unknowable from zxids alone and the lag is only said to be an older epoch.
    /// </summary>
    public static string Describe(Zxid zxid, Zxid highest)
    {
        if (zxid.Epoch != highest.Epoch) return OlderEpoch;
        return (highest.Counter - zxid.Counter).ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>The two shapes of `warden status` output: zkServer.sh-like lines for one server, a table for several.</summary>
public static class StatusView
{
    private const string Red = "\u001b[31m";
    private const string Yellow = "\u001b[33m";
    private const string Reset = "\u001b[0m";
    private const string Gap = "  ";

    /// <summary>
    /// One server, "Name: value" lines like srvr's own. "Mode: standalone" is exactly the line zkServer.sh status
    /// prints, so scripts that grep for it keep working.
    /// </summary>
    public static string Lines(HostAddress address, SrvrReport report)
    {
        var text = new StringBuilder();
        text.Append("Server: ").Append(address).Append('\n');
        text.Append("Mode: ").Append(report.Mode).Append('\n');
        text.Append("Zxid: ").Append(report.ZxidText).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"Connections: {report.Connections}\n");
        text.Append(CultureInfo.InvariantCulture, $"Outstanding: {report.Outstanding}\n");
        text.Append(CultureInfo.InvariantCulture, $"Node count: {report.NodeCount}\n");
        text.Append("Latency min/avg/max: ").Append(report.Latency).Append('\n');
        text.Append("Zookeeper version: ").Append(report.Version).Append('\n');
        return text.ToString();
    }

    /// <summary>
    /// One row per server in the order given, columns aligned with spaces. A server that did not answer has
    /// "error" as its mode and the reason in place of the other columns, so `awk '{print $2}'` still reads a mode.
    /// </summary>
    public static string Table(IReadOnlyList<ServerStatus> statuses, bool colour)
    {
        string[] header = ["SERVER", "MODE", "ZXID", "LAG", "CONNECTIONS", "NODES", "VERSION"];
        var highest = Lag.Highest(statuses);
        var rows = new List<string[]>();
        foreach (var status in statuses)
        {
            if (status.Outcome.Report is { } report)
            {
                rows.Add([
                    status.Address.ToString(), report.Mode, report.ZxidText, Lag.Describe(report.Zxid, highest!.Value),
                    Count(report.Connections), Count(report.NodeCount), report.ShortVersion,
                ]);
            }
            else
            {
                rows.Add([status.Address.ToString(), "error", status.Outcome.Reason]);
            }
        }

        // A reason spans the columns after MODE, so it takes no part in their widths.
        var widths = new int[header.Length];
        foreach (var row in rows.Prepend(header))
        {
            bool failure = row.Length < header.Length;
            for (int column = 0; column < (failure ? 2 : row.Length); column++)
            {
                widths[column] = Math.Max(widths[column], row[column].Length);
            }
        }

        var text = new StringBuilder();
        foreach (var row in rows.Prepend(header))
        {
            var line = new StringBuilder();
            bool failure = row.Length < header.Length;
            for (int column = 0; column < row.Length; column++)
            {
                bool last = column == row.Length - 1;
                string cell = last ? row[column] : row[column].PadRight(widths[column]);
                if (colour && failure && column >= 1) cell = Red + cell + Reset;
                else if (colour && !failure && column == 3 && !ReferenceEquals(row, header) && row[3] != "0") cell = Yellow + cell + Reset;
                line.Append(cell);
                if (!last) line.Append(Gap);
            }
            text.Append(line.ToString().TrimEnd()).Append('\n');
        }
        return text.ToString();
    }

    private static string Count(long value) => value < 0 ? "?" : value.ToString(CultureInfo.InvariantCulture);
}
