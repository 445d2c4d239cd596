using System.Globalization;
using System.Text;

namespace Warden.Data;

/// <summary>
/// A quota or usage record as Apache keeps it in the data of zookeeper_limits and zookeeper_stats nodes:
/// "count=N,bytes=N", and when hard limits are present "count=N,bytes=N=;byteHardLimit=N;countHardLimit=N"
/// (the extra "=" keeps old parsers reading only count and bytes). A missing value reads as -1.
/// </summary>
public sealed class StatsTrack
{
    public const string Count = "count";
    public const string Bytes = "bytes";
    public const string CountHardLimit = "countHardLimit";
    public const string ByteHardLimit = "byteHardLimit";

    private readonly Dictionary<string, long> _values = new(StringComparer.Ordinal);

    public StatsTrack()
    {
    }

    public StatsTrack(byte[]? data)
    {
        string text = data is null ? "" : Encoding.UTF8.GetString(data);
        foreach (var pair in text.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=');
            if (parts.Length < 1 || parts[0].Length == 0) continue;
            string value = parts.Length > 1 && parts[1].Length > 0 ? parts[1] : "-1";
            if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number)) _values[parts[0]] = number;
        }
    }

    public long Get(string key) => _values.TryGetValue(key, out var value) ? value : -1;
    public void Set(string key, long value) => _values[key] = value;

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Count}={Get(Count)},{Bytes}={Get(Bytes)}");
        var extra = _values.Keys.Where(k => k is not (Count or Bytes)).Order(StringComparer.Ordinal).ToList();
        if (extra.Count > 0)
        {
            text.Append('=');
            foreach (var key in extra) text.Append(CultureInfo.InvariantCulture, $";{key}={_values[key]}");
        }
        return text.ToString();
    }

    public byte[] ToBytes() => Encoding.UTF8.GetBytes(ToString());
}

/// <summary>Where quota records live: /zookeeper/quota + path + /zookeeper_limits (or zookeeper_stats).</summary>
public static class QuotaPaths
{
    public const string LimitNode = "zookeeper_limits";
    public const string StatNode = "zookeeper_stats";

    public static string LimitPath(string path) => DataTree.QuotaPath + path + "/" + LimitNode;
    public static string StatPath(string path) => DataTree.QuotaPath + path + "/" + StatNode;
}
