using Warden.Server.Admin;
using Warden.Server.Configuration;
using Warden.Server.Tests.Configuration;

namespace Warden.Server.Tests.Admin;

/// <summary>The admin.* and metricsProvider.* keys, read as Apache reads them.</summary>
public sealed class AdminSettingsTests : IDisposable
{
    private const string Prometheus = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
    private readonly ConfigSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public void TheAdminServerIsOnByDefaultOnPort8080AndPrometheusIsOff()
    {
        var settings = ServerSettings.From(_sandbox.LoadValid("dataDir=d\n"));

        Assert.Equal(new AdminServerSettings("0.0.0.0", 8080, "/commands"), settings.AdminServer);
        Assert.Null(settings.Prometheus);
        Assert.Equal("dataDir=d\n", settings.InitialConfiguration);
    }

    [Fact]
    public void AdminKeysMoveOrTurnOffTheAdminServer()
    {
        var moved = ServerSettings.From(_sandbox.LoadValid("dataDir=d\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=9090\nadmin.commandURL=/cmd\n"));
        Assert.Equal(new AdminServerSettings("127.0.0.1", 9090, "/cmd"), moved.AdminServer);

        Assert.Null(ServerSettings.From(_sandbox.LoadValid("dataDir=d\nadmin.enableServer=false\n")).AdminServer);
    }

    [Fact]
    public void ThePrometheusProviderServesOnItsHostAndPort()
    {
        var result = _sandbox.Load($"dataDir=d\nmetricsProvider.className={Prometheus}\nmetricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort=7001\n");

        Assert.True(result.Succeeded);
        Assert.Empty(result.Warnings);
        Assert.Equal(new PrometheusSettings("127.0.0.1", 7001), ServerSettings.From(result.Config!).Prometheus);
        var defaults = ServerSettings.From(_sandbox.LoadValid($"dataDir=d\nmetricsProvider.className={Prometheus}\n"));
        Assert.Equal(new PrometheusSettings("0.0.0.0", 7000), defaults.Prometheus);
    }

    [Fact]
    public void AnotherProviderClassOrAPortWithoutTheClassIsWarnedAbout()
    {
        var other = _sandbox.Load("dataDir=d\nmetricsProvider.className=com.example.MyProvider\n");
        Assert.True(other.Succeeded);
        Assert.Contains(other.Warnings, w => w.Contains("com.example.MyProvider names a Java class Warden cannot load", StringComparison.Ordinal));
        Assert.Null(ServerSettings.From(other.Config!).Prometheus);

        var portOnly = _sandbox.Load("dataDir=d\nmetricsProvider.httpPort=7001\n");
        Assert.Equal($"zoo.cfg line 2: metricsProvider.httpPort has no effect without metricsProvider.className={Prometheus}", Assert.Single(portOnly.Warnings));

        var badPort = _sandbox.Load($"dataDir=d\nmetricsProvider.className={Prometheus}\nmetricsProvider.httpPort=seven\n");
        Assert.False(badPort.Succeeded);
        Assert.Contains(badPort.Errors, e => e.Contains("metricsProvider.httpPort=seven is not a port number", StringComparison.Ordinal));
    }
}
