using System.Text.Json;
using Warden.Client;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Admin.Tests;

/// <summary>An ensemble's AdminServers against Apache 3.8.0's leader and follower answers, key for key.</summary>
public sealed class EnsembleAdminTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task LeaderAndFollowerAnswerWithApachesKeys()
    {
        var running = System.Diagnostics.Stopwatch.StartNew();
        await using var ensemble = await EnsembleProcess.StartAsync(3, ServerKind.Warden, EnsembleProcess.DefaultTickTimeMs, adminServer: true);
        var leader = await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(30));
        var follower = ensemble.Members.First(m => m != leader);
        await using (var client = await ZooKeeperClient.ConnectAsync(leader.ConnectString, TimeSpan.FromSeconds(10)))
        {
            // A write, so the leader has a proposal to report in proposal_stats.
            await client.CreateAsync("/app", null);
        }
        using var http = new HttpClient { Timeout = Timeout };
        foreach (var (member, role) in new[] { (leader, "leader"), (follower, "follower") })
        {
            await using var client = await ZooKeeperClient.ConnectAsync(member.ConnectString, TimeSpan.FromSeconds(10));
            await client.CreateAsync($"/app/{role}", "x"u8.ToArray(), Protocol.CreateMode.Ephemeral);
            await client.GetDataAsync("/app", _ => { });
            await client.GetChildrenAsync("/app", _ => { });
            await client.ExistsAsync("/nope", _ => { });
            int port = member.AdminPort!.Value;
            foreach (var command in ApacheAdmin.Commands)
            {
                var answer = await ApacheAdmin.GetJsonAsync(http, port, command);
                output.WriteLine($"{role} {command}: {answer}");
                var keys = ApacheAdmin.KeyPaths(answer);
                var apache = ApacheAdmin.Keys(role, command).ToHashSet();
                if (command is "environment" or "system_properties") Assert.Superset(apache, keys.ToHashSet());
                else if (command == "monitor") Assert.Subset(apache, keys.ToHashSet());
                else Assert.Equal(apache.Order(), keys.Order());
            }
            var lead = await ApacheAdmin.GetJsonAsync(http, port, "leader");
            Assert.Equal(role == "leader", lead.GetProperty("is_leader").GetBoolean());
            Assert.Equal(leader.Id, lead.GetProperty("leader_id").GetInt64());
            Assert.Equal("127.0.0.1", lead.GetProperty("leader_ip").GetString());
            var zab = await ApacheAdmin.GetJsonAsync(http, port, "zabstate");
            Assert.Equal("broadcast", zab.GetProperty("zabstate").GetString());
            Assert.Equal(member.Id, zab.GetProperty("myid").GetInt64());
            var view = (await ApacheAdmin.GetJsonAsync(http, port, "voting_view")).GetProperty("current_config");
            Assert.Equal(["1", "2", "3"], view.EnumerateObject().Select(p => p.Name).Order());
            Assert.Equal($"127.0.0.1:{member.ClientPort}", view.GetProperty(member.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).GetProperty("client_address").GetString());
            var monitor = await ApacheAdmin.GetJsonAsync(http, port, "monitor");
            Assert.Equal(3, monitor.GetProperty("quorum_size").GetInt32());
            Assert.Equal(role == "leader" ? "leading - broadcast" : "following - broadcast", monitor.GetProperty("peer_state").GetString());
            // leader_uptime: only the leader has it, counted from when it began to lead, so no more than the test has run.
            // The ensemble metrics Grafana's ZooKeeper dashboard (grafana/jsonnet-libs, zookeeper-observ-lib) queries.
            Assert.True(monitor.TryGetProperty("quorum_size", out _));
            if (role == "leader")
            {
                long uptime = monitor.GetProperty("leader_uptime").GetInt64();
                Assert.InRange(uptime, 1, (long)running.Elapsed.TotalMilliseconds);
            }
            else
            {
                Assert.False(monitor.TryGetProperty("leader_uptime", out _));
            }
        }
    }
}
