using System.Globalization;
using System.Text.RegularExpressions;
using Warden.Client;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Cli.Tests;

/// <summary>
/// `warden server` gives memory back after a burst of writes once it is quiet, without losing a znode; after loading
/// an empty data directory it does not spend a full collection on nothing.
/// </summary>
public sealed partial class HeapTrimTests(ITestOutputHelper output)
{
    private const int Nodes = 40_000;
    private const int Window = 200;

    [Fact]
    public async Task AfterABurstOfCreatesTheQuietServerGivesBackCommittedMemoryAndKeepsEveryZnode()
    {
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden, new Dictionary<string, string> { ["forceSync"] = "no" });
        try
        {
            // The data directory is loaded (empty) before the server serves; a full collection would give back nothing.
            await server.WaitForOutputAsync("Heap not trimmed after loading the data directory", TimeSpan.FromSeconds(30));
            await using var client = await ZooKeeperClient.ConnectAsync(server.ConnectString, TimeSpan.FromSeconds(30));
            await client.CreateAsync("/burst", []);
            var data = new byte[1024];
            for (int first = 0; first < Nodes; first += Window)
            {
                var creates = new List<Task>(Window);
                for (int i = first; i < first + Window; i++) creates.Add(client.CreateAsync($"/burst/n{i}", data));
                await Task.WhenAll(creates);
            }

            await server.WaitForOutputAsync("Heap trimmed after a burst of work", TimeSpan.FromSeconds(60));
            var trim = TrimLine().Match(server.CapturedOutput[server.CapturedOutput.IndexOf("Heap trimmed after a burst", StringComparison.Ordinal)..]);
            Assert.True(trim.Success, server.CapturedOutput);
            double before = double.Parse(trim.Groups["before"].Value, CultureInfo.InvariantCulture);
            double after = double.Parse(trim.Groups["after"].Value, CultureInfo.InvariantCulture);
            double live = double.Parse(trim.Groups["live"].Value, CultureInfo.InvariantCulture);
            Assert.True(after < before, $"the trim gave nothing back: {trim.Value}");
            // 40,000 znodes of 1 KiB are still alive, so the live heap cannot be smaller than their data.
            Assert.True(live >= Nodes * 1024.0 / 1048576, $"the live heap is smaller than the znodes' data: {trim.Value}");

            Assert.Equal(Nodes, await client.GetAllChildrenNumberAsync("/burst"));
            Assert.Equal(1024, (await client.GetDataAsync($"/burst/n{Nodes - 1}")).Data!.Length);
        }
        finally
        {
            output.WriteLine(server.CapturedOutput);
        }
    }

    [GeneratedRegex(@"GC committed (?<before>[0-9.]+) MiB -> (?<after>[0-9.]+) MiB, live (?<live>[0-9.]+) MiB")]
    private static partial Regex TrimLine();
}
