using System.Text;
using Warden.Client;
using Warden.Protocol;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// Three and five servers form one ensemble: exactly one says leader and the rest follower, and a write
/// made through any member is read on every other after a sync, through each kind of client a user
/// brings: Apache's zkCli.sh, kazoo and Warden.Client.
/// </summary>
public sealed class FormationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public async Task MembersElectExactlyOneLeaderAndTheRestFollow(int size)
    {
        await using var ensemble = await EnsembleProcess.StartAsync(size, Subject.Kind, Subject.TickTimeMs);
        var modes = await ensemble.ModesAsync();
        output.WriteLine(string.Join(", ", modes.Select(p => $"server.{p.Key}={p.Value}")));
        Assert.Single(modes.Values, m => m == MemberMode.Leader);
        Assert.Equal(size - 1, modes.Values.Count(m => m == MemberMode.Follower));

        if (!Subject.IsWarden)
        {
            return;
        }
        // The leader names the followers it leads, and each follower the leader it follows.
        var leader = ensemble.Members.Single(m => modes[m.Id] == MemberMode.Leader);
        foreach (var follower in ensemble.Members.Where(m => m != leader))
        {
            Assert.Contains($"Following {leader.Id} at 127.0.0.1:{leader.QuorumPort}", follower.CapturedOutput);
        }
        Assert.Contains("Leading epoch", leader.CapturedOutput);
    }

    /// <summary>
    /// Two of three members are a quorum whichever one is missing: they must elect a leader between them
    /// (the one with the higher id, all else equal) and serve.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task TwoOfThreeMembersElectALeaderWhicheverIsDown(int down)
    {
        await using var ensemble = EnsembleProcess.Create(3, Subject.Kind, Subject.TickTimeMs);
        foreach (var member in ensemble.Members.Where(m => m.Id != down))
        {
            member.Start();
        }
        var leader = await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ensemble.Members.Where(m => m.Id != down).Max(m => m.Id), leader.Id);
        await using var client = await Clients.ConnectAsync(ensemble.ConnectString);
        using var timeout = new CancellationTokenSource(Clients.StepTimeout);
        await client.CreateAsync("/two-of-three", [], CreateMode.Persistent, cancellationToken: timeout.Token);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public async Task WardenClientWritesOnOneMemberAndEveryOtherReadsItAfterSync(int size)
    {
        await using var ensemble = await EnsembleProcess.StartAsync(size, Subject.Kind, Subject.TickTimeMs);
        foreach (var writerMember in ensemble.Members)
        {
            var path = $"/from-{writerMember.Id}";
            var value = $"written through server.{writerMember.Id}";
            await using (var writer = await Clients.ConnectAsync(writerMember))
            {
                using var timeout = new CancellationTokenSource(Clients.StepTimeout);
                await writer.CreateAsync(path, Encoding.UTF8.GetBytes(value), CreateMode.Persistent, cancellationToken: timeout.Token);
            }
            foreach (var readerMember in ensemble.Members.Where(m => m != writerMember))
            {
                await using var reader = await Clients.ConnectAsync(readerMember);
                using var timeout = new CancellationTokenSource(Clients.StepTimeout);
                await reader.SyncAsync(path, timeout.Token);
                var node = await reader.GetDataAsync(path, timeout.Token);
                Assert.Equal(value, Encoding.UTF8.GetString(node.Data));
            }
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public async Task ZkCliWritesOnOneMemberAndEveryOtherReadsItAfterSync(int size)
    {
        var zkCli = InstalledTools.Require(InstalledTools.ZkCli, "zookeeper");
        await using var ensemble = await EnsembleProcess.StartAsync(size, Subject.Kind, Subject.TickTimeMs);
        var writerMember = ensemble.Members[^1];
        var created = await RunZkCliAsync(zkCli, writerMember, "create /zkcli written-by-zkcli");
        Assert.Contains("Created /zkcli", created.StandardOutput);

        // One zkCli at a time: each is a JVM, and the machine's cores are shared with the servers.
        foreach (var readerMember in ensemble.Members.Where(m => m != writerMember))
        {
            var read = await RunZkCliAsync(zkCli, readerMember, "sync /zkcli", "get /zkcli");
            Assert.Contains("Sync is OK", read.StandardOutput);
            Assert.Contains("written-by-zkcli", read.StandardOutput);
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public async Task KazooWritesOnOneMemberAndEveryOtherReadsItAfterSync(int size)
    {
        var python = InstalledTools.Require(InstalledTools.Python, "python3-kazoo");
        await using var ensemble = await EnsembleProcess.StartAsync(size, Subject.Kind, Subject.TickTimeMs);
        var writerMember = ensemble.Members[0];
        var readers = ensemble.Members.Skip(1).ToList();
        var result = await ProcessRunner.RunAsync(python,
            [Script("create_read.py"), "/kazoo", "written-by-kazoo", writerMember.ConnectString, .. readers.Select(m => m.ConnectString)],
            ToolTimeout);
        output.WriteLine(result.Describe());
        Assert.True(result.ExitCode == 0, result.Describe() + "\n" + ensemble.DescribeOutputs());
        Assert.Contains($"created /kazoo on {writerMember.ConnectString}", result.StandardOutput);
        foreach (var reader in readers)
        {
            Assert.Contains($"read {reader.ConnectString} written-by-kazoo", result.StandardOutput);
        }
    }

    internal static string Script(string name) => Path.Combine(AppContext.BaseDirectory, "scripts", name);

    private async Task<ProcessResult> RunZkCliAsync(string zkCli, EnsembleMember member, params string[] commands)
    {
        var result = await ProcessRunner.RunAsync(zkCli, ["-server", member.ConnectString], ToolTimeout,
            standardInput: string.Join('\n', commands) + "\nquit\n", mergeStandardError: true);
        output.WriteLine($"zkCli on server.{member.Id}: {string.Join(" | ", commands)}\n{result.StandardOutput}");
        Assert.False(result.TimedOut, $"zkCli on server.{member.Id} timed out: {result.Describe()}");
        return result;
    }
}
