namespace Warden.Server.Configuration;

/// <summary>
/// The metricsProvider.* keys. Apache loads the class named by metricsProvider.className and hands it the other
/// metricsProvider.* keys; Warden has the Prometheus provider built in and answers to its class name.
/// </summary>
internal sealed partial class ServerConfigReader
{
    internal const string PrometheusProviderClass = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
    private const string DefaultProviderClass = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";
    private readonly Dictionary<string, (string Value, PropertyEntry Entry)> _metricsProvider = new(StringComparer.Ordinal);

    private bool ReadMetricsProviderKey(string key, string value, PropertyEntry e)
    {
        _metricsProvider[key["metricsProvider.".Length..]] = (value, e);
        return true;
    }

    private void CheckMetricsProvider()
    {
        string className = _metricsProvider.TryGetValue("className", out var named) ? named.Value : DefaultProviderClass;
        if (className != PrometheusProviderClass && className != DefaultProviderClass)
        {
            _warnings.Add($"{At(named.Entry)}: metricsProvider.className={className} names a Java class Warden cannot load; " +
                $"Warden has Prometheus built in: write metricsProvider.className={PrometheusProviderClass}, or remove the line");
        }
        if (className != PrometheusProviderClass)
        {
            foreach (var (key, (_, entry)) in _metricsProvider.Where(p => p.Key != "className"))
            {
                _warnings.Add($"{At(entry)}: metricsProvider.{key} has no effect without metricsProvider.className={PrometheusProviderClass}");
            }
        }
        if (_metricsProvider.TryGetValue("httpPort", out var port) && (!int.TryParse(port.Value, out int number) || number is < 0 or > 65535))
        {
            _errors.Add($"{At(port.Entry)}: metricsProvider.httpPort={port.Value} is not a port number; write e.g. metricsProvider.httpPort=7000");
        }
        _config = _config with { MetricsProvider = _metricsProvider.ToDictionary(p => p.Key, p => p.Value.Value, StringComparer.Ordinal) };
    }
}
