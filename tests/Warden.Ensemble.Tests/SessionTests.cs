using System.Diagnostics;
using System.Globalization;
using System.Text;
using Warden.Client;
using Warden.Protocol;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// Sessions are the ensemble's, not a member's: an ephemeral node of a dead client disappears on every
/// member, a session resumed on another member keeps its ephemeral node, and sync makes a read on one
/// member see a write made through another.
/// </summary>
public sealed class SessionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A kazoo process creates an ephemeral node through one follower and is killed (SIGKILL), so its session
    /// is never closed. A watch on each member must fire NodeDeleted once the session expires (2 s asked).
    /// </summary>
    [Fact]
    public async Task EphemeralOfAKilledClientDisappearsOnEveryMemberWhenItsSessionExpires()
    {
        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs);
        var leader = await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(30));
        var holderMember = ensemble.Members.First(m => m != leader);
        const string path = "/held";

        using var holder = StartPython("hold_ephemeral.py", holderMember.ConnectString, path, "2");
        try
        {
            await WatchTheHolderDieAsync(ensemble, holder, path);
        }
        finally
        {
            if (!holder.HasExited) holder.Kill();
        }
    }

    private async Task WatchTheHolderDieAsync(EnsembleProcess ensemble, Process holder, string path)
    {
        var ready = await holder.StandardOutput.ReadLineAsync().WaitAsync(ToolTimeout);
        Assert.True(ready is not null && ready.StartsWith("holding /held session 0x", StringComparison.Ordinal),
            $"the kazoo holder did not create {path}: '{ready}' {await ReadErrorAsync(holder)}");
        var sessionId = long.Parse(ready!["holding /held session 0x".Length..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

        var watchers = new List<ZooKeeperClient>();
        try
        {
            var deletions = new List<Task>();
            foreach (var member in ensemble.Members)
            {
                var watcher = await Clients.ConnectAsync(member);
                watchers.Add(watcher);
                using var timeout = new CancellationTokenSource(Clients.StepTimeout);
                await watcher.SyncAsync(path, timeout.Token);
                var deleted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var stat = await watcher.ExistsAsync(path, e =>
                {
                    if (e.Type == EventType.NodeDeleted) deleted.TrySetResult();
                }, timeout.Token);
                Assert.True(stat is not null, $"{path} is not on server.{member.Id} while its session lives");
                Assert.Equal(sessionId, stat!.Value.EphemeralOwner);
                deletions.Add(deleted.Task);
            }

            var stopwatch = Stopwatch.StartNew();
            holder.Kill();
            // Expiry needs the session timeout plus up to one expiry tick; 30 s leaves room for a slow machine.
            await Task.WhenAll(deletions).WaitAsync(TimeSpan.FromSeconds(30));
            output.WriteLine($"{path} gone on all {ensemble.Members.Count} members {stopwatch.ElapsedMilliseconds} ms after the kill");
            foreach (var (watcher, member) in watchers.Zip(ensemble.Members))
            {
                using var timeout = new CancellationTokenSource(Clients.StepTimeout);
                Assert.Null(await watcher.ExistsAsync(path, timeout.Token));
                Assert.Empty(await watcher.GetEphemeralsAsync("/", timeout.Token));
                output.WriteLine($"server.{member.Id}: no ephemerals left");
            }
        }
        finally
        {
            foreach (var watcher in watchers)
            {
                await watcher.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// A kazoo session creates an ephemeral node on one member and leaves without closing; another kazoo
    /// process resumes the same session (id and password) on a different member, and the node is still
    /// there, still owned by that session.
    /// </summary>
    [Fact]
    public async Task SessionResumedOnAnotherMemberKeepsItsEphemeral()
    {
        var python = InstalledTools.Require(InstalledTools.Python, "python3-kazoo");
        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs);
        var first = ensemble.Members[0];
        var second = ensemble.Members[1];

        var detached = await ProcessRunner.RunAsync(python, [Script("detach.py"), first.ConnectString, "/moved"], ToolTimeout);
        output.WriteLine(detached.Describe());
        Assert.True(detached.ExitCode == 0, detached.Describe());
        var words = detached.StandardOutput.Trim().Split(' ');
        Assert.Equal("session", words[0]);

        var resumed = await ProcessRunner.RunAsync(python, [Script("resume.py"), second.ConnectString, words[1], words[2], "/moved"], ToolTimeout);
        output.WriteLine(resumed.Describe());
        var sessionHex = $"0x{long.Parse(words[1], CultureInfo.InvariantCulture):x}";
        Assert.True(resumed.ExitCode == 0, resumed.Describe() + "\n" + ensemble.DescribeOutputs());
        Assert.Contains($"resumed {sessionHex}", resumed.StandardOutput);
        Assert.Contains($"owner {sessionHex}", resumed.StandardOutput);
    }

    /// <summary>
    /// Warden.Client with a host list of two followers: the member it is on is killed, the client moves to
    /// the other with the same session, and its ephemeral node stays, seen from the leader too.
    /// </summary>
    [Fact]
    public async Task WardenClientMovesToAnotherMemberWhenItsMemberDiesAndKeepsItsEphemeral()
    {
        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs);
        var leader = await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(30));
        var followers = ensemble.Members.Where(m => m != leader).ToList();
        await using var client = await Clients.ConnectAsync(string.Join(',', followers.Select(f => f.ConnectString)));
        var states = new List<ConnectionState>();
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.StateChanged += (_, change) =>
        {
            lock (states) states.Add(change.Current);
            if (change.Current == ConnectionState.Disconnected) disconnected.TrySetResult();
        };
        var sessionId = client.SessionId.Value;
        using (var timeout = new CancellationTokenSource(Clients.StepTimeout))
        {
            await client.CreateAsync("/mine", [], CreateMode.Ephemeral, cancellationToken: timeout.Token);
        }

        var current = followers.Single(f => client.CurrentServer?.Port == f.ClientPort);
        var other = followers.Single(f => f != current);
        current.Kill();
        // A request sent before the client has seen the connection break is lost with it (ConnectionLoss, as
        // with Apache's clients); once the client knows, the next request waits for the reconnect.
        await disconnected.Task.WaitAsync(Clients.StepTimeout);
        using (var timeout = new CancellationTokenSource(Clients.StepTimeout))
        {
            // The request must run on the other follower.
            var stat = await client.ExistsAsync("/mine", timeout.Token);
            Assert.NotNull(stat);
            Assert.Equal(sessionId, stat!.Value.EphemeralOwner);
        }
        Assert.Equal(other.ClientPort, client.CurrentServer?.Port);
        Assert.Equal(sessionId, client.SessionId.Value);
        lock (states) Assert.DoesNotContain(ConnectionState.Expired, states);

        await using var observer = await Clients.ConnectAsync(leader);
        using (var timeout = new CancellationTokenSource(Clients.StepTimeout))
        {
            await observer.SyncAsync("/mine", timeout.Token);
            var stat = await observer.ExistsAsync("/mine", timeout.Token);
            Assert.NotNull(stat);
            Assert.Equal(sessionId, stat!.Value.EphemeralOwner);
        }
    }

    /// <summary>
    /// Two sessions on two different followers: one writes, the other syncs and reads, 50 times. Without the
    /// sync a follower may lag; with it, the read must see the write every time.
    /// </summary>
    [Fact]
    public async Task SyncThenReadSeesAWriteMadeThroughAnotherMember()
    {
        await using var ensemble = await EnsembleProcess.StartAsync(3, Subject.Kind, Subject.TickTimeMs);
        var leader = await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(30));
        var followers = ensemble.Members.Where(m => m != leader).ToList();
        await using var writer = await Clients.ConnectAsync(followers[0]);
        await using var reader = await Clients.ConnectAsync(followers[1]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await writer.CreateAsync("/synced", [], CreateMode.Persistent, cancellationToken: timeout.Token);
        for (var round = 0; round < 50; round++)
        {
            var value = $"round {round}";
            await writer.SetDataAsync("/synced", Encoding.UTF8.GetBytes(value), cancellationToken: timeout.Token);
            await reader.SyncAsync("/synced", timeout.Token);
            var node = await reader.GetDataAsync("/synced", timeout.Token);
            Assert.Equal(value, Encoding.UTF8.GetString(node.Data));
        }
    }

    private static string Script(string name) => FormationTests.Script(name);

    private static Process StartPython(string script, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(InstalledTools.Require(InstalledTools.Python, "python3-kazoo"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(Script(script));
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        return Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {script}");
    }

    private static async Task<string> ReadErrorAsync(Process process)
    {
        process.Kill();
        return await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }
}
