using System.Text.Json.Nodes;
using Warden.Protocol;

namespace Warden.Server.Admin.Console;

/// <summary>A znode's stat and ACL as the console's JSON shows them, with zkCli's names.</summary>
internal static class ConsoleJson
{
    public static JsonObject Stat(Stat stat) => new()
    {
        ["czxid"] = Hex(stat.Czxid),
        ["mzxid"] = Hex(stat.Mzxid),
        ["pzxid"] = Hex(stat.Pzxid),
        ["ctime"] = stat.Ctime,
        ["mtime"] = stat.Mtime,
        ["version"] = stat.Version,
        ["cversion"] = stat.Cversion,
        ["aversion"] = stat.Aversion,
        ["ephemeralOwner"] = Hex(stat.EphemeralOwner),
        ["dataLength"] = stat.DataLength,
        ["numChildren"] = stat.NumChildren,
    };

    public static JsonArray Acl(IReadOnlyList<Acl> acl) =>
        new([.. acl.Select(entry => (JsonNode)new JsonObject
        {
            ["scheme"] = entry.Id.Scheme,
            ["id"] = entry.Id.Identity,
            ["perms"] = entry.Perms.ToLetters(),
        })]);


    private static string Hex(long value) => "0x" + value.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
}
