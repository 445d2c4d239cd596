using System.Text;
using System.Text.RegularExpressions;
using Warden.Testing;

namespace Warden.Cli.Tests;

/// <summary>
/// The same scripted session through Apache's zkCli.sh against Apache ZooKeeper 3.8 and through `warden cli`
/// against Warden: standard output, standard error and the exit code must match, times and session ids aside.
/// </summary>
public sealed partial class GoldenTests
{
    public static TheoryData<string> Scenarios() =>
    [
        "basics.zk",
        "acl.zk",
        "quota.zk",
        "watches.zk",
        "edge.zk",
        "ttl.zk",
    ];

    /// <summary>Server settings a scenario needs on both servers.</summary>
    private static IReadOnlyDictionary<string, string>? ConfigFor(string scenario) => scenario switch
    {
        "ttl.zk" => new Dictionary<string, string> { ["extendedTypesEnabled"] = "true" },
        _ => null,
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task ScriptOnStandardInputMatchesZkCli(string scenario)
    {
        string script = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Scenarios", scenario));
        var (apache, warden) = await RunBothAsync(ConfigFor(scenario), [], script);
        // The oracle must really have run the script, or the comparison proves nothing.
        Assert.False(apache.TimedOut, apache.Describe());
        Assert.Contains("WatchedEvent state:SyncConnected type:None path:null", apache.StandardOutput);
        Assert.True(Normalise(apache.StandardError).Length > 0, "zkCli printed nothing on stderr:\n" + apache.Describe());
        AssertSame(apache, warden);
    }

    /// <summary>A session with a chroot in the server string: every path, event and listing is relative to it.</summary>
    [Fact]
    public async Task ChrootedScriptMatchesZkCli()
    {
        string script = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Scenarios", "chroot.zk"));
        var (apache, warden) = await RunBothAsync(null, [], script, chroot: "/app", setup: ["create", "/app", "root"]);
        Assert.False(apache.TimedOut, apache.Describe());
        Assert.Contains("/inside/seq-0000000000", apache.StandardOutput);
        AssertSame(apache, warden);
    }

    public static TheoryData<string[]> OneCommands() =>
    [
        ["ls", "/"],
        ["get", "/zookeeper"],
        ["get", "-s", "/nope"],
        ["create", "/one", "data"],
        ["ls"],
        ["foo", "bar"],
        ["stat", "-x", "/"],
        ["version"],
    ];

    /// <summary>`zkCli.sh -server … cmd args`: one command, then exit with its status.</summary>
    [Theory]
    [MemberData(nameof(OneCommands))]
    public async Task OneCommandMatchesZkCli(string[] command)
    {
        var (apache, warden) = await RunBothAsync(null, command, null);
        Assert.False(apache.TimedOut, apache.Describe());
        AssertSame(apache, warden);
    }

    private static async Task<(ProcessResult Apache, ProcessResult Warden)> RunBothAsync(
        IReadOnlyDictionary<string, string>? config, string[] command, string? script, string chroot = "", string[]? setup = null)
    {
        var zkCli = InstalledTools.Require(InstalledTools.ZkCli, "zookeeper");
        await using var apacheServer = await ServerProcess.StartAsync(ServerKind.Apache, config);
        await using var wardenServer = await ServerProcess.StartAsync(ServerKind.Warden, config);
        var timeout = TimeSpan.FromSeconds(90);
        Task<ProcessResult> Apache(string server, string[] words, string? input) =>
            ProcessRunner.RunAsync(zkCli, ["-server", server, .. words], timeout, input);
        Task<ProcessResult> Warden(string server, string[] words, string? input) =>
            ProcessRunner.RunAsync("dotnet", [InstalledTools.WardenDll, "cli", "-server", server, .. words], timeout, input);
        if (setup is not null)
        {
            // Prepared with zkCli on both: warden cli closes its session on exit (zkCli leaves it to expire),
            // which would put one more zxid on Warden's side before the script starts.
            var prepared = await Task.WhenAll(Apache(apacheServer.ConnectString, setup, null), Apache(wardenServer.ConnectString, setup, null));
            Assert.All(prepared, run => Assert.Equal(0, run.ExitCode));
        }
        var runs = await Task.WhenAll(
            Apache(apacheServer.ConnectString + chroot, command, script),
            Warden(wardenServer.ConnectString + chroot, command, script));
        return (runs[0], runs[1]);
    }

    private static void AssertSame(ProcessResult apache, ProcessResult warden)
    {
        Assert.False(warden.TimedOut, warden.Describe());
        // zkCli prints watch events from its event thread while the next command runs, so where an event lands
        // among the command output varies from run to run (after `close`, say). The events are compared in their
        // own order, and the rest of the output without them.
        var (apacheOut, apacheEvents) = SplitEvents(Normalise(apache.StandardOutput));
        var (wardenOut, wardenEvents) = SplitEvents(Normalise(warden.StandardOutput));
        AssertSameText("watch events", apacheEvents, wardenEvents);
        AssertSameText("stdout without the watch events", apacheOut, wardenOut);
        AssertSameText("stderr", Normalise(apache.StandardError), Normalise(warden.StandardError));
        Assert.Equal(apache.ExitCode, warden.ExitCode);
    }

    /// <summary>Takes zkCli's event blocks (a blank line, WATCHER::, a blank line, the event) out of the text.</summary>
    private static (string Output, string Events) SplitEvents(string text)
    {
        var lines = text.Split('\n').ToList();
        var events = new List<string>();
        for (int i = 0; i + 2 < lines.Count; i++)
        {
            if (lines[i] != "WATCHER::" || lines[i + 1].Length != 0 || !lines[i + 2].StartsWith("WatchedEvent ", StringComparison.Ordinal)) continue;
            events.Add(lines[i + 2]);
            int from = i > 0 && lines[i - 1].Length == 0 ? i - 1 : i;
            lines.RemoveRange(from, i + 3 - from);
            i = from - 1;
        }
        return (string.Join('\n', lines), string.Join('\n', events));
    }

    /// <summary>On a difference, shows the first differing line and both whole texts, not a window of characters.</summary>
    private static void AssertSameText(string stream, string apache, string warden)
    {
        if (apache == warden) return;
        var a = apache.Split('\n');
        var w = warden.Split('\n');
        int line = 0;
        while (line < a.Length && line < w.Length && a[line] == w[line]) line++;
        Assert.Fail($"{stream} differs at line {line + 1}:\n  zkCli/Apache: {(line < a.Length ? a[line] : "<end>")}\n" +
            $"  warden/Warden: {(line < w.Length ? w[line] : "<end>")}\n--- zkCli against Apache\n{apache}\n--- warden cli against Warden\n{warden}");
    }

    /// <summary>
    /// Removes what differs between any two runs or any two products: the JVM's logging noise, zkCli's line
    /// about JLine, dates, session ids, the version string and the server address.
    /// </summary>
    public static string Normalise(string text)
    {
        var kept = new StringBuilder();
        foreach (string raw in text.Replace("\r\n", "\n").Split('\n'))
        {
            if (raw.StartsWith("SLF4J:", StringComparison.Ordinal) || raw == "JLine support is disabled") continue;
            string line = TimeLine().Replace(raw, "$1 = <time>");
            line = SessionOwner().Replace(line, "ephemeralOwner = <session>");
            line = VersionLine().Replace(line, "ZooKeeper CLI version: <version>");
            line = ConnectingLine().Replace(line, "Connecting to <server>");
            kept.Append(line).Append('\n');
        }
        return kept.ToString().TrimEnd('\n');
    }

    [GeneratedRegex(@"^(ctime|mtime) = .*$")]
    private static partial Regex TimeLine();

    // Session ids are long; TTL and container owners are fixed patterns and stay visible.
    [GeneratedRegex(@"^ephemeralOwner = 0x[0-9a-f]{12,}$")]
    private static partial Regex SessionOwner();

    [GeneratedRegex(@"^ZooKeeper CLI version: .*$")]
    private static partial Regex VersionLine();

    [GeneratedRegex(@"^Connecting to .*$")]
    private static partial Regex ConnectingLine();
}
