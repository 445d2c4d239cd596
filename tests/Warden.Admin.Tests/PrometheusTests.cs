using System.Globalization;
using System.Text.RegularExpressions;
using Warden.Client;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Admin.Tests;

/// <summary>/metrics with metricsProvider.className=...PrometheusMetricsProvider: Prometheus text with Apache's names and types.</summary>
public sealed partial class PrometheusTests(ITestOutputHelper output)
{
    private const string Provider = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

    [Fact]
    public async Task MetricsAreApachesNamesAndTypesInPrometheusText()
    {
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden, new Dictionary<string, string>
        {
            ["metricsProvider.className"] = Provider,
            ["metricsProvider.httpHost"] = "127.0.0.1",
            ["metricsProvider.httpPort"] = ServerProcess.AnyFreePort,
        });
        int metricsPort = server.PortOf("metricsProvider.httpPort");
        await using var client = await StandaloneAdminTests.ClientWithWatchesAsync(server);
        for (int i = 0; i < 20; i++) await client.GetDataAsync("/app");
        for (int i = 0; i < 5; i++) await client.SetDataAsync("/app", [(byte)i]);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync($"http://127.0.0.1:{metricsPort}/metrics");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        output.WriteLine(text);
        var (types, samples) = Parse(text);

        foreach (var gauge in new[] { "znode_count", "num_alive_connections", "outstanding_requests", "watch_count", "ephemerals_count",
                     "approximate_data_size", "global_sessions", "avg_latency", "max_latency", "min_latency", "packets_received", "packets_sent", "uptime" })
        {
            Assert.Equal("gauge", types[gauge]);
        }
        Assert.Equal(7, samples["znode_count"]);
        Assert.Equal(1, samples["ephemerals_count"]);
        Assert.Equal(1, samples["num_alive_connections"]);
        var mntr = ApacheAdmin.ParseMntr(await server.FourLetterWordAsync("mntr", TimeSpan.FromSeconds(10)));
        Assert.Equal(double.Parse(mntr["watch_count"], CultureInfo.InvariantCulture), samples["watch_count"]);

        foreach (var summary in new[] { "readlatency", "updatelatency" })
        {
            Assert.Equal("summary", types[summary]);
            foreach (var quantile in new[] { "0.5", "0.9", "0.99" }) Assert.True(samples.ContainsKey($"{summary}{{quantile=\"{quantile}\"}}"), $"{summary} lacks quantile {quantile}");
        }
        // The loop hands latencies over in batches; a scrape takes what is pending, so every request is counted.
        Assert.True(samples["readlatency_count"] >= 23, $"readlatency_count {samples["readlatency_count"]}");
        Assert.True(samples["updatelatency_count"] >= 7, $"updatelatency_count {samples["updatelatency_count"]}");
        Assert.Equal("summary", types["fsynctime"]);
        // Group commit: one flush can carry several writes.
        Assert.True(samples["fsynctime_count"] >= 1);
        Assert.Equal("counter", types["connection_request_count"]);

        // The metrics Grafana's ZooKeeper dashboard (grafana/jsonnet-libs, zookeeper-observ-lib, its "prometheus"
        // source) queries, as gauges; quorum_size and leader_uptime exist only in an ensemble (EnsembleAdminTests).
        foreach (var name in new[] { "znode_count", "outstanding_requests", "num_alive_connections", "watch_count", "min_latency", "max_latency", "avg_latency" })
        {
            Assert.Equal("gauge", types[name]);
        }
    }

    /// <summary>
    /// Parses the Prometheus text exposition format strictly: every line is a HELP, a TYPE, or a sample of a family
    /// whose TYPE came first; a family is declared once. Returns each family's type and each sample's value.
    /// </summary>
    private static (Dictionary<string, string> Types, Dictionary<string, double> Samples) Parse(string text)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0) continue;
            if (line.StartsWith("# HELP ", StringComparison.Ordinal)) continue;
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.Equal(4, parts.Length);
                Assert.Contains(parts[3], new[] { "gauge", "counter", "summary", "histogram", "untyped" });
                Assert.True(types.TryAdd(parts[2], parts[3]), $"{parts[2]} declared twice");
                continue;
            }
            var match = Sample().Match(line);
            Assert.True(match.Success, $"not a Prometheus sample line: {line}");
            string name = match.Groups["name"].Value;
            string family = types.ContainsKey(name) ? name : Regex.Replace(name, "_(sum|count|total|created)$", "");
            Assert.True(types.ContainsKey(family), $"sample {name} has no TYPE line before it");
            samples[name + match.Groups["labels"].Value] = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return (types, samples);
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? (?<value>[-+]?([0-9.]+([eE][-+]?[0-9]+)?|NaN|Inf))( [0-9]+)?$""")]
    private static partial Regex Sample();
}
