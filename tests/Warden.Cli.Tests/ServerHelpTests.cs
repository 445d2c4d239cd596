using Warden.Testing;

namespace Warden.Cli.Tests;

/// <summary>`warden server --help`: how to stop it, and Apache's -D knobs with what each does.</summary>
public sealed class ServerHelpTests
{
    [Fact]
    public async Task HelpListsEveryDashDKnobWithItsMeaning()
    {
        var result = await ProcessRunner.RunAsync("dotnet", [InstalledTools.WardenDll, "server", "--help"], TimeSpan.FromSeconds(60));

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.Contains("Ctrl-C or SIGTERM stops it cleanly", result.StandardOutput);
        foreach ((string property, string meaning) in ServerCommand.Knobs)
        {
            string line = Assert.Single(result.StandardOutput.Split('\n'), l => l.TrimStart().StartsWith($"-D{property} ", StringComparison.Ordinal));
            Assert.EndsWith(meaning, line.TrimEnd());
        }
        Assert.Contains("-Djute.maxbuffer ", result.StandardOutput);
    }
}
