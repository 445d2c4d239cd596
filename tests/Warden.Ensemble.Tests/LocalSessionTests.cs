using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// localSessionsEnabled and localSessionsUpgradingEnabled, side by side: each scenario of scripts/local_sessions.py
/// runs on a 3-server Apache ZooKeeper 3.8 ensemble and then on a 3-server Warden ensemble with the same zoo.cfg,
/// and the two transcripts must be the same line for line (error codes, zxids consumed, mntr's session counts,
/// which reconnections are refused). The lines that define the feature are also asserted on their own, so that
/// the test fails if both implementations changed alike.
/// </summary>
public sealed class LocalSessionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(4);

    private static readonly Dictionary<string, string> LocalOnly = new()
    {
        ["localSessionsEnabled"] = "true",
        ["localSessionsUpgradingEnabled"] = "false",
    };

    private static readonly Dictionary<string, string> Upgrading = new()
    {
        ["localSessionsEnabled"] = "true",
        ["localSessionsUpgradingEnabled"] = "true",
    };

    /// <summary>
    /// Upgrading off: an ephemeral create of a local session fails EPHEMERALONLOCALSESSION (and still takes a zxid, as
    /// Apache's leader logs it as an error txn); a multi holding one fails that op (SESSIONEXPIRED through a follower,
    /// whose session the leader does not know; EPHEMERALONLOCALSESSION on the leader); creating and closing a local
    /// session take no zxid; a local session resumes only on its own server; it expires there after its timeout.
    /// </summary>
    [Fact]
    public async Task LocalSessionsWithoutUpgradingAnswerAsApache()
    {
        var apache = await RunAsync(ServerKind.Apache, LocalOnly, "refused");
        var warden = await RunAsync(ServerKind.Warden, LocalOnly, "refused");
        AssertSameTranscript(apache, warden);

        Assert.Contains("follower: zk_global_sessions=0 zk_local_sessions=1", warden);
        Assert.Contains("follower: create ephemeral -120 at +1", warden);
        Assert.Contains("follower: create2 ephemeral sequential -120 at +3", warden);
        Assert.Contains("follower: multi with an ephemeral 0 ops [0, -112] at +4", warden);
        Assert.Contains("leader: multi with an ephemeral 0 ops [0, -120] at +4", warden);
        // The close of a local session is no txn: its reply carries the zxid of the session's last write.
        Assert.Contains("leader: close 0 at +5", warden);
        Assert.Contains("follower's local session resumed on another leader: session 0 timeout 0", warden);
        Assert.Contains("leader's local session resumed on another follower: session 0 timeout 0", warden);
        Assert.Contains("follower's local session resumed on its own server: same True, timeout 6000", warden);
        Assert.Contains("follower: a local session outlives its connection True; expired True", warden);
        Assert.Contains("leader: resume after expiry gives session 0", warden);
    }

    /// <summary>
    /// Upgrading on: the first ephemeral create (or a multi holding one) first makes the session global through the
    /// leader, which takes one zxid more (the createSession txn); mntr moves the session from local to global; the
    /// session then resumes on another member with its ephemeral, and its close is a txn.
    /// </summary>
    [Fact]
    public async Task AnEphemeralCreateUpgradesALocalSessionAsApache()
    {
        var apache = await RunAsync(ServerKind.Apache, Upgrading, "upgraded");
        var warden = await RunAsync(ServerKind.Warden, Upgrading, "upgraded");
        AssertSameTranscript(apache, warden);

        foreach (var role in new[] { "follower", "leader" })
        {
            Assert.Contains($"{role}: create persistent 0; zk_global_sessions=0 zk_local_sessions=1", warden);
            Assert.Contains($"{role}: create ephemeral 0 at +2; zk_global_sessions=1 zk_local_sessions=0", warden);
            Assert.Contains($"{role}: close of the now global session 0 at +4", warden);
            Assert.Contains($"{role}: a multi upgrades too 0 ops [0, 0] at +2; zk_global_sessions=1 zk_local_sessions=0", warden);
            Assert.Contains($"{role}: an upgraded session resumes on another member: same True", warden);
            Assert.Contains($"{role}: its ephemeral is there 0", warden);
        }
    }

    /// <summary>
    /// readonlymode.enabled with local sessions: a member whose two peers are down goes read-only and serves read-only
    /// clients with local sessions (read-only flag in the connect response), answers writes and sync NOTREADONLY
    /// without taking a zxid, lets the client resume and close that session, and still refuses read-write clients.
    /// </summary>
    [Fact]
    public async Task AReadOnlyMemberServesLocalSessionsAsApache()
    {
        var apache = await RunAsync(ServerKind.Apache, LocalOnly, "read-only", readOnly: true);
        var warden = await RunAsync(ServerKind.Warden, LocalOnly, "read-only", readOnly: true);
        AssertSameTranscript(apache, warden);

        Assert.Contains("isro ro", warden);
        Assert.Contains("read-only client: session True, read-only True, timeout 4000", warden);
        Assert.Contains("read-only client: exists / 0; zk_global_sessions=0 zk_local_sessions=1", warden);
        Assert.Contains("read-only client: create ephemeral -119 at +0", warden);
        Assert.Contains("read-only client: sync -119 at +0", warden);
        Assert.Contains("read-only client resumes its local session: same True", warden);
        Assert.Contains("read-only client after close: session 0", warden);
        Assert.Contains("read-write client: session None", warden);
    }

    /// <summary>
    /// Mixed ensembles with local sessions: Apache members forward a local session's writes and its upgrade to a
    /// Warden leader and the other way round, and every answer is the one an all-Apache ensemble gives. When members
    /// start together the highest id usually leads, so the first ensemble has an Apache follower under a Warden
    /// leader and the second a Warden follower under an Apache leader; the output says who led.
    /// </summary>
    [Theory]
    [InlineData("refused")]
    [InlineData("upgraded")]
    public async Task MixedEnsemblesAnswerAsApache(string scenario)
    {
        var config = scenario == "upgraded" ? Upgrading : LocalOnly;
        var apache = await RunAsync([ServerKind.Apache, ServerKind.Apache, ServerKind.Apache], config, scenario);
        ServerKind[][] mixes = [[ServerKind.Apache, ServerKind.Warden, ServerKind.Warden], [ServerKind.Warden, ServerKind.Apache, ServerKind.Apache]];
        foreach (var kinds in mixes)
        {
            var mixed = await RunAsync(kinds, config, scenario);
            AssertSameTranscript(apache, mixed);
        }
    }

    private Task<List<string>> RunAsync(ServerKind kind, IReadOnlyDictionary<string, string> config, string scenario, bool readOnly = false) =>
        RunAsync([kind, kind, kind], config, scenario, readOnly);

    /// <summary>
    /// Starts a 3-server ensemble of the given kinds with the given zoo.cfg keys and runs the scenario against it. For the
    /// read-only scenario every member has readonlymode.enabled, and server.1's two peers are stopped first.
    /// </summary>
    private async Task<List<string>> RunAsync(IReadOnlyList<ServerKind> kinds, IReadOnlyDictionary<string, string> config, string scenario,
        bool readOnly = false)
    {
        var kind = string.Join("+", kinds.Distinct());
        await using var ensemble = EnsembleProcess.Create(kinds, Subject.TickTimeMs, config);
        foreach (var member in ensemble.Members)
        {
            if (readOnly) member.SystemProperties["readonlymode.enabled"] = "true";
            member.Start();
        }
        var leader = await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(90));
        output.WriteLine($"{string.Join(", ", ensemble.Members.Select(m => $"server.{m.Id} {m.Kind}"))}; server.{leader.Id} leads");
        if (readOnly)
        {
            foreach (var member in ensemble.Members.Where(m => m.Id != 1)) member.Kill();
        }
        var result = await ProcessRunner.RunAsync(
            InstalledTools.Require(InstalledTools.Python, "python3"),
            [FormationTests.Script("local_sessions.py"), scenario, .. ensemble.Members.Select(m => m.ClientPort.ToString(System.Globalization.CultureInfo.InvariantCulture))],
            ScriptTimeout);
        output.WriteLine($"{kind}:\n{result.Describe()}");
        Assert.True(result.ExitCode == 0 && !result.TimedOut, $"{kind}: {result.Describe()}\n{ensemble.DescribeOutputs()}");
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.Equal("done", lines.LastOrDefault());
        return lines;
    }

    private static void AssertSameTranscript(List<string> apache, List<string> warden)
    {
        for (int i = 0; i < Math.Max(apache.Count, warden.Count); i++)
        {
            var expected = i < apache.Count ? apache[i] : "(nothing)";
            var actual = i < warden.Count ? warden[i] : "(nothing)";
            Assert.True(expected == actual, $"line {i + 1} differs\n  Apache: {expected}\n  Warden: {actual}");
        }
    }
}
