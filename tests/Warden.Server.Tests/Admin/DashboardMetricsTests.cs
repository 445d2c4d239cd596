using Warden.Server.Admin;

namespace Warden.Server.Tests.Admin;

/// <summary>
/// Every metric Grafana's ZooKeeper dashboard (grafana/jsonnet-libs, zookeeper-observ-lib, built on the metrics of
/// Apache's PrometheusMetricsProvider) queries is one /metrics serves as a gauge, on the server role that has it.
/// </summary>
public sealed class DashboardMetricsTests
{
    [Theory]
    [InlineData("znode_count")]
    [InlineData("outstanding_requests")]
    [InlineData("num_alive_connections")]
    [InlineData("watch_count")]
    [InlineData("quorum_size")]
    [InlineData("min_latency")]
    [InlineData("max_latency")]
    [InlineData("avg_latency")]
    [InlineData("leader_uptime")]
    public void TheDashboardsMetricIsServedAsAGauge(string name) => Assert.Contains(name, PrometheusEndpoint.GaugeNames);
}
