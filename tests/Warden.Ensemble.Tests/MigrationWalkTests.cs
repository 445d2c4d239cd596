using System.Diagnostics;
using System.Globalization;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// The README's migration walk, end to end: three Apache ZooKeeper 3.8 servers under kazoo writers; one member at a
/// time (followers first, the leader last) is stopped and Warden started on the same zoo.cfg, myid, dataDir and
/// dataLogDir, until all three are Warden; then back to Apache the same way. The writers' sessions last the whole
/// walk; a session created while all were Apache expires under a Warden leader, and one created while all were Warden
/// expires under an Apache leader, each taking its ephemeral node with it on every member. One member of each pass
/// comes back with its data wiped, so that it takes the whole tree from a leader of the other kind, and the first
/// member of each pass rejoins on its own data by DIFF from a leader of the other kind. `warden status`
/// must show every member's mode and implementation at each step, and at the end nothing acknowledged is lost.
/// </summary>
public sealed class MigrationWalkTests(ITestOutputHelper output)
{
    private const int WriterCount = 2;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task TheWalkFromApacheToWardenAndBackKeepsSessionsAndEveryAcknowledgedWrite()
    {
        await using var ensemble = EnsembleProcess.Create([ServerKind.Apache, ServerKind.Apache, ServerKind.Apache], Subject.TickTimeMs);
        foreach (var member in ensemble.Members)
        {
            // Apache's leader keeps 500 committed txns in memory to send a DIFF from, and may choose SNAP beyond them
            // depending on its log's size; with more kept, a member that was away a few seconds under the writers
            // rejoins by DIFF from either kind, which the walk checks.
            member.SystemProperties["zookeeper.commitLogCount"] = "100000";
            member.Start();
        }
        await ensemble.WaitForQuorumAsync(Bound);
        var writers = new List<KazooWriter>();
        EphemeralHolder? createdOnApache = null;
        EphemeralHolder? createdOnWarden = null;
        try
        {
            for (var index = 0; index < WriterCount; index++)
            {
                writers.Add(await KazooWriter.StartAsync(ensemble.ConnectString, $"/walk{index}"));
            }
            await Migration.EveryWriterProgressesAsync(writers, ensemble);
            createdOnApache = await EphemeralHolder.StartAsync(ensemble.ConnectString, "/held-from-apache");
            await AssertStatusAsync(ensemble, "three Apache servers");

            await PassAsync(ensemble, writers, ServerKind.Warden, wipeSecond: true);
            await AssertStatusAsync(ensemble, "three Warden servers");
            // The session was opened while every server was Apache; now a Warden leader must expire it.
            await createdOnApache.KillAndAwaitExpiryAsync(ensemble, output);
            createdOnWarden = await EphemeralHolder.StartAsync(ensemble.ConnectString, "/held-from-warden");

            await PassAsync(ensemble, writers, ServerKind.Apache, wipeSecond: true);
            await AssertStatusAsync(ensemble, "three Apache servers again");
            await createdOnWarden.KillAndAwaitExpiryAsync(ensemble, output);

            foreach (var writer in writers) await writer.StopAsync();
            await Convergence.AssertAcknowledgedWritesOnEveryMemberAsync(ensemble,
                writers.Select(w => (w.Parent, w.Acknowledged, w.ConnectionLosses)).ToList(), output);
            await Convergence.AssertSameTreeOnEveryMemberAsync(ensemble, output);
        }
        finally
        {
            foreach (var writer in writers) await writer.DisposeAsync();
            createdOnApache?.Dispose();
            createdOnWarden?.Dispose();
        }
        await Migration.AssertSameSnapshotDumpOnEveryMemberAsync(ensemble, output);
    }

    /// <summary>
    /// Replaces every member by <paramref name="kind"/>, followers first and the leader last, each time waiting for all
    /// three to serve again and every writer to progress. With <paramref name="wipeSecond"/> the second member replaced
    /// starts on an empty data directory.
    /// </summary>
    private async Task PassAsync(EnsembleProcess ensemble, IReadOnlyList<KazooWriter> writers, ServerKind kind, bool wipeSecond)
    {
        var leader = await ensemble.WaitForQuorumAsync(Bound);
        var order = ensemble.Members.Where(m => m != leader).Append(leader).ToList();
        for (var step = 0; step < order.Count; step++)
        {
            var member = order[step];
            var was = member.Kind;
            var stopwatch = Stopwatch.StartNew();
            bool wipe = wipeSecond && step == 1;
            // The leader's output so far: a DIFF to this member must appear after it.
            int leaderOutputBefore = leader.CapturedOutput.Length;
            if (wipe)
            {
                member.Stop();
                member.WipeData();
                member.ReplaceWith(kind);
            }
            else
            {
                member.ReplaceWith(kind);
            }
            await ensemble.WaitForModeAsync(member, MemberMode.Follower, Bound);
            var now = await ensemble.WaitForQuorumAsync(Bound);
            await Migration.EveryWriterProgressesAsync(writers, ensemble);
            Assert.Equal(kind, member.Kind);
            if (wipe) await AssertSnapshotSyncAsync(member, now);
            if (step == 0) await AssertDiffSyncAsync(member, now, now == leader ? leaderOutputBefore : 0);
            output.WriteLine($"server.{member.Id}: {was} -> {kind}{(wipe ? " on a wiped data directory" : "")} in " +
                             $"{stopwatch.ElapsedMilliseconds} ms; leader server.{now.Id} ({now.Kind}); " +
                             $"{writers.Sum(w => w.AcknowledgedCount)} creates acknowledged");
            await AssertStatusAsync(ensemble, $"server.{member.Id} now {kind}");
        }
    }

    /// <summary>
    /// A member started on an empty data directory took the tree from a leader of the other kind by SNAP, as the Apache
    /// side of the link says: Apache's learner logs the snapshot it got, Apache's LearnerHandler the snapshot it sent.
    /// </summary>
    private static async Task AssertSnapshotSyncAsync(EnsembleMember wiped, EnsembleMember leader)
    {
        Assert.NotEqual(wiped.Kind, leader.Kind);
        if (wiped.Kind == ServerKind.Apache)
        {
            await wiped.WaitForOutputOfThisRunAsync("Getting a snapshot from leader", TimeSpan.FromSeconds(10));
        }
        else
        {
            await leader.WaitForOutputOfThisRunAsync("Sending snapshot last zxid of peer is 0x0,", TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>
    /// A member that rejoined on its own data took the txns it missed by DIFF from a leader of the other kind, as the
    /// Apache end of the link says: Apache's learner logs the diff it got, Apache's leader a DIFF sent to it after
    /// <paramref name="leaderOutputBefore"/> characters of its output.
    /// </summary>
    private static async Task AssertDiffSyncAsync(EnsembleMember rejoined, EnsembleMember leader, int leaderOutputBefore)
    {
        Assert.NotEqual(rejoined.Kind, leader.Kind);
        if (rejoined.Kind == ServerKind.Apache)
        {
            await rejoined.WaitForOutputOfThisRunAsync("Getting a diff from the leader", TimeSpan.FromSeconds(10));
        }
        else
        {
            var sent = new System.Text.RegularExpressions.Regex($@"Sending DIFF zxid=0x[0-9a-f]+ +for peer sid: {rejoined.Id}\b");
            await leader.WaitForOutputAsync(output => sent.IsMatch(output[Math.Min(leaderOutputBefore, output.Length)..]),
                $"a DIFF sent to server.{rejoined.Id}", TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>
    /// Runs `warden status` on the whole host list: one row per member, each with a leader or follower mode, exactly one
    /// leader, and a version that says which implementation answers (Warden's ends in -warden-VERSION).
    /// </summary>
    private async Task AssertStatusAsync(EnsembleProcess ensemble, string step)
    {
        var result = await ProcessRunner.RunAsync("dotnet",
            [InstalledTools.Require(InstalledTools.WardenDll, "(build Warden.Cli)"), "status", ensemble.ConnectString], TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, $"warden status failed at '{step}': {result.Describe()}");
        var rows = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(ensemble.Members.Count, rows.Count);
        var modes = new List<string>();
        foreach (var member in ensemble.Members)
        {
            var row = rows.Single(r => r.StartsWith(member.ConnectString + " ", StringComparison.Ordinal));
            var columns = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            modes.Add(columns[1]);
            Assert.True(columns[1] is "leader" or "follower", $"at '{step}' server.{member.Id} is {columns[1]}:\n{result.StandardOutput}");
            Assert.True(columns[2].StartsWith("0x", StringComparison.Ordinal), $"no zxid for server.{member.Id} at '{step}':\n{result.StandardOutput}");
            bool saysWarden = columns[^1].Contains("-warden-", StringComparison.Ordinal);
            Assert.True(saysWarden == (member.Kind == ServerKind.Warden),
                $"at '{step}' server.{member.Id} runs {member.Kind} but reports version {columns[^1]}:\n{result.StandardOutput}");
        }
        Assert.Equal(1, modes.Count(m => m == "leader"));
        output.WriteLine($"== {step}\n{result.StandardOutput.TrimEnd()}");
    }

    /// <summary>A kazoo session holding one ephemeral node (scripts/hold_ephemeral.py) on the whole host list.</summary>
    private sealed class EphemeralHolder : IDisposable
    {
        private readonly Process _process;

        private EphemeralHolder(Process process, string path, long sessionId)
        {
            _process = process;
            Path = path;
            SessionId = sessionId;
        }

        public string Path { get; }

        public long SessionId { get; }

        public static async Task<EphemeralHolder> StartAsync(string hosts, string path)
        {
            var startInfo = new ProcessStartInfo(InstalledTools.Require(InstalledTools.Python, "python3-kazoo"))
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            // The most a 500 ms tick allows (maxSessionTimeout is 20 ticks), so the session outlives a member's restart.
            foreach (var argument in new[] { System.IO.Path.Combine(AppContext.BaseDirectory, "scripts", "hold_ephemeral.py"), hosts, path, "10" })
            {
                startInfo.ArgumentList.Add(argument);
            }
            var process = Process.Start(startInfo) ?? throw new InvalidOperationException("python did not start");
            var errors = process.StandardError.ReadToEndAsync();
            var ready = await process.StandardOutput.ReadLineAsync().WaitAsync(Clients.StepTimeout);
            var prefix = $"holding {path} session 0x";
            if (ready is null || !ready.StartsWith(prefix, StringComparison.Ordinal))
            {
                if (!process.HasExited) process.Kill();
                throw new InvalidOperationException($"the kazoo holder did not create {path}: '{ready}' {await errors.WaitAsync(Clients.StepTimeout)}");
            }
            return new EphemeralHolder(process, path, long.Parse(ready[prefix.Length..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }

        /// <summary>
        /// Checks the node is on every member, kills the holder (its session is never closed), and waits (bounded) until
        /// the leader has expired the session and the node is gone from every member.
        /// </summary>
        public async Task KillAndAwaitExpiryAsync(EnsembleProcess ensemble, ITestOutputHelper output)
        {
            foreach (var member in ensemble.Members)
            {
                await using var client = await Clients.ConnectAsync(member);
                using var timeout = new CancellationTokenSource(Clients.StepTimeout);
                await client.SyncAsync(Path, timeout.Token);
                var stat = await client.ExistsAsync(Path, cancellationToken: timeout.Token);
                Assert.True(stat?.EphemeralOwner == SessionId,
                    $"server.{member.Id} does not hold {Path} for session 0x{SessionId:x}");
            }
            _process.Kill(entireProcessTree: true);
            var stopwatch = Stopwatch.StartNew();
            foreach (var member in ensemble.Members)
            {
                await using var client = await Clients.ConnectAsync(member);
                while (true)
                {
                    using var timeout = new CancellationTokenSource(Clients.StepTimeout);
                    await client.SyncAsync(Path, timeout.Token);
                    if (await client.ExistsAsync(Path, cancellationToken: timeout.Token) is null) break;
                    Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(60),
                        $"{Path} of session 0x{SessionId:x} is still on server.{member.Id} {stopwatch.Elapsed.TotalSeconds:0} s after its client died\n" +
                        ensemble.DescribeOutputs());
                    await Task.Delay(200);
                }
            }
            output.WriteLine($"session 0x{SessionId:x} expired and {Path} left every member {stopwatch.ElapsedMilliseconds} ms after its client died");
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            _process.Dispose();
        }
    }
}
