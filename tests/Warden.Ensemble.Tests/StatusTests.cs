using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// What monitoring sees: `srvr` gives each member's Mode line as Apache's does, and a member that cannot
/// reach a quorum answers with Apache's not-serving text while its log says which peers it cannot reach.
/// </summary>
public sealed class StatusTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task SrvrGivesEachMemberItsModeLine()
    {
        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs);
        var leader = await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(30));
        foreach (var member in ensemble.Members)
        {
            var status = await member.FourLetterWordAsync("srvr", ProbeTimeout);
            output.WriteLine($"server.{member.Id}:\n{status}");
            var lines = status.Split('\n');
            Assert.Contains(member == leader ? "Mode: leader" : "Mode: follower", lines);
            Assert.Single(lines, l => l.StartsWith("Mode: ", StringComparison.Ordinal));
            Assert.StartsWith("Zookeeper version: ", status);
            // zkServer.sh status and most monitoring read `stat` rather than `srvr`; it carries the same line.
            var stat = await member.FourLetterWordAsync("stat", ProbeTimeout);
            Assert.Contains(member == leader ? "Mode: leader" : "Mode: follower", stat.Split('\n'));
            // conf names the member by its myid, as Apache's learner and leader servers do.
            var conf = await member.FourLetterWordAsync("conf", ProbeTimeout);
            output.WriteLine($"conf of server.{member.Id}:\n{conf}");
            // Apache's quorum servers add their limits, own ports and role, then the membership (checked on 3.8.0).
            Assert.Contains($"serverId={member.Id}\ninitLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort={member.ElectionPort}\n" +
                            $"quorumPort={member.QuorumPort}\npeerType=0\nmembership: \n", conf);
            foreach (var peer in ensemble.Members)
            {
                Assert.Contains($"\nserver.{peer.Id}=127.0.0.1:{peer.QuorumPort}:{peer.ElectionPort}:participant\n", conf);
            }
            Assert.EndsWith("\nversion=0", conf);
        }
    }

    /// <summary>mntr carries Apache's ensemble keys: the peer state everywhere, the learner counts on the leader.</summary>
    [Fact]
    public async Task MntrReportsThePeerStateAndTheLeadersLearners()
    {
        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs);
        var leader = await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(30));
        // The leader counts a learner as synced once it has acked NEWLEADER and been sent UPTODATE; poll, bounded.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        Dictionary<string, string> keys;
        do
        {
            keys = Keys(await leader.FourLetterWordAsync("mntr", ProbeTimeout));
        }
        while (keys.GetValueOrDefault("zk_synced_followers") != "2" && DateTime.UtcNow < deadline);
        Assert.Equal("leader", keys["zk_server_state"]);
        Assert.Equal("leading - broadcast", keys["zk_peer_state"]);
        Assert.Equal("2", keys["zk_learners"]);
        Assert.Equal("2", keys["zk_synced_followers"]);
        Assert.Equal("0", keys["zk_synced_observers"]);
        Assert.Equal("0", keys["zk_pending_syncs"]);
        foreach (var follower in ensemble.Members.Where(m => m != leader))
        {
            var followerKeys = Keys(await follower.FourLetterWordAsync("mntr", ProbeTimeout));
            Assert.Equal("follower", followerKeys["zk_server_state"]);
            Assert.Equal("following - broadcast", followerKeys["zk_peer_state"]);
            Assert.False(followerKeys.ContainsKey("zk_learners"));
        }

        static Dictionary<string, string> Keys(string mntr) => mntr.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('\t', 2)).Where(parts => parts.Length == 2).ToDictionary(parts => parts[0], parts => parts[1]);
    }

    /// <summary>
    /// One member of three started with the others down: it listens, answers `ruok`, but every
    /// data-bearing four-letter word gets Apache's one line, and its log names the peers it cannot reach.
    /// </summary>
    [Fact]
    public async Task MemberStartedAloneIsNotServingAndSaysWhomItCannotReach()
    {
        await using var ensemble = EnsembleProcess.Create(3, Subject.Kind, Subject.TickTimeMs);
        var alone = ensemble[1];
        alone.Start();
        await ensemble.WaitForModeAsync(alone, MemberMode.NotServing, TimeSpan.FromSeconds(30));

        var status = await alone.FourLetterWordAsync("srvr", ProbeTimeout);
        Assert.Equal(EnsembleMember.NotServingText + "\n", status);
        Assert.Equal("imok", await alone.FourLetterWordAsync("ruok", ProbeTimeout));

        // Apache logs "Cannot open channel to N at election address ..." with a stack trace; Warden one line naming every peer.
        var cannotReach = Subject.IsWarden ? "cannot reach" : "Cannot open channel to";
        await alone.WaitForOutputAsync(cannotReach, TimeSpan.FromSeconds(30));
        var log = alone.CapturedOutput;
        output.WriteLine(log);
        foreach (var peer in ensemble.Members.Where(m => m != alone))
        {
            Assert.Contains(Subject.IsWarden
                ? $"server.{peer.Id} at 127.0.0.1:{peer.ElectionPort}"
                : $"Cannot open channel to {peer.Id} at election address /127.0.0.1:{peer.ElectionPort}", log);
        }

        // A second member makes a quorum of two out of three: both serve, one leads.
        ensemble[2].Start();
        var leader = await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"with server.2 up, server.{leader.Id} leads");
    }
}
