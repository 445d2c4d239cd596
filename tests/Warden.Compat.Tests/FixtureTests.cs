using Warden.Testing;

namespace Warden.Compat.Tests;

/// <summary>The fixture itself: a server comes up, answers, and is gone after dispose.</summary>
public sealed class FixtureTests
{
    [Fact]
    public async Task ApacheStartsAnswersRuokAndIsCleanedUp()
    {
        var server = await ServerProcess.StartAsync(ServerKind.Apache, new Dictionary<string, string> { ["maxClientCnxns"] = "10" });
        var dataDirectory = server.DataDirectory;
        var pid = server.ProcessId;
        try
        {
            Assert.Equal("imok", await server.FourLetterWordAsync("ruok", TimeSpan.FromSeconds(5)));
            Assert.Contains("maxClientCnxns=10", await File.ReadAllTextAsync(server.ConfigPath));
        }
        finally
        {
            await server.DisposeAsync();
        }
        Assert.False(Directory.Exists(dataDirectory), "the temp data directory outlived the server");
        Assert.Throws<ArgumentException>(() => System.Diagnostics.Process.GetProcessById(pid));
    }
}
