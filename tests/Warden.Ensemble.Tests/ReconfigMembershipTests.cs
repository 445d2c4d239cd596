using System.Diagnostics;
using System.Text;
using Warden.Client;
using Warden.Protocol;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// Membership changes that the ensemble must obey, run the same way on Apache ZooKeeper 3.8 and on Warden: a running
/// observer added and a follower removed while a writer writes (every acknowledged write on every member after), a
/// bulk -members change, and the leader removing itself. After each, the members in the new configuration serve and
/// read it; a removed server follows on without a vote (as Apache's does), so that stopping the one other voter costs
/// the leader its quorum; and a member restarted from its rewritten zoo.cfg comes back in the new configuration.
/// </summary>
public sealed class ReconfigMembershipTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task ObserverJoinsAndFollowerLeavesUnderWritesAndARestartedMemberKeepsTheNewConfig(ServerKind kind)
    {
        await using var ensemble = EnsembleProcess.Create(4, kind, Subject.TickTimeMs, ReconfigTests.ReconfigConfig());
        var observer = ensemble[4];
        // Servers 1-3 start as the ensemble; server 4 knows them and itself as an observer, as Apache's manual has a
        // joining server configured.
        foreach (var member in ensemble.Members.Take(3)) RewriteServerLines(member, ensemble, includeFourth: false);
        RewriteServerLines(observer, ensemble, includeFourth: true);
        foreach (var member in ensemble.Members.Take(3)) member.Start();
        var leader = await ensemble.WaitForQuorumAsync(Bound);
        observer.Start();

        await using var super = await SuperAsync(leader.ConnectString);
        var follower = ensemble.Members.Take(3).First(m => m != leader);
        var stays = ensemble.Members.Take(3).Single(m => m != leader && m != follower);
        await using var writer = await AckedWriter.StartAsync($"{leader.ConnectString},{stays.ConnectString}", "/reconfig-writes");
        await writer.WaitForProgressAsync(20, Bound);

        var added = await super.ReconfigAsync(
            $"server.4=127.0.0.1:{observer.QuorumPort}:{observer.ElectionPort}:observer;127.0.0.1:{observer.ClientPort}", null, null);
        Assert.Contains($"server.4=127.0.0.1:{observer.QuorumPort}:{observer.ElectionPort}:observer;127.0.0.1:{observer.ClientPort}",
            Encoding.UTF8.GetString(added.Data), StringComparison.Ordinal);
        await WaitForModeAsync(observer, MemberMode.Observer);
        await writer.WaitForProgressAsync(20, Bound);

        var removed = await super.ReconfigAsync(null, follower.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), null);
        string config = Encoding.UTF8.GetString(removed.Data);
        output.WriteLine(config);
        Assert.DoesNotContain($"server.{follower.Id}=", config, StringComparison.Ordinal);
        await writer.WaitForProgressAsync(20, Bound);
        await writer.StopAsync();
        Assert.Null(writer.Failure);

        // Every running server has every acknowledged write, and the members read the new configuration.
        await Convergence.AssertAcknowledgedWritesOnEveryMemberAsync(ensemble, [writer], output);
        foreach (var member in new[] { leader, stays, observer })
        {
            Assert.Equal(config, await ReadConfigAsync(member));
        }

        // The voters are now the leader and one follower: without that follower the leader has no quorum, although
        // the removed server and the observer still run.
        stays.Stop();
        await WaitForModeAsync(leader, MemberMode.NotServing, MemberMode.Unreachable);

        // A restart starts from the rewritten zoo.cfg and the dynamic file it names: the same configuration.
        string zooCfg = await File.ReadAllTextAsync(stays.ConfigPath);
        output.WriteLine(zooCfg);
        Assert.DoesNotContain("server.", zooCfg, StringComparison.Ordinal);
        Assert.Contains("dynamicConfigFile=", zooCfg, StringComparison.Ordinal);
        stays.Start();
        await WaitForModeAsync(stays, MemberMode.Follower, MemberMode.Leader);
        await WaitForModeAsync(leader, MemberMode.Follower, MemberMode.Leader);
        Assert.Equal(config, await ReadConfigAsync(stays));
        output.WriteLine($"{kind}: {writer.AcknowledgedCount} writes acknowledged across the two reconfigs");
    }

    /// <summary>
    /// A running server added as a participant votes: with one of the three original followers' peers stopped, the
    /// leader keeps its quorum of three of four only because the new member's acks count.
    /// </summary>
    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task ParticipantAddedUnderWritesVotes(ServerKind kind)
    {
        await using var ensemble = EnsembleProcess.Create(4, kind, Subject.TickTimeMs, ReconfigTests.ReconfigConfig());
        var joiner = ensemble[4];
        foreach (var member in ensemble.Members.Take(3)) RewriteServerLines(member, ensemble, includeFourth: false);
        RewriteServerLines(joiner, ensemble, includeFourth: true, fourthRole: "participant");
        foreach (var member in ensemble.Members.Take(3)) member.Start();
        var leader = await ensemble.WaitForQuorumAsync(Bound);
        joiner.Start();
        var followers = ensemble.Members.Take(3).Where(m => m != leader).ToList();
        await using var writer = await AckedWriter.StartAsync($"{leader.ConnectString},{followers[0].ConnectString}", "/participant-writes");
        await writer.WaitForProgressAsync(20, Bound);

        await using (var super = await SuperAsync(leader.ConnectString))
        {
            // The joiner must be synchronised first, or a quorum of the new voters would not be (NewConfigNoQuorum).
            await WaitForModeAsync(joiner, MemberMode.Follower);
            var added = await super.ReconfigAsync(
                $"server.4=127.0.0.1:{joiner.QuorumPort}:{joiner.ElectionPort}:participant;127.0.0.1:{joiner.ClientPort}", null, null);
            Assert.Contains($"server.4=127.0.0.1:{joiner.QuorumPort}:{joiner.ElectionPort}:participant;127.0.0.1:{joiner.ClientPort}",
                Encoding.UTF8.GetString(added.Data), StringComparison.Ordinal);
        }
        await writer.WaitForProgressAsync(20, Bound);

        // Four voters: the leader, the first follower and the joiner are three, a quorum, only if the joiner counts.
        followers[1].Stop();
        await writer.WaitForProgressAsync(20, Bound);
        await writer.StopAsync();
        Assert.Null(writer.Failure);
        Assert.Equal(MemberMode.Leader, await leader.ModeAsync(TimeSpan.FromSeconds(5)));
        await Convergence.AssertAcknowledgedWritesOnEveryMemberAsync(ensemble, [writer], output);
        output.WriteLine($"{kind}: {writer.AcknowledgedCount} writes acknowledged");
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task BulkMembersReplacesTheConfiguration(ServerKind kind)
    {
        await using var ensemble = await EnsembleProcess.StartAsync(3, kind, Subject.TickTimeMs, ReconfigTests.ReconfigConfig());
        var leader = (await ensemble.ModesAsync()).Single(p => p.Value == MemberMode.Leader).Key;
        var leaving = ensemble.Members.First(m => m.Id != leader);
        var kept = ensemble.Members.Where(m => m != leaving).ToList();
        await using var super = await SuperAsync(ensemble[leader].ConnectString);
        string members = string.Join(",", kept.Select(m => $"server.{m.Id}=127.0.0.1:{m.QuorumPort}:{m.ElectionPort}:participant;127.0.0.1:{m.ClientPort}"));
        var reply = await super.ReconfigAsync(null, null, members);
        string config = Encoding.UTF8.GetString(reply.Data);
        output.WriteLine(config);
        foreach (var member in kept)
        {
            Assert.Contains($"server.{member.Id}=127.0.0.1:{member.QuorumPort}:{member.ElectionPort}:participant;127.0.0.1:{member.ClientPort}\n",
                config, StringComparison.Ordinal);
        }
        Assert.DoesNotContain($"server.{leaving.Id}=", config, StringComparison.Ordinal);
        await using var client = await Clients.ConnectAsync(string.Join(",", kept.Select(m => m.ConnectString)));
        using var timeout = new CancellationTokenSource(Clients.StepTimeout);
        await client.CreateAsync("/after-bulk", [1], CreateMode.Persistent, cancellationToken: timeout.Token);
        foreach (var member in kept) Assert.Equal(config, await ReadConfigAsync(member));
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task LeaderThatRemovesItselfHandsOverToTheRemainingVoters(ServerKind kind)
    {
        await using var ensemble = await EnsembleProcess.StartAsync(3, kind, Subject.TickTimeMs, ReconfigTests.ReconfigConfig());
        var leader = ensemble[(await ensemble.ModesAsync()).Single(p => p.Value == MemberMode.Leader).Key];
        var others = ensemble.Members.Where(m => m != leader).ToList();
        await using (var super = await SuperAsync(leader.ConnectString))
        {
            var reply = await super.ReconfigAsync(null, leader.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), null);
            Assert.DoesNotContain($"server.{leader.Id}=", Encoding.UTF8.GetString(reply.Data), StringComparison.Ordinal);
        }
        // One of the two others leads and the other follows.
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var modes = new List<MemberMode>();
            foreach (var member in others) modes.Add(await member.ModeAsync(TimeSpan.FromSeconds(2)));
            if (modes.Count(m => m == MemberMode.Leader) == 1 && modes.Count(m => m == MemberMode.Follower) == 1) break;
            Assert.True(stopwatch.Elapsed < Bound, $"no new leader among the remaining voters: {string.Join(", ", modes)}\n{ensemble.DescribeOutputs()}");
            await Task.Delay(100);
        }
        await using var client = await Clients.ConnectAsync(string.Join(",", others.Select(m => m.ConnectString)));
        using var timeout = new CancellationTokenSource(Clients.StepTimeout);
        await client.CreateAsync("/after-handover", [1], CreateMode.Persistent, cancellationToken: timeout.Token);
        string first = await ReadConfigAsync(others[0]);
        Assert.DoesNotContain($"server.{leader.Id}=", first, StringComparison.Ordinal);
        Assert.Equal(first, await ReadConfigAsync(others[1]));
    }

    /// <summary>Writes a member's server lines: servers 1-3 as participants, and server 4 (an observer unless told) when asked.</summary>
    private static void RewriteServerLines(EnsembleMember member, EnsembleProcess ensemble, bool includeFourth, string fourthRole = "observer")
    {
        var lines = File.ReadAllLines(member.ConfigPath).Where(l => !l.StartsWith("server.", StringComparison.Ordinal)).ToList();
        foreach (var peer in ensemble.Members.Take(3)) lines.Add($"server.{peer.Id}=127.0.0.1:{peer.QuorumPort}:{peer.ElectionPort}");
        var fourth = ensemble[4];
        if (includeFourth) lines.Add($"server.4=127.0.0.1:{fourth.QuorumPort}:{fourth.ElectionPort}:{fourthRole}");
        File.WriteAllLines(member.ConfigPath, lines);
    }

    private async Task WaitForModeAsync(EnsembleMember member, params MemberMode[] wanted)
    {
        var stopwatch = Stopwatch.StartNew();
        MemberMode mode;
        while (Array.IndexOf(wanted, mode = await member.ModeAsync(TimeSpan.FromSeconds(2))) < 0)
        {
            Assert.True(stopwatch.Elapsed < Bound, $"server.{member.Id} is {mode}, not {string.Join(" or ", wanted)} after {Bound}: {member.LastStatus}\n{member.CapturedOutput}");
            await Task.Delay(100);
        }
        output.WriteLine($"server.{member.Id} is {mode} after {stopwatch.ElapsedMilliseconds} ms");
    }

    private static async Task<ZooKeeperClient> SuperAsync(string connectString)
    {
        var client = await Clients.ConnectAsync(connectString);
        using var timeout = new CancellationTokenSource(Clients.StepTimeout);
        await client.AddAuthAsync("digest", Encoding.UTF8.GetBytes("super:test"), timeout.Token);
        return client;
    }

    private static async Task<string> ReadConfigAsync(EnsembleMember member)
    {
        await using var reader = await Clients.ConnectAsync(member);
        using var timeout = new CancellationTokenSource(Clients.StepTimeout);
        await reader.SyncAsync("/zookeeper/config", timeout.Token);
        return Encoding.UTF8.GetString((await reader.GetConfigAsync(null, timeout.Token)).Data);
    }
}
