using System.Text;
using System.Text.RegularExpressions;
using Warden.Testing;

namespace Warden.Compat.Tests;

/// <summary>
/// Apache's own Java shell, zkCli.sh, run unchanged against Apache ZooKeeper and against the
/// subject: the two transcripts must be the same once times and connection noise are removed.
/// </summary>
public sealed partial class ZkCliTests
{
    /// <summary>
    /// The getting-started session plus the errors a user meets first. Commands go in on stdin in
    /// one process: zkCli then runs them one after another on the same session, which is also
    /// how a script drives it.
    /// </summary>
    private static readonly string[] Commands =
    [
        "create /zk_test my_data",
        "ls /",
        "get /zk_test",
        "get -s /zk_test",
        "stat /zk_test",
        "set /zk_test junk",
        "get /zk_test",
        "create -s -e /zk_test/n x",
        "ls -s /",
        "delete /zk_test",
        "get /no_such_node",
        "stat /no_such_node",
        "create /zk_test again",
        "set -v 7 /zk_test stale",
        "delete -v 9 /zk_test",
        "create /no_parent/child x",
        "sync /zk_test",
        "getEphemerals /",
        "create -e /eph e",
        "create /eph/child c",
        "getAllChildrenNumber /",
        "ls -R /zk_test",
        "delete /zk_test/n0000000000",
        "delete /zk_test",
        "get -s /zk_test",
        "ls /",
    ];

    [Fact]
    public async Task TranscriptMatchesApache()
    {
        var zkCli = InstalledTools.Require(InstalledTools.ZkCli, "zookeeper");
        var (oracle, subject) = await Transcripts.StartPairAsync();
        await using (oracle)
        await using (subject)
        {
            var runs = await Task.WhenAll(RunAsync(zkCli, oracle), RunAsync(zkCli, subject));
            Assert.False(runs[0].TimedOut, $"zkCli against Apache: {runs[0].Describe()}");
            var expected = Normalise(runs[0].StandardOutput);
            // The oracle run must really have executed the session, or the comparison proves nothing.
            Assert.True(
                expected.Contains("Created /zk_test/n0000000000", StringComparison.Ordinal) &&
                expected.Contains("Node not empty: /zk_test", StringComparison.Ordinal),
                $"zkCli did not run the session against Apache:\n{runs[0].Describe()}");
            Transcripts.AssertSame(
                "zkCli.sh " + string.Join(" | ", Commands),
                "Apache", expected,
                subject.Kind.ToString(), Normalise(runs[1].StandardOutput) + (runs[1].TimedOut ? "\n<zkCli timed out>" : ""));
        }
    }

    private static Task<ProcessResult> RunAsync(string zkCli, ServerProcess server) =>
        ProcessRunner.RunAsync(
            zkCli,
            ["-server", server.ConnectString],
            TimeSpan.FromSeconds(60),
            standardInput: string.Join('\n', Commands) + "\nquit\n",
            mergeStandardError: true);

    /// <summary>
    /// Keeps what the commands printed; drops what differs between any two runs: logger
    /// warnings, the banner, the connection-state watcher events, dates and session ids.
    /// </summary>
    public static string Normalise(string transcript)
    {
        var kept = new StringBuilder();
        foreach (var raw in Transcripts.SplitLines(transcript))
        {
            var line = raw.TrimEnd();
            if (line.Length == 0 || line.StartsWith("SLF4J:", StringComparison.Ordinal) ||
                line.StartsWith("Connecting to ", StringComparison.Ordinal) ||
                line is "Welcome to ZooKeeper!" or "JLine support is disabled" or "WATCHER::" ||
                ConnectionEvent().IsMatch(line) || LogLine().IsMatch(line))
            {
                continue;
            }
            line = TimeLine().Replace(line, "$1 = <time>");
            line = SessionOwner().Replace(line, "ephemeralOwner = <session>");
            kept.Append(line).Append('\n');
        }
        return kept.ToString();
    }

    [GeneratedRegex(@"^WatchedEvent state:\w+ type:None path:null$")]
    private static partial Regex ConnectionEvent();

    [GeneratedRegex(@"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")]
    private static partial Regex LogLine();

    [GeneratedRegex(@"^(ctime|mtime) = .*$")]
    private static partial Regex TimeLine();

    [GeneratedRegex(@"^ephemeralOwner = 0x(?!0$)[0-9a-f]+$")]
    private static partial Regex SessionOwner();
}
