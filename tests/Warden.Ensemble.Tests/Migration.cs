using Warden.Storage;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>The checks the mixed-ensemble tests share.</summary>
internal static class Migration
{
    private static readonly TimeSpan ProgressBound = TimeSpan.FromSeconds(60);

    /// <summary>Every writer gets three more creates acknowledged within a bound, or the failure shows every member's output.</summary>
    public static async Task EveryWriterProgressesAsync(IReadOnlyList<KazooWriter> writers, EnsembleProcess ensemble)
    {
        try
        {
            await Task.WhenAll(writers.Select(w => w.WaitForProgressAsync(3, ProgressBound)));
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            throw new TimeoutException(e.Message + "\n" + ensemble.DescribeOutputs(), e);
        }
    }

    /// <summary>
    /// Stops every member cleanly, then reads each member's dataDir and dataLogDir as they are on disk (a copy, so the
    /// files stay as the server left them), writes the tree as a snapshot and prints it with `warden snapshot dump`:
    /// the dumps (every znode with its stat, the sessions, the last zxid) must be the same text for every member,
    /// whichever implementation wrote its files.
    /// </summary>
    public static async Task AssertSameSnapshotDumpOnEveryMemberAsync(EnsembleProcess ensemble, ITestOutputHelper output)
    {
        // The last client's closeSession is acknowledged once a quorum has it; the remaining member may still be applying
        // it, and stopping it then would leave it out of that member's files.
        await WaitForOneZxidAsync(ensemble);
        foreach (var member in ensemble.Members) member.Stop();
        var dumps = new List<(EnsembleMember Member, string Dump)>();
        foreach (var member in ensemble.Members)
        {
            dumps.Add((member, await DumpAsync(member)));
        }
        var (first, reference) = dumps[0];
        foreach (var (member, dump) in dumps.Skip(1))
        {
            var expectedLines = reference.Split('\n');
            var actualLines = dump.Split('\n');
            var firstDifference = Enumerable.Range(0, Math.Max(expectedLines.Length, actualLines.Length))
                .FirstOrDefault(i => i >= expectedLines.Length || i >= actualLines.Length || expectedLines[i] != actualLines[i], -1);
            Assert.True(firstDifference < 0,
                $"warden snapshot dump of server.{member.Id} ({member.Kind}'s files) differs from server.{first.Id} ({first.Kind}) " +
                $"at line {firstDifference + 1} ({NodeAt(expectedLines, firstDifference)}): " +
                $"'{Line(expectedLines, firstDifference)}' vs '{Line(actualLines, firstDifference)}'");
        }
        var lines = reference.TrimEnd('\n').Split('\n');
        output.WriteLine($"warden snapshot dump is the same for all {dumps.Count} members' data directories ({lines[0]} {lines[^1]})");
    }

    /// <summary>The path of the znode whose stat holds line <paramref name="index"/>: the line after the last "----" above it.</summary>
    private static string NodeAt(string[] lines, int index)
    {
        for (var i = Math.Min(index, lines.Length - 1); i > 0; i--)
        {
            if (lines[i - 1] == "----") return lines[i];
        }
        return "<header>";
    }

    /// <summary>Polls srvr on every member (every 50 ms, within 30 s) until all report the same zxid.</summary>
    private static async Task WaitForOneZxidAsync(EnsembleProcess ensemble)
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var zxids = await Task.WhenAll(ensemble.Members.Select(m => m.ZxidAsync(TimeSpan.FromSeconds(5))));
            if (zxids.Distinct().Count() == 1 && zxids[0] is not null) return;
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30),
                $"the members report different zxids after 30 s without clients: {string.Join(", ", zxids.Select(z => $"0x{z:x}"))}");
            await Task.Delay(50);
        }
    }

    private static string Line(string[] lines, int index) => index >= 0 && index < lines.Length ? lines[index] : "<end>";

    private static async Task<string> DumpAsync(EnsembleMember member)
    {
        var copy = Path.Combine(member.RootDirectory, "dump");
        CopyDirectory(member.DataDirectory, Path.Combine(copy, "data"));
        CopyDirectory(member.DataLogDirectory, Path.Combine(copy, "datalog"));
        var database = new Database(Path.Combine(copy, "data"), Path.Combine(copy, "datalog"));
        var loaded = database.Load();
        var snapshot = database.TakeSnapshot(loaded.Tree, loaded.SessionTimeoutsMs, loaded.LastZxid);
        var result = await ProcessRunner.RunAsync("dotnet",
            [InstalledTools.Require(InstalledTools.WardenDll, "(build Warden.Cli)"), "snapshot", "dump", snapshot], TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0 && !result.TimedOut, $"warden snapshot dump of server.{member.Id} failed: {result.Describe()}");
        return WithoutConfigNode(result.StandardOutput);
    }

    /// <summary>
    /// The dump without the /zookeeper/config block. That node is not replicated state: Apache's server rewrites it from
    /// its own zoo.cfg whenever it starts or syncs (ZKDatabase.initConfigInZKDatabase), with its own clock as mtime and
    /// version -1, so its stat differs between any two members that wrote a snapshot at different moments, Apache or not.
    /// </summary>
    private static string WithoutConfigNode(string dump)
    {
        var blocks = dump.Split("----\n");
        return string.Join("----\n", blocks.Where(block => !block.StartsWith("/zookeeper/config\n", StringComparison.Ordinal)));
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
