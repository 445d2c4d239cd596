using System.Diagnostics;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Client.Tests.Bench;

/// <summary>Runs only when WARDEN_CLIENT_BENCH=1: a load benchmark has no place in the ordinary test run.</summary>
public sealed class BenchFactAttribute : FactAttribute
{
    public BenchFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("WARDEN_CLIENT_BENCH") != "1") Skip = "set WARDEN_CLIENT_BENCH=1 to run the benchmark";
    }
}

/// <summary>
/// Pipelined throughput against one Apache ZooKeeper 3.8 server: this client and Apache's Java client run the
/// same workload (a window of requests in flight, getData or setData of 100 bytes on one node) one after the
/// other. The Java client is compiled from Bench/JavaClientBench.java with javac at run time.
/// Run: WARDEN_CLIENT_BENCH=1 dotnet test tests/Warden.Client.Tests --filter Category=Bench -l "console;verbosity=detailed"
/// </summary>
[Trait("Category", "Bench")]
public sealed class PipelinedThroughputBenchmark(ITestOutputHelper output)
{
    private const int Count = 50_000;
    private const int Window = 1_000;

    [BenchFact]
    public async Task Pipelined_get_and_set_against_Apache_with_this_client_and_the_Java_client()
    {
        await using var server = await ServerProcess.StartAsync(ServerKind.Apache);
        var javaClasses = await CompileJavaAsync();
        await using var client = await ZooKeeperClient.ConnectAsync(server.ConnectString);
        const string path = "/bench";
        await client.CreateAsync(path, new byte[100]);

        foreach (var operation in new[] { "get", "set" })
        {
            for (int round = 1; round <= 3; round++)
            {
                double dotnet = await RunDotnetAsync(client, path, operation);
                double java = await RunJavaAsync(javaClasses, server.ConnectString, path, operation);
                output.WriteLine($"{operation} round {round}: Warden.Client {dotnet:N0} ops/s, Java client {java:N0} ops/s (window {Window}, {Count} ops)");
                Assert.True(dotnet > 0 && java > 0);
            }
        }
    }

    private static async Task<double> RunDotnetAsync(ZooKeeperClient client, string path, string operation)
    {
        var data = new byte[100];
        await RunWindowAsync(client, path, operation, Count / 10, data);
        var clock = Stopwatch.StartNew();
        await RunWindowAsync(client, path, operation, Count, data);
        return Count / clock.Elapsed.TotalSeconds;
    }

    private static async Task RunWindowAsync(ZooKeeperClient client, string path, string operation, int count, byte[] data)
    {
        using var slots = new SemaphoreSlim(Window);
        var all = new Task[count];
        for (int i = 0; i < count; i++)
        {
            await slots.WaitAsync();
            Task request = operation == "get" ? client.GetDataAsync(path) : client.SetDataAsync(path, data);
            all[i] = request.ContinueWith(_ => slots.Release(), TaskContinuationOptions.ExecuteSynchronously);
        }
        await Task.WhenAll(all);
    }

    private static async Task<string> CompileJavaAsync()
    {
        var directory = Directory.CreateTempSubdirectory("warden-client-bench-").FullName;
        var source = Path.Combine(AppContext.BaseDirectory, "Bench", "JavaClientBench.java");
        var result = await ProcessRunner.RunAsync("javac", ["-cp", InstalledTools.ApacheClassPath, "-d", directory, source], TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.Describe());
        return directory;
    }

    private static async Task<double> RunJavaAsync(string classes, string connectString, string path, string operation)
    {
        var classPath = string.Join(Path.PathSeparator, classes, InstalledTools.ApacheClassPath);
        var result = await ProcessRunner.RunAsync(InstalledTools.Java,
            ["-cp", classPath, "JavaClientBench", connectString, path, operation, Count.ToString(), Window.ToString()], TimeSpan.FromMinutes(5));
        Assert.True(result.ExitCode == 0, result.Describe());
        var line = result.StandardOutput.Split('\n').Single(l => l.StartsWith("ops/s ", StringComparison.Ordinal));
        return double.Parse(line["ops/s ".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
