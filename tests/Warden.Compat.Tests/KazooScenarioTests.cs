using Warden.Testing;

namespace Warden.Compat.Tests;

/// <summary>
/// tests/compat/scenarios.py drives every client operation in scope through kazoo (CRUD in all
/// create modes, create2, children with stat, sync, multi with check and failing ops, one-shot
/// watches, reconnect to the same session, session takeover by id and password, closeSession
/// and expiry removing ephemerals). Each scenario runs on a fresh pair of servers, so zxids are
/// comparable, and its transcript must equal Apache's.
/// </summary>
public sealed class KazooScenarioTests
{
    [Theory]
    [InlineData("crud")]
    [InlineData("transactions")]
    [InlineData("watches")]
    [InlineData("reconnect")]
    [InlineData("close-session")]
    [InlineData("expiry")]
    [InlineData("special-paths")]
    [InlineData("pipelined")]
    public async Task ScenarioMatchesApache(string scenario)
    {
        var (oracle, subject) = await Transcripts.StartPairAsync();
        await using (oracle)
        await using (subject)
        {
            var runs = await Task.WhenAll(RunAsync(oracle, scenario), RunAsync(subject, scenario));
            Assert.True(runs[0].ExitCode == 0, $"scenario {scenario} failed against Apache: {runs[0].Describe()}");
            Assert.True(runs[0].StandardOutput.Contains($"[{scenario}]", StringComparison.Ordinal),
                $"scenario {scenario} printed nothing against Apache: {runs[0].Describe()}");
            var subjectTranscript = runs[1].StandardOutput +
                (runs[1].ExitCode == 0 ? "" : $"<driver failed: exit code {runs[1].ExitCode}>\n{runs[1].StandardError}");
            Transcripts.AssertSame(
                $"kazoo scenario {scenario}", "Apache", runs[0].StandardOutput, subject.Kind.ToString(), subjectTranscript);
        }
    }

    /// <summary>
    /// ACLs, containers, TTL nodes and persistent watches, step by step, on servers started with the
    /// feature settings (extended types, a super digest, a 100 ms container check).
    /// </summary>
    [Fact]
    public async Task FeatureScenarioMatchesApache()
    {
        var (oracle, subject) = await Transcripts.StartPairAsync(
            FeatureDifferentialTests.FeatureConfig(), FeatureDifferentialTests.FeatureProperties());
        await using (oracle)
        await using (subject)
        {
            var runs = await Task.WhenAll(RunAsync(oracle, "features"), RunAsync(subject, "features"));
            Assert.True(runs[0].ExitCode == 0, $"scenario features failed against Apache: {runs[0].Describe()}");
            Assert.Contains("[features] the server removed /box: true", runs[0].StandardOutput, StringComparison.Ordinal);
            Transcripts.AssertSame("kazoo scenario features", "Apache", runs[0].StandardOutput, subject.Kind.ToString(),
                runs[1].StandardOutput + (runs[1].ExitCode == 0 ? "" : $"<driver failed>\n{runs[1].StandardError}"));
        }
    }

    private static Task<ProcessResult> RunAsync(ServerProcess server, string scenario) =>
        Transcripts.RunPythonAsync("scenarios.py", ["--server", server.ConnectString, "--only", scenario], TimeSpan.FromSeconds(120));
}
