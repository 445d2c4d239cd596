using System.Net;
using Warden.Server.Configuration;

namespace Warden.Server.Admin;

/// <summary>Where Apache's AdminServer listens: admin.serverAddress, admin.serverPort and admin.commandURL.</summary>
public sealed record AdminServerSettings(string Address, int Port, string CommandUrl)
{
    /// <summary>On unless admin.enableServer=false, as in Apache; 0.0.0.0:8080/commands by default.</summary>
    public static AdminServerSettings? From(ServerConfig config)
    {
        if (!config.AdminServerEnabled) return null;
        string url = config.SystemProperties.TryGetValue("zookeeper.admin.commandURL", out var configured) && configured.Length > 0
            ? configured
            : "/commands";
        return new AdminServerSettings(config.AdminServerAddress, config.AdminServerPort, url.StartsWith('/') ? url : "/" + url);
    }

    public IPEndPoint EndPoint => HttpEndPoints.Resolve(Address, Port);
}

/// <summary>Apache's PrometheusMetricsProvider settings: metricsProvider.httpHost (0.0.0.0) and httpPort (7000).</summary>
public sealed record PrometheusSettings(string Host, int Port)
{
    public static PrometheusSettings? From(ServerConfig config)
    {
        var keys = config.MetricsProvider;
        if (!keys.TryGetValue("className", out var className) || className != ServerConfigReader.PrometheusProviderClass) return null;
        string host = keys.TryGetValue("httpHost", out var configuredHost) && configuredHost.Length > 0 ? configuredHost : "0.0.0.0";
        int port = keys.TryGetValue("httpPort", out var configuredPort) && int.TryParse(configuredPort, out var number) ? number : 7000;
        return new PrometheusSettings(host, port);
    }

    public IPEndPoint EndPoint => HttpEndPoints.Resolve(Host, Port);
}

internal static class HttpEndPoints
{
    public static IPEndPoint Resolve(string host, int port) =>
        new(IPAddress.TryParse(host, out var address) ? address : Dns.GetHostAddresses(host)[0], port);
}
