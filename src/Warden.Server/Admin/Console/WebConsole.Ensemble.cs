using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Warden.Server.Admin.Console;

public sealed partial class WebConsole
{
    /// <summary>
    /// This server's figures from the AdminServer's commands, and every voting member with its mode, last zxid
    /// and lag behind the most advanced member. Other members are asked with <c>srvr</c> on their client port
    /// (in Apache's default 4lw whitelist), which only works when their server.N lines name one; a member that
    /// cannot be asked is listed without figures, and says why.
    /// </summary>
    private async Task EnsembleAsync(HttpContext context)
    {
        var stats = await _commands!.RunAsync("server_stats", NoArguments).ConfigureAwait(false);
        var voting = await _commands.RunAsync("voting_view", NoArguments).ConfigureAwait(false);
        var monitor = await _commands.RunAsync("monitor", NoArguments).ConfigureAwait(false);
        var server = stats["server_stats"] as JsonObject;
        var self = server is null
            ? new PeerStatus(null, null, stats["error"]?.GetValue<string>())
            : new PeerStatus(server["server_state"]?.GetValue<string>(), server["last_processed_zxid"]?.GetValue<long>(), null);

        var members = new List<(string Id, JsonObject View, Task<PeerStatus> Status)>();
        foreach (var (id, view) in voting["current_config"] as JsonObject ?? [])
        {
            if (view is not JsonObject member) continue;
            string client = member["client_address"]?.GetValue<string>() ?? "";
            bool isSelf = id == _myId;
            var status = isSelf ? Task.FromResult(self) : PeerStatus.AskAsync(client, ServerHost(member), context.RequestAborted);
            members.Add((id, member, status));
        }
        await Task.WhenAll(members.Select(m => m.Status)).ConfigureAwait(false);
        long? newest = members.Select(m => m.Status.Result.Zxid).Append(self.Zxid).Max();

        var list = new JsonArray();
        foreach (var (id, view, status) in members)
        {
            var peer = status.Result;
            list.Add(new JsonObject
            {
                ["id"] = id,
                ["self"] = id == _myId,
                ["server_address"] = (view["server_addresses"] as JsonArray)?.FirstOrDefault()?.GetValue<string>(),
                ["client_address"] = view["client_address"]?.GetValue<string>(),
                ["mode"] = peer.Mode,
                ["zxid"] = peer.Zxid is { } zxid ? "0x" + zxid.ToString("x", CultureInfo.InvariantCulture) : null,
                ["lag"] = Lag(newest, peer.Zxid),
                ["error"] = peer.Error,
            });
        }
        var body = new JsonObject
        {
            ["server"] = server?.DeepClone(),
            ["error"] = stats["error"]?.DeepClone(),
            ["members"] = list,
            ["peer_state"] = monitor["peer_state"]?.DeepClone(),
            ["synced_followers"] = monitor["synced_followers"]?.DeepClone(),
            ["pending_syncs"] = monitor["pending_syncs"]?.DeepClone(),
        };
        await WriteJsonAsync(context, StatusCodes.Status200OK, body).ConfigureAwait(false);
    }

    /// <summary>Txns behind the newest member, when both are in the same epoch (counters of two epochs do not subtract).</summary>
    private static long? Lag(long? newest, long? zxid) =>
        newest is { } top && zxid is { } mine && top >> 32 == mine >> 32 ? top - mine : null;

    private static string? ServerHost(JsonObject member)
    {
        string? address = (member["server_addresses"] as JsonArray)?.FirstOrDefault()?.GetValue<string>();
        if (address is null) return null;
        int colon = address.LastIndexOf(':');
        return colon > 0 ? address[..colon].Trim('[', ']') : address;
    }
}
