using System.Globalization;
using System.Text;
using Warden.Client;
using Warden.Protocol;

namespace Warden.Cli.Shell;

/// <summary>The text zkCli prints for stats, ACLs, ids, events and errors, character for character.</summary>
public static class Formats
{
    /// <summary>The eleven lines of `stat`, `get -s`, `ls -s`: zxids and owner in hex, times as Java's Date prints them.</summary>
    public static string Stat(Stat stat, TimeZoneInfo? zone = null)
    {
        zone ??= TimeZoneInfo.Local;
        var text = new StringBuilder();
        text.Append("cZxid = 0x").Append(Hex(stat.Czxid)).Append('\n');
        text.Append("ctime = ").Append(JavaDate(stat.Ctime, zone)).Append('\n');
        text.Append("mZxid = 0x").Append(Hex(stat.Mzxid)).Append('\n');
        text.Append("mtime = ").Append(JavaDate(stat.Mtime, zone)).Append('\n');
        text.Append("pZxid = 0x").Append(Hex(stat.Pzxid)).Append('\n');
        text.Append("cversion = ").Append(stat.Cversion.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("dataVersion = ").Append(stat.Version.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("aclVersion = ").Append(stat.Aversion.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("ephemeralOwner = 0x").Append(Hex(stat.EphemeralOwner)).Append('\n');
        text.Append("dataLength = ").Append(stat.DataLength.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("numChildren = ").Append(stat.NumChildren.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return text.ToString();
    }

    /// <summary>Java's Long.toHexString: lower case, no leading zeros, two's complement for negatives.</summary>
    public static string Hex(long value) => ((ulong)value).ToString("x", CultureInfo.InvariantCulture);

    /// <summary>
    /// java.util.Date.toString: <c>Fri Nov 27 13:25:15 UTC 2026</c>, in the local time zone. The zone's short
    /// name is UTC/GMT where the offset is zero and no daylight saving applies, otherwise Java's fallback form
    /// <c>GMT+01:00</c> (.NET has no portable source of names such as CET).
    /// </summary>
    public static string JavaDate(long epochMillis, TimeZoneInfo zone)
    {
        var utc = DateTimeOffset.FromUnixTimeMilliseconds(epochMillis);
        var local = TimeZoneInfo.ConvertTime(utc, zone);
        return string.Create(CultureInfo.InvariantCulture,
            $"{local:ddd MMM dd HH:mm:ss} {ZoneName(zone, local)} {local:yyyy}");
    }

    private static string ZoneName(TimeZoneInfo zone, DateTimeOffset at)
    {
        var offset = at.Offset;
        if (offset == TimeSpan.Zero && !zone.SupportsDaylightSavingTime)
        {
            return zone.Id is "GMT" or "Etc/GMT" or "Europe/London" ? "GMT" : "UTC";
        }
        string sign = offset < TimeSpan.Zero ? "-" : "+";
        var abs = offset.Duration();
        return string.Create(CultureInfo.InvariantCulture, $"GMT{sign}{abs.Hours:00}:{abs.Minutes:00}");
    }


    /// <summary>
    /// `getAcl`'s two lines per entry: the Id as jute's generated toString prints a record (quoted strings,
    /// a comma, a newline), then ": " and the permission letters.
    /// </summary>
    public static string AclEntry(Acl acl) =>
        $"{JuteString(acl.Id.Scheme)},{JuteString(acl.Id.Identity)}\n: {acl.Perms.ToLetters()}";

    private static string JuteString(string value)
    {
        var text = new StringBuilder(value.Length + 1).Append('\'');
        foreach (char c in value)
        {
            text.Append(c switch
            {
                '\0' => "%00",
                '\n' => "%0A",
                '\r' => "%0D",
                ',' => "%2C",
                '}' => "%7D",
                '%' => "%25",
                _ => c.ToString(),
            });
        }
        return text.ToString();
    }

    /// <summary>Java's WatchedEvent.toString, as zkCli prints every event its watcher hears.</summary>
    public static string Event(KeeperState state, EventType type, string? path) =>
        $"WatchedEvent state:{state} type:{type} path:{path ?? "null"}";

    /// <summary>KeeperException.getMessage: <c>KeeperErrorCode = NoNode for /a</c>.</summary>
    public static string KeeperMessage(ErrorCode code, string? path) =>
        path is null ? $"KeeperErrorCode = {CodeMessage(code)}" : $"KeeperErrorCode = {CodeMessage(code)} for {path}";

    /// <summary>
    /// What zkCli prints for a failed command (its CliWrapperException): a sentence for the common errors,
    /// KeeperException's message for the rest.
    /// </summary>
    public static string CommandError(ErrorCode code, string? path)
    {
        string shown = path ?? "null";
        return code switch
        {
            ErrorCode.NoNode => $"Node does not exist: {shown}",
            ErrorCode.NoChildrenForEphemerals => $"Ephemerals cannot have children: {shown}",
            ErrorCode.NodeExists => $"Node already exists: {shown}",
            ErrorCode.NotEmpty => $"Node not empty: {shown}",
            ErrorCode.NotReadOnly => $"Not a read-only call: {shown}",
            ErrorCode.InvalidAcl => $"Acl is not valid : {shown}",
            ErrorCode.NoAuth => $"Insufficient permission : {shown}",
            ErrorCode.BadArguments => $"Arguments are not valid : {shown}",
            ErrorCode.BadVersion => $"version No is not valid : {shown}",
            ErrorCode.ReconfigInProgress => "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)",
            ErrorCode.NewConfigNoQuorum => "No quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced",
            ErrorCode.QuotaExceeded => $"Quota has exceeded : {shown}",
            _ => KeeperMessage(code, path),
        };
    }

    /// <summary>KeeperException.Code's message for each code.</summary>
    public static string CodeMessage(ErrorCode code) => code switch
    {
        ErrorCode.Ok => "ok",
        ErrorCode.ApiError => "APIError",
        ErrorCode.NotEmpty => "Directory not empty",
        ErrorCode.SessionExpired => "Session expired",
        ErrorCode.InvalidCallback => "Invalid callback",
        ErrorCode.SessionMoved => "Session moved",
        ErrorCode.NotReadOnly => "Not a read-only call",
        ErrorCode.EphemeralOnLocalSession => "Ephemeral node on local session",
        ErrorCode.NoWatcher => "No such watcher",
        ErrorCode.ReconfigDisabled => "Reconfig is disabled",
        ErrorCode.SessionClosedRequireSaslAuth => "Session closed because client failed to authenticate",
        ErrorCode.QuotaExceeded => "Quota has exceeded",
        ErrorCode.ThrottledOp => "Op throttled due to high load",
        ErrorCode.InvalidAcl => "InvalidACL",
        ErrorCode.RequestTimeout or ErrorCode.UnknownSession => $"Unknown error {code}",
        _ when Enum.IsDefined(code) => code.ToString(),
        _ => $"Unknown error {(int)code}",
    };

    /// <summary>java.util.List.toString: <c>[a, b]</c>.</summary>
    public static string JavaList(IEnumerable<string> items) => "[" + string.Join(", ", items) + "]";

    /// <summary>Java's Integer.decode (sign; 0x, 0X or # for hex; a leading 0 for octal), as `redo` reads its number.</summary>
    public static bool TryDecodeInt(string text, out int value)
    {
        value = 0;
        if (!Warden.Server.Configuration.JavaNumbers.TryDecodeLong(text, out long decoded) || decoded is < int.MinValue or > int.MaxValue) return false;
        value = (int)decoded;
        return true;
    }
}
