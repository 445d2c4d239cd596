using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Durability.Tests;

/// <summary>
/// Real processes, real disks: Warden is killed with SIGKILL while clients write, and its data directories are
/// damaged, filled and made read-only. The drivers are Python scripts (tests/durability) using kazoo; each
/// prints what it saw, and these tests assert on their verdicts.
/// </summary>
public class DurabilityTests(ITestOutputHelper output)
{
    private static string Script(string name) => Path.Combine(AppContext.BaseDirectory, "durability", name);

    private async Task<ProcessResult> RunAsync(string script, IEnumerable<string> arguments, TimeSpan timeout)
    {
        string work = Path.Combine(Path.GetTempPath(), "warden-durability-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var result = await ProcessRunner.RunAsync(InstalledTools.Python,
                [Script(script), InstalledTools.WardenDll, work, .. arguments], timeout);
            output.WriteLine(result.StandardOutput);
            output.WriteLine(result.StandardError);
            return result;
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// Twenty rounds of kill -9 at a random moment under four writers; after each restart every acknowledged
    /// create is there and nothing unasked-for is; at the end Apache ZooKeeper reads the same tree from the files.
    /// WARDEN_CRASH_SEED replays a run; WARDEN_CRASH_ROUNDS asks for more rounds.
    /// </summary>
    [Fact]
    public async Task KilledMidWriteNothingAcknowledgedIsLost()
    {
        string seed = Environment.GetEnvironmentVariable("WARDEN_CRASH_SEED") ?? Random.Shared.Next(1, 1_000_000).ToString();
        string rounds = Environment.GetEnvironmentVariable("WARDEN_CRASH_ROUNDS") ?? "20";
        var result = await RunAsync("crash.py", [rounds, seed, InstalledTools.ApacheClassPath], TimeSpan.FromMinutes(8));
        Assert.False(result.TimedOut, "the crash test did not finish in 8 minutes (seed " + seed + ")");
        Assert.Contains($"crash rounds: {rounds} passed, 0 failed", result.StandardOutput);
        Assert.Contains("Apache ZooKeeper reads the same", result.StandardOutput);
        Assert.Equal(0, result.ExitCode);
    }

    [Theory]
    [InlineData("torn-tail")]
    [InlineData("corrupt-middle")]
    [InlineData("disk-full")]
    [InlineData("readonly-logdir")]
    [InlineData("sessions")]
    public async Task DamagedOrFullDataDirectoriesGetClearAnswersAndLoseNothing(string scenario)
    {
        var result = await RunAsync("faults.py", [scenario], TimeSpan.FromMinutes(3));
        Assert.False(result.TimedOut, scenario + " did not finish in 3 minutes");
        Assert.StartsWith("ok:", result.StandardOutput.Trim());
        Assert.Equal(0, result.ExitCode);
    }
}
