using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Warden.Client;
using Warden.Protocol;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// Dynamic reconfiguration, against a Warden ensemble and an Apache ZooKeeper 3.8 ensemble started alike side by
/// side (reconfigEnabled=true and the super digest of super:test, as kazoo's own harness starts its servers): the
/// same requests get the same answers, /zookeeper/config reads the same (ports aside), and kazoo's TestReconfig
/// passes against both.
/// </summary>
public sealed class ReconfigTests(ITestOutputHelper output)
{
    /// <summary>The digest of super:test, the super user kazoo's TestReconfig logs in as.</summary>
    private const string SuperDigest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=";

    internal static Dictionary<string, string> ReconfigConfig(bool enabled = true) => new()
    {
        ["reconfigEnabled"] = enabled ? "true" : "false",
        // Apache passes a zoo.cfg key it does not know on as the system property zookeeper.<key>, and so does Warden.
        ["DigestAuthenticationProvider.superDigest"] = SuperDigest,
    };

    [Fact]
    public async Task KazooTestReconfigPassesAgainstApacheAndWarden()
    {
        var python = InstalledTools.Require(InstalledTools.Python, "python3-kazoo");
        var (apache, warden) = await StartPairAsync(ReconfigConfig());
        await using (apache)
        await using (warden)
        {
            var runs = new List<ProcessResult>();
            foreach (var ensemble in new[] { apache, warden })
            {
                var run = await ProcessRunner.RunAsync(python,
                    [FormationTests.Script("kazoo_suite.py"), "--module", "test_client::TestReconfig",
                        .. ensemble.Members.SelectMany(m => new[] { "--server", m.ConnectString })], TimeSpan.FromMinutes(3));
                output.WriteLine($"{ensemble.Kind}: {run.Describe()}");
                runs.Add(run);
            }
            foreach (var test in new[] { "test_no_super_auth", "test_add_remove_observer", "test_bad_input" })
            {
                Assert.Contains($"{test} PASSED", runs[0].StandardOutput, StringComparison.Ordinal);
            }
            Assert.True(runs[1].ExitCode == 0, runs[1].Describe() + "\n" + warden.DescribeOutputs());
            Assert.Equal(runs[0].StandardOutput, runs[1].StandardOutput);
        }
    }

    /// <summary>
    /// The same sequence of reconfig requests (refused ones and accepted ones, anonymous and as the super user) and
    /// reads of /zookeeper/config, against each ensemble; every answer, with each ensemble's ports written as
    /// names, must be the same, versions and zxids included.
    /// </summary>
    [Fact]
    public async Task ReconfigAnswersAndConfigNodeMatchApache()
    {
        var (apache, warden) = await StartPairAsync(ReconfigConfig());
        await using (apache)
        await using (warden)
        {
            int[] spare = FreePorts(3);
            var apacheTranscript = await TranscriptAsync(apache, spare);
            var wardenTranscript = await TranscriptAsync(warden, spare);
            output.WriteLine("Apache:\n" + apacheTranscript + "\nWarden:\n" + wardenTranscript);
            Assert.Contains("add observer 100: OK", apacheTranscript, StringComparison.Ordinal);
            Assert.Equal(apacheTranscript, wardenTranscript);
        }
    }

    /// <summary>Without reconfigEnabled, reconfig is refused with ReconfigDisabled, and /zookeeper/config still shows the ensemble.</summary>
    [Fact]
    public async Task ReconfigIsDisabledByDefaultAsOnApache()
    {
        var (apache, warden) = await StartPairAsync(ReconfigConfig(enabled: false));
        await using (apache)
        await using (warden)
        {
            var transcripts = new List<string>();
            foreach (var ensemble in new[] { apache, warden })
            {
                var lines = new StringBuilder();
                await using var super = await SuperAsync(ensemble);
                await ReadConfigAsync(lines, ensemble, super, "config");
                await TryAsync(lines, "remove 1", () => super.ReconfigAsync(null, "1", null));
                transcripts.Add(Names(lines.ToString(), ensemble, []));
            }
            output.WriteLine(string.Join("\n----\n", transcripts));
            Assert.Contains("remove 1: ReconfigDisabled", transcripts[0], StringComparison.Ordinal);
            Assert.Equal(transcripts[0], transcripts[1]);
        }
    }

    private static async Task<string> TranscriptAsync(EnsembleProcess ensemble, int[] spare)
    {
        var lines = new StringBuilder();
        await using var anonymous = await Clients.ConnectAsync(ensemble.ConnectString);
        await using var super = await SuperAsync(ensemble);
        string observer = $"server.100=127.0.0.1:{spare[0]}:{spare[1]}:observer;127.0.0.1:{spare[2]}";

        await ReadConfigAsync(lines, ensemble, anonymous, "initial");
        var acl = await anonymous.GetAclAsync("/zookeeper/config");
        lines.AppendLine("acl: " + string.Join(",", acl.Acl.Select(a => $"{a.Id.Scheme}:{a.Id.Identity}:{(int)a.Perms}")));
        await TryAsync(lines, "anonymous add observer", () => anonymous.ReconfigAsync(observer, null, null));
        await TryAsync(lines, "anonymous bad version", () => anonymous.ReconfigAsync(observer, null, null, 0x12345));
        await TryAsync(lines, "bad joiner", () => super.ReconfigAsync("some thing", null, null));
        await TryAsync(lines, "joiner without client port", () => super.ReconfigAsync($"server.101=127.0.0.1:{spare[0]}:{spare[1]}:observer", null, null));
        await TryAsync(lines, "leaving id not a number", () => super.ReconfigAsync(null, "abc", null));
        await TryAsync(lines, "bulk garbage", () => super.ReconfigAsync(null, null, "garbage"));
        await TryAsync(lines, "leave one voter", () => super.ReconfigAsync(null, "1,2", null));
        var added = await TryAsync(lines, "add observer 100", () => super.ReconfigAsync(observer, null, null));
        await ReadConfigAsync(lines, ensemble, anonymous, "after add");
        await TryAsync(lines, "remove 100 from a stale version", () => super.ReconfigAsync(null, "100", null, 0x100000000));
        await TryAsync(lines, "remove 100", () => super.ReconfigAsync(null, "100", null, added is null ? -1 : ConfigVersion(added)));
        await TryAsync(lines, "remove a server that is no member", () => super.ReconfigAsync(null, "77", null));
        await ReadConfigAsync(lines, ensemble, anonymous, "final");
        return Names(lines.ToString(), ensemble, spare);
    }

    private static async Task<ZooKeeperClient> SuperAsync(EnsembleProcess ensemble)
    {
        var client = await Clients.ConnectAsync(ensemble.ConnectString);
        using var timeout = new CancellationTokenSource(Clients.StepTimeout);
        await client.AddAuthAsync("digest", Encoding.UTF8.GetBytes("super:test"), timeout.Token);
        return client;
    }

    private static async Task ReadConfigAsync(StringBuilder lines, EnsembleProcess ensemble, ZooKeeperClient client, string what)
    {
        // Every member shows the same configuration once it has caught up.
        foreach (var member in ensemble.Members)
        {
            await using var reader = await Clients.ConnectAsync(member);
            using var timeout = new CancellationTokenSource(Clients.StepTimeout);
            await reader.SyncAsync("/zookeeper/config", timeout.Token);
            var node = await reader.GetConfigAsync(null, timeout.Token);
            lines.AppendLine($"{what} on server.{member.Id}: {Describe(node)}");
            // conf's membership is the configuration in force too.
            var conf = await member.FourLetterWordAsync("conf", TimeSpan.FromSeconds(10));
            string membership = conf[(conf.IndexOf("membership: \n", StringComparison.Ordinal) + "membership: \n".Length)..];
            lines.AppendLine($"{what} conf membership on server.{member.Id}: {membership.TrimEnd('\n').Replace("\n", "|", StringComparison.Ordinal)}");
        }
        _ = client;
    }

    private static async Task<NodeData?> TryAsync(StringBuilder lines, string what, Func<Task<NodeData>> action)
    {
        using var timeout = new CancellationTokenSource(Clients.StepTimeout);
        try
        {
            var reply = await action().WaitAsync(timeout.Token);
            lines.AppendLine($"{what}: OK {Describe(reply)}");
            return reply;
        }
        catch (ZooKeeperException e)
        {
            lines.AppendLine($"{what}: {e.Code}");
            return null;
        }
    }

    /// <summary>The data and the stat fields that do not depend on the clock.</summary>
    private static string Describe(NodeData node) =>
        $"[{Encoding.UTF8.GetString(node.Data).Replace("\n", "|", StringComparison.Ordinal)}] czxid=0x{node.Stat.Czxid:x} mzxid=0x{node.Stat.Mzxid:x} " +
        $"ctime={node.Stat.Ctime} version={node.Stat.Version} cversion={node.Stat.Cversion} aversion={node.Stat.Aversion} " +
        $"dataLength={node.Stat.DataLength} numChildren={node.Stat.NumChildren} pzxid=0x{node.Stat.Pzxid:x}";

    private static long ConfigVersion(NodeData node)
    {
        string text = Encoding.UTF8.GetString(node.Data);
        string version = text[(text.LastIndexOf("version=", StringComparison.Ordinal) + "version=".Length)..];
        return long.Parse(version, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
    }

    /// <summary>Each member's ports, and the spare ones, as names, so that two ensembles' transcripts compare.</summary>
    private static string Names(string text, EnsembleProcess ensemble, int[] spare)
    {
        foreach (var member in ensemble.Members)
        {
            text = text.Replace($":{member.QuorumPort}:{member.ElectionPort}", $":quorum{member.Id}:election{member.Id}", StringComparison.Ordinal);
        }
        for (int i = 0; i < spare.Length; i++) text = text.Replace(":" + spare[i].ToString(CultureInfo.InvariantCulture), $":spare{i}", StringComparison.Ordinal);
        return text;
    }

    /// <summary>Both ensembles, Apache's first (it takes longer to form), each of three members.</summary>
    internal static async Task<(EnsembleProcess Apache, EnsembleProcess Warden)> StartPairAsync(Dictionary<string, string> config)
    {
        var apache = await EnsembleProcess.StartAsync(3, ServerKind.Apache, Subject.TickTimeMs, config);
        try
        {
            return (apache, await EnsembleProcess.StartAsync(3, ServerKind.Warden, Subject.TickTimeMs, config));
        }
        catch
        {
            await apache.DisposeAsync();
            throw;
        }
    }

    private static int[] FreePorts(int count) => TestPorts.Next(count);
}
