using System.Text.Json;
using System.Text.RegularExpressions;
using Warden.Client;
using Warden.Testing;

namespace Warden.Console.Tests;

/// <summary>The console's ensemble view on a three-member ensemble whose server lines name client ports.</summary>
public sealed class EnsembleConsoleTests
{
    [Fact]
    public async Task TheEnsembleViewListsEveryMembersModeZxidAndLag()
    {
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden, adminServer: true);
        // The harness writes server.N=host:quorum:election; the console asks other members on their client
        // port, which only a server line with ";host:clientPort" names.
        foreach (var member in ensemble.Members)
        {
            string config = File.ReadAllText(member.ConfigPath);
            config = Regex.Replace(config, @"^server\.(\d+)=(\S+)$",
                match => match.Value + ";127.0.0.1:" + ensemble[int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)].ClientPort,
                RegexOptions.Multiline);
            File.WriteAllText(member.ConfigPath, config);
        }
        foreach (var member in ensemble.Members) member.Start();
        var leader = await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(60));
        await using (var client = await ZooKeeperClient.ConnectAsync(leader.ConnectString, TimeSpan.FromSeconds(30)))
        {
            await client.CreateAsync("/written", null);
        }
        // A sync through each follower makes sure it has applied the write before it is asked.
        foreach (var member in ensemble.Members.Where(m => m != leader))
        {
            await using var follower = await ZooKeeperClient.ConnectAsync(member.ConnectString, TimeSpan.FromSeconds(30));
            await follower.SyncAsync("/written");
            Assert.NotNull(await follower.ExistsAsync("/written"));
        }

        var asked = ensemble.Members.First(m => m != leader);
        using var http = new HttpClient { Timeout = ConsoleServer.Timeout };
        var view = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{asked.AdminPort}/console/api/ensemble")).RootElement;

        var members = view.GetProperty("members").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!);
        Assert.Equal(["1", "2", "3"], members.Keys.Order());
        Assert.True(members[asked.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)].GetProperty("self").GetBoolean());
        foreach (var member in ensemble.Members)
        {
            var shown = members[member.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            Assert.Equal(member == leader ? "leader" : "follower", shown.GetProperty("mode").GetString());
            Assert.StartsWith("0x1", shown.GetProperty("zxid").GetString(), StringComparison.Ordinal);
            Assert.Equal(JsonValueKind.Number, shown.GetProperty("lag").ValueKind);
            Assert.True(shown.GetProperty("lag").GetInt64() >= 0);
        }
    }
}
