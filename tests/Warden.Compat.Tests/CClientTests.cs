using System.Text;
using System.Text.RegularExpressions;
using Warden.Testing;

namespace Warden.Compat.Tests;

/// <summary>
/// The C client (Debian's `zookeeper-bin` cli_mt) against Apache ZooKeeper and the subject.
/// Each command runs as `cli_mt host:port cmd:&lt;command&gt;`, the shell's batch mode: it connects,
/// runs the one command, waits for its completion and exits, closing the session. So the
/// sequence also checks that an ephemeral node dies with the session that made it.
/// </summary>
public sealed partial class CClientTests
{
    // cli_mt's create takes no data argument: it always writes "new". `exists` is left out: in
    // batch mode it runs synchronously, prints nothing and never tells the shell to exit.
    private static readonly string[] Commands =
    [
        "create /c",
        "create2 /c2",
        "get /c",
        "ls /",
        "ls2 /",
        "set /c hello",
        "get /c",
        "create /c",
        "create +e /eph",
        "create +s /seq-",
        "create +s /seq-",
        "create /c/child",
        "ls2 /c",
        "sync /c",
        "delete /c",
        "delete /c/child",
        "delete /c",
        "get /c",
        "delete /nope",
        "ls /",
        "get /c2",
    ];

    [Fact]
    public async Task BatchCommandsMatchApache()
    {
        var cliMt = InstalledTools.Require(InstalledTools.CliMt, "zookeeper-bin");
        var (oracle, subject) = await Transcripts.StartPairAsync();
        await using (oracle)
        await using (subject)
        {
            var transcripts = await Task.WhenAll(RunAllAsync(cliMt, oracle), RunAllAsync(cliMt, subject));
            // The oracle run must have done real work, or equality proves nothing.
            Assert.True(
                transcripts[0].Contains("\tname = /seq-00000000", StringComparison.Ordinal) &&
                transcripts[0].Contains("/c: rc = -101", StringComparison.Ordinal),
                $"cli_mt did not run the commands against Apache:\n{transcripts[0]}\n--- server output ---\n{oracle.CapturedOutput}");
            Transcripts.AssertSame("cli_mt batch commands", "Apache", transcripts[0], subject.Kind.ToString(), transcripts[1]);
        }
    }

    private static async Task<string> RunAllAsync(string cliMt, ServerProcess server)
    {
        var transcript = new StringBuilder();
        foreach (var command in Commands)
        {
            var result = await ProcessRunner.RunAsync(
                cliMt, [server.ConnectString, "cmd:" + command], TimeSpan.FromSeconds(30), mergeStandardError: true);
            transcript.Append("$ ").Append(command).Append('\n');
            transcript.Append(Normalise(result.StandardOutput, server.ClientPort));
            if (result.TimedOut)
            {
                transcript.Append("<timed out>\n");
            }
        }
        return transcript.ToString();
    }

    /// <summary>Drops timings, session ids, dates and the log prefix (time, pid, thread).</summary>
    public static string Normalise(string output, int port)
    {
        var kept = new StringBuilder();
        var children = new List<string>();
        foreach (var raw in Transcripts.SplitLines(output))
        {
            // cli_mt prints children in the server's order, which Apache leaves undefined (a
            // HashSet): a run of child lines ("\tname") is compared sorted.
            if (ChildLine().IsMatch(raw))
            {
                children.Add(raw);
                continue;
            }
            children.Sort(StringComparer.Ordinal);
            foreach (var child in children)
            {
                kept.Append(child).Append('\n');
            }
            children.Clear();
            var line = raw.TrimEnd();
            if (line.Length == 0 || line.StartsWith("time = ", StringComparison.Ordinal) ||
                line.StartsWith("Got a new session id: ", StringComparison.Ordinal) ||
                line == "Watcher SESSION_EVENT state = CONNECTED_STATE")
            {
                continue;
            }
            line = LogPrefix().Replace(line, "");
            line = line.Replace($"127.0.0.1:{port}", "127.0.0.1:<port>", StringComparison.Ordinal);
            line = DateLine().Replace(line, "$1<time>");
            line = Owner().Replace(line, "$1<session>");
            kept.Append(line).Append('\n');
        }
        children.Sort(StringComparer.Ordinal);
        foreach (var child in children)
        {
            kept.Append(child).Append('\n');
        }
        return kept.ToString();
    }

    // A tab and a bare name: not a stat line (those hold '='), nor "name = ..." of a create.
    [GeneratedRegex(@"^\t[^\t=]+$")]
    private static partial Regex ChildLine();

    [GeneratedRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+:\d+\(0x[0-9a-f]+\):")]
    private static partial Regex LogPrefix();

    [GeneratedRegex(@"^(\s*[cm]time ?= ?).*$")]
    private static partial Regex DateLine();

    [GeneratedRegex(@"^(\s*ephemeralOwner = )(?!0$)[0-9a-f]+$")]
    private static partial Regex Owner();
}
