using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Warden.Testing;

namespace Warden.Ensemble.Tests;

/// <summary>
/// The mistakes people make setting up an ensemble on one machine, each built as a real configuration and started
/// as real servers: every one must end in one line that names the cause and the fix, with nothing it merely
/// causes printed beside it. These pin Warden's own messages, so they always run Warden.
/// </summary>
public sealed partial class TrapTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TwoServersWithOneElectionPortAreRefusedNamingBothAndTheFix()
    {
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden);
        int shared = ensemble[1].ElectionPort;
        foreach (var member in ensemble.Members)
        {
            Rewrite(member, text => text.Replace($":{ensemble[2].ElectionPort}\n", $":{shared}\n"));
        }

        var errors = await StartAndCollectErrorsAsync(ensemble[1]);

        Assert.Equal(
            [$"warden: zoo.cfg: server.1 and server.2 both use election port {shared} on 127.0.0.1, so only one of them can run; " +
             "give each server its own ports, e.g. server.1=127.0.0.1:2888:3888, server.2=127.0.0.1:2889:3889, server.3=127.0.0.1:2890:3890"],
            errors);
    }

    [Fact]
    public async Task AServerLineWithOnePortTwiceIsTheOnlyThingReported()
    {
        // The issue's example: it used to add "myid says 1, but zoo.cfg has no server.1 line" and a warning about
        // fault tolerance, both mere consequences of the one broken line.
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden);
        var one = ensemble[1];
        Rewrite(one, text => text.Replace($"server.1=127.0.0.1:{one.QuorumPort}:{one.ElectionPort}", $"server.1=127.0.0.1:{one.QuorumPort}:{one.QuorumPort}"));

        var errors = await StartAndCollectErrorsAsync(one);

        var only = Assert.Single(errors);
        Assert.Matches(
            $@"^warden: zoo\.cfg line \d+ \(server\.1\): quorum port and election port are both {one.QuorumPort}; they must differ, e\.g\. 127\.0\.0\.1:2888:3888$",
            only);
        Assert.DoesNotContain("warn:", one.CapturedOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "is missing; a server in an ensemble needs it: create it holding only this server's number N from its server.N line, e.g. 1")]
    [InlineData("one\n", "holds \"one\", not a number; write only this server's number N from its server.N line, e.g. 1")]
    [InlineData("7\n", "says 7, but zoo.cfg has no server.7 line; write this server's own number (1, 2, 3) into it, or add server.7")]
    public async Task AMyIdThatIsMissingOrNotANumberOrNamesNoServerLine(string? myId, string expected)
    {
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden);
        var one = ensemble[1];
        string path = Path.Combine(one.DataDirectory, "myid");
        if (myId is null) File.Delete(path);
        else File.WriteAllText(path, myId);

        var errors = await StartAndCollectErrorsAsync(one);

        string separator = myId is "7\n" ? ": " : " ";
        Assert.Equal([$"warden: {path}{separator}{expected}"], errors);
    }

    [Fact]
    public async Task AServerLineForThisIdThatNamesAnotherHost()
    {
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden);
        var one = ensemble[1];
        // 192.0.2.1 is TEST-NET-1: documentation only, never an address of this machine.
        foreach (var member in ensemble.Members)
        {
            Rewrite(member, text => text.Replace($"server.1=127.0.0.1:", "server.1=192.0.2.1:"));
        }

        var errors = await StartAndCollectErrorsAsync(one);

        Assert.Equal(
            [$"warden: server.1's election address 192.0.2.1:{one.ElectionPort} is not an address of this machine, yet myid says " +
             "this is server.1; write this machine's own number into myid, or this machine's address into the server.1 line " +
             "(or set quorumListenOnAllIPs=true)"],
            errors);
    }

    [Fact]
    public async Task AServerLineForThisIdWhoseHostDoesNotResolve()
    {
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden);
        Rewrite(ensemble[1], text => text.Replace("server.1=127.0.0.1:", "server.1=no-such-host.invalid:"));

        var errors = await StartAndCollectErrorsAsync(ensemble[1]);

        var only = Assert.Single(errors);
        Assert.StartsWith("warden: server.1's host no-such-host.invalid does not resolve (", only);
        Assert.EndsWith("); fix the host in the server.1 line, or myid if this machine is not server.1", only);
    }

    [Fact]
    public async Task AnEnsembleWithoutInitLimit()
    {
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden);
        Rewrite(ensemble[1], text => text.Replace("initLimit=10\n", ""));

        var errors = await StartAndCollectErrorsAsync(ensemble[1]);

        Assert.Equal(
            ["warden: zoo.cfg: initLimit is not set and an ensemble needs it; add initLimit=10 (ticks a follower may take to connect and sync with the leader)"],
            errors);
    }

    [Fact]
    public async Task AClientPortThatIsTaken()
    {
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden);
        // A listening socket that never answers: another program on the port.
        var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        try
        {
            Rewrite(ensemble[1], text => text.Replace($"clientPort={ensemble[1].ClientPort}\n", $"clientPort={port}\n"));

            var errors = await StartAndCollectErrorsAsync(ensemble[1]);

            Assert.Equal(
            [$"warden: client port {port} on 127.0.0.1 is already in use: another program is using it; stop it, or set a free clientPort in zoo.cfg"],
            errors);
        }
        finally
        {
            taken.Stop();
        }
    }

    [Fact]
    public async Task TwoServersSharingADataLogDirAreStoppedAtStartNamingBoth()
    {
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden);
        var one = ensemble[1];
        var two = ensemble[2];
        // The founding document's zk1/zk2 mistake: zk2's dataLogDir is zk1's.
        Rewrite(two, text => text.Replace($"dataLogDir={Slashes(two.DataLogDirectory)}", $"dataLogDir={Slashes(one.DataLogDirectory)}"));
        one.Start();
        await one.WaitForOutputAsync("Warden server.1 is up", Bound);

        var errors = await StartAndCollectErrorsAsync(two);

        Assert.Equal(
            [$"warden: dataLogDir {one.DataLogDirectory} is in use by server.1 ({one.ConfigPath}, pid {one.ProcessId}), so server.2 " +
             $"({two.ConfigPath}) cannot use it too (two servers writing one folder destroy each other's data); give each server its own dataDir and dataLogDir"],
            errors);
        Assert.True(one.IsRunning, "the server that holds the folder goes on");
    }

    [Fact]
    public async Task AStandaloneServerOnAnEnsembleMembersDataLogDirIsStoppedAtStartAndAKilledHolderFreesIt()
    {
        // It used to run, then die at its first write advising to "free space or fix permissions".
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden);
        var one = ensemble[1];
        string root = Path.Combine(Path.GetTempPath(), $"warden-standalone-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        try
        {
            string config = Path.Combine(root, "zoo.cfg");
            using var port = new DeadPort();
            int clientPort = port.Port;
            port.Dispose();
            File.WriteAllText(config,
                $"tickTime=500\ndataDir={Slashes(Path.Combine(root, "data"))}\ndataLogDir={Slashes(one.DataLogDirectory)}\n" +
                $"clientPort={clientPort}\nclientPortAddress=127.0.0.1\n");
            one.Start();
            await one.WaitForOutputAsync("Warden server.1 is up", Bound);

            var refused = await RunWardenAsync(["server", config], TimeSpan.FromSeconds(60));

            Assert.Equal(1, refused.ExitCode);
            Assert.Equal(
                $"warden: dataLogDir {one.DataLogDirectory} is in use by server.1 ({one.ConfigPath}, pid {one.ProcessId}), so a standalone server " +
                $"({config}) cannot use it too (two servers writing one folder destroy each other's data); give each server its own dataDir and dataLogDir",
                refused.StandardError.Trim());

            // The lock is the operating system's: a server killed with -9 leaves nothing behind that refuses the next.
            one.Kill();
            var started = await RunWardenAsync(["server", config], TimeSpan.FromSeconds(60), untilOutput: "Warden is serving clients");
            Assert.Contains("Warden is serving clients", started.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task APeerThatDoesNotResolveAndAQuorumThatCannotFormGetOneSummaryLinePerInterval()
    {
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden);
        var one = ensemble[1];
        Rewrite(one, text => text.Replace("server.2=127.0.0.1:", "server.2=no-such-host.invalid:"));
        one.Start();

        string expected = $"No quorum yet: cannot reach server.2 at no-such-host.invalid:{ensemble[2].ElectionPort}: the host name does not resolve; " +
                          $"server.3 at 127.0.0.1:{ensemble[3].ElectionPort}: connection refused (is it running?)";
        await WaitForCountAsync(one, expected, 2);

        // One line per initLimit, and nothing per attempt: no stack traces, no other warnings.
        Assert.DoesNotContain("Exception", one.CapturedOutput, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\n\S+\|\s+at ", one.CapturedOutput);
        var warnings = one.CapturedOutput.Split('\n').Where(l => l.Contains("warn:", StringComparison.Ordinal)).ToList();
        Assert.All(warnings, w => Assert.EndsWith(expected, w));
    }

    [Fact]
    public async Task AnotherServerAnsweringAtAPeersAddressIsNamed()
    {
        // server.1's zoo.cfg swaps the election ports of server.2 and server.3; with five voters and only two running
        // there is no quorum, so server.1 keeps saying why it cannot reach server.3.
        await using var ensemble = EnsembleProcess.Create(5, ServerKind.Warden);
        var one = ensemble[1];
        int two = ensemble[2].ElectionPort, three = ensemble[3].ElectionPort;
        Rewrite(one, text => text
            .Replace($"server.2=127.0.0.1:{ensemble[2].QuorumPort}:{two}", $"server.2=127.0.0.1:{ensemble[2].QuorumPort}:{three}")
            .Replace($"server.3=127.0.0.1:{ensemble[3].QuorumPort}:{three}", $"server.3=127.0.0.1:{ensemble[3].QuorumPort}:{two}"));
        one.Start();
        ensemble[2].Start();

        await WaitForCountAsync(one,
            $"server.3 at 127.0.0.1:{two}: server.2 answers at that address (server.2's myid, or its server.N lines, disagree with this server's zoo.cfg)", 1);
    }

    [Fact]
    public async Task MembersWhoseServerListsDisagreeAreNamedWithTheDifference()
    {
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden);
        var (q2, e2, q3, e3) = (ensemble[2].QuorumPort, ensemble[2].ElectionPort, ensemble[3].QuorumPort, ensemble[3].ElectionPort);
        Rewrite(ensemble[1], text => text
            .Replace($"server.2=127.0.0.1:{q2}:{e2}", $"server.2=127.0.0.1:{q2}:{e3}")
            .Replace($"server.3=127.0.0.1:{q3}:{e3}", $"server.3=127.0.0.1:{q3}:{e2}"));
        foreach (var member in ensemble.Members) member.Start();

        await WaitForCountAsync(ensemble[2],
            $"server.1's server list differs from this server's: it has server.2=127.0.0.1:{q2}:{e3}:participant where this server has " +
            $"127.0.0.1:{q2}:{e2}; it has server.3=127.0.0.1:{q3}:{e2}:participant where this server has 127.0.0.1:{q3}:{e3}; " +
            "give every member the same server.N lines", 1);
    }

    [Fact]
    public async Task ANewLeaderWhoseSharedQuorumPortTheOldLeaderStillHoldsNamesIt()
    {
        // The founding tutorial's three servers on one host share quorum port 2888. Apache runs it, since only the
        // leader listens there, and so does Warden (with a warning); but while the old leader lives on frozen, the
        // new one cannot listen, and must say why.
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden);
        int shared = ensemble[1].QuorumPort;
        foreach (var member in ensemble.Members)
        {
            Rewrite(member, text => Regex.Replace(text, @"(server\.\d=127\.0\.0\.1:)\d+:", $"${{1}}{shared}:"));
        }
        foreach (var member in ensemble.Members) member.Start();
        var leader = await ensemble.WaitForQuorumAsync(Bound);
        Assert.Contains("share quorum port", leader.CapturedOutput, StringComparison.Ordinal);

        leader.Pause();

        var others = ensemble.Members.Where(m => m != leader).ToList();
        string expected = $"cannot listen on quorum port 127.0.0.1:{shared}: it is still held, most likely by the previous leader, since ";
        var stopwatch = Stopwatch.StartNew();
        while (!others.Any(m => m.CapturedOutput.Contains(expected, StringComparison.Ordinal)))
        {
            Assert.True(stopwatch.Elapsed < Bound, $"no member said '{expected}'\n{ensemble.DescribeOutputs()}");
            await Task.Delay(50);
        }
        var failed = others.First(m => m.CapturedOutput.Contains(expected, StringComparison.Ordinal));
        var sharing = ensemble.Members.Where(m => m != failed).Select(m => $"server.{m.Id}");
        Assert.Contains(
            $"err| warden: stopping because server.{failed.Id} was elected leader but {expected}{string.Join(" and ", sharing)} use the same " +
            $"quorum port on this host; give each server its own quorum port (e.g. server.1=127.0.0.1:2888:{ensemble[1].ElectionPort}, " +
            $"server.2=127.0.0.1:2889:{ensemble[2].ElectionPort}, server.3=127.0.0.1:2890:{ensemble[3].ElectionPort})\n",
            failed.CapturedOutput, StringComparison.Ordinal);
    }

    private static string Slashes(string path) => path.Replace('\\', '/');

    private static void Rewrite(EnsembleMember member, Func<string, string> change)
    {
        string before = File.ReadAllText(member.ConfigPath);
        string after = change(before);
        Assert.NotEqual(before, after);
        File.WriteAllText(member.ConfigPath, after);
    }

    /// <summary>Starts the member, waits (bounded) for it to exit on its own, and returns what it printed on stderr.</summary>
    private static async Task<List<string>> StartAndCollectErrorsAsync(EnsembleMember member)
    {
        member.Start();
        try
        {
            await member.WaitForExitAsync(Bound);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"server.{member.Id} did not stop within {Bound.TotalSeconds:0} s\n{member.CapturedOutput}");
        }
        return member.CapturedOutput.Split('\n')
            .Where(l => l.StartsWith("err| ", StringComparison.Ordinal))
            .Select(l => l["err| ".Length..])
            .ToList();
    }

    /// <summary>Waits (bounded, checked as each line arrives) until the member printed a line holding <paramref name="text"/> <paramref name="count"/> times.</summary>
    private static Task WaitForCountAsync(EnsembleMember member, string text, int count) =>
        member.WaitForOutputAsync(output => Occurrences(output, text) >= count, $"'{text}' {count} times", Bound);

    private static int Occurrences(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    /// <summary>Runs `warden ARGS` to its end, or until <paramref name="untilOutput"/> appears (then it is stopped by pid).</summary>
    internal static async Task<ProcessResult> RunWardenAsync(IReadOnlyList<string> arguments, TimeSpan timeout, string? untilOutput = null)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(InstalledTools.Require(InstalledTools.WardenDll, "(build Warden.Cli)"));
        foreach (var argument in arguments) startInfo.ArgumentList.Add(argument);
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("dotnet did not start");
        var stdout = new System.Text.StringBuilder();
        var stderr = new System.Text.StringBuilder();
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stdout) stdout.Append(e.Data).Append('\n');
            if (untilOutput is not null && e.Data.Contains(untilOutput, StringComparison.Ordinal)) seen.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.Append(e.Data).Append('\n');
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var bound = new CancellationTokenSource(timeout);
        try
        {
            await Task.WhenAny(process.WaitForExitAsync(bound.Token), seen.Task.WaitAsync(bound.Token));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
        lock (stdout) lock (stderr) return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString(), bound.IsCancellationRequested);
    }
}
