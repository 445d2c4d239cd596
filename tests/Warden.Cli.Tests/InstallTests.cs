using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Cli.Tests;

/// <summary>
/// The one-command install: the package `dotnet pack` makes is installed as a .NET tool into a temporary tool
/// path, from that package alone, and the installed `warden` runs.
/// </summary>
public sealed class InstallTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StepBound = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task ThePackedToolInstallsAndRuns()
    {
        string root = RepositoryRoot();
        string work = Directory.CreateTempSubdirectory("warden-install-").FullName;
        try
        {
            string packages = Path.Combine(work, "packages");
            // The solution is built before the tests run (test.sh), so packing takes what is built.
            await RunAsync("dotnet", "pack", Path.Combine(root, "src", "Warden.Cli"), "-c", "Release", "--no-build", "-o", packages, "-nologo");
            string package = Assert.Single(Directory.GetFiles(packages, "warden.*.nupkg"));
            string version = Path.GetFileNameWithoutExtension(package)["warden.".Length..];
            Assert.Equal(Warden.Server.WardenVersion.Number, version);

            // Only the local package source, so the install proves the package is complete on its own.
            string config = Path.Combine(work, "nuget.config");
            await File.WriteAllTextAsync(config,
                $"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <packageSources>\n    <clear />\n" +
                $"    <add key=\"local\" value=\"{packages}\" />\n  </packageSources>\n</configuration>\n");
            string tools = Path.Combine(work, "tools");
            await RunAsync("dotnet", "tool", "install", "warden", "--tool-path", tools, "--configfile", config, "--version", version);

            string warden = Path.Combine(tools, OperatingSystem.IsWindows() ? "warden.exe" : "warden");
            var versionRun = await RunAsync(warden, "--version");
            Assert.StartsWith(version, versionRun.StandardOutput.Trim());
            var help = await RunAsync(warden, "server", "--help");
            Assert.Contains("-Dzookeeper.maxCnxns", help.StandardOutput);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private async Task<ProcessResult> RunAsync(string program, params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync(program, arguments, StepBound);
        output.WriteLine($"$ {program} {string.Join(' ', arguments)}\n{result.StandardOutput}{result.StandardError}(exit {result.ExitCode})");
        Assert.True(result.ExitCode == 0, result.Describe());
        return result;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Warden.slnx"))) return directory.FullName;
        }
        throw new InvalidOperationException($"no Warden.slnx above {AppContext.BaseDirectory}");
    }
}
