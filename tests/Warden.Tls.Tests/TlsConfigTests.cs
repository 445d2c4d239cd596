using System.Text;
using Warden.Server.Configuration;

namespace Warden.Tls.Tests;

/// <summary>The secure port's zoo.cfg keys: what starts a server, and the message for what does not.</summary>
public sealed class TlsConfigTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"warden-tls-config-{Guid.NewGuid():N}");

    public TlsConfigTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private ConfigLoadResult Load(string lines) =>
        ServerConfig.Parse(Encoding.ASCII.GetBytes($"dataDir={_directory.Replace('\\', '/')}\nclientPort=2181\n{lines}\n"), workingDirectory: _directory);

    [Fact]
    public async Task ASecurePortWithReadableStoresIsReadWithTheX509Scheme()
    {
        using var certificates = await TestCertificates.CreateAsync();
        var result = Load($"secureClientPort=2281\nssl.keyStore.location={certificates.ServerP12}\nssl.keyStore.password={TestCertificates.Password}\n" +
            $"ssl.trustStore.location={certificates.CaPem}\nssl.clientAuth=want\nssl.enabledProtocols=TLSv1.2,TLSv1.3\n" +
            "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory");

        Assert.True(result.Config is not null, string.Join("\n", result.Errors));
        Assert.Empty(result.Warnings);
        Assert.Equal(2281, result.Config.SecureClientPort);
        Assert.Equal(Warden.Server.Security.TlsClientAuth.Want, result.Config.Tls!.ClientAuth);
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13, result.Config.Tls.EnabledProtocols);
        Assert.True(result.Config.Authentication.X509SchemeRegistered);
    }

    [Fact]
    public void WithoutASecurePortThereIsNoX509Scheme()
    {
        var result = Load("");
        Assert.Null(result.Config!.Tls);
        Assert.False(result.Config.Authentication.X509SchemeRegistered);
    }

    [Theory]
    [InlineData("secureClientPortAddress=127.0.0.1", "secureClientPortAddress is set but secureClientPort is not")]
    [InlineData("secureClientPort=2281", "secureClientPort needs a key store with the server's key and certificate: set ssl.keyStore.location")]
    [InlineData("secureClientPort=2281\nssl.keyStore.location=/nonexistent/server.p12", "ssl.keyStore.location=/nonexistent/server.p12 does not exist")]
    [InlineData("secureClientPort=2281\nssl.keyStore.location=/nonexistent/server.p12\nssl.clientAuth=maybe", "ssl.clientAuth=maybe is not none, want or need")]
    [InlineData("secureClientPort=2281\nssl.keyStore.location=/nonexistent/server.p12\nssl.protocol=TLSv9", "ssl.protocol: \"TLSv9\" is not a TLS protocol name")]
    [InlineData("secureClientPort=2281\nssl.keyStore.location=/nonexistent/server.p12\nssl.ciphersuites=TLS_NOT_A_SUITE", "ssl.ciphersuites: \"TLS_NOT_A_SUITE\" is not a cipher suite name")]
    [InlineData("secureClientPort=2281\nssl.keyStore.location=/nonexistent/server.p12\nssl.authProvider=mine", "ssl.authProvider=mine: Warden authenticates TLS clients with the x509 scheme only")]
    [InlineData("secureClientPort=2281\nssl.keyStore.location=/nonexistent/server.p12\nssl.keyStore.type=JKS", "ssl.keyStore.location=/nonexistent/server.p12 does not exist")]
    public void BadSettingsStopTheServerWithAMessageNamingTheSetting(string lines, string expected)
    {
        var result = Load(lines);
        Assert.Null(result.Config);
        Assert.Contains(result.Errors, error => error.Contains(expected, StringComparison.Ordinal));
    }

    private const string Ensemble = "initLimit=10\nsyncLimit=5\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=127.0.0.1:2890:3890";

    private ConfigLoadResult LoadMember(string lines)
    {
        File.WriteAllText(Path.Combine(_directory, "myid"), "1\n");
        return Load($"{Ensemble}\n{lines}");
    }

    [Fact]
    public async Task QuorumTlsKeysAreReadFromTheSslQuorumPrefix()
    {
        using var certificates = await TestCertificates.CreateAsync();
        var result = LoadMember($"sslQuorum=true\nportUnification=true\nssl.quorum.keyStore.location={certificates.ServerPem}\n" +
            $"ssl.quorum.trustStore.location={certificates.TrustP12}\nssl.quorum.trustStore.password={TestCertificates.Password}\n" +
            "ssl.quorum.clientAuth=want\nssl.quorum.hostnameVerification=false\nssl.quorum.protocol=TLSv1.3\nssl.quorum.ocsp=true");

        Assert.True(result.Config is not null, string.Join("\n", result.Errors));
        Assert.Empty(result.Warnings);
        Assert.True(result.Config.SslQuorum);
        Assert.True(result.Config.QuorumPortUnification);
        var tls = result.Config.QuorumTls!;
        Assert.Equal(certificates.ServerPem, tls.KeyStorePath);
        Assert.Equal(Warden.Server.Security.TlsClientAuth.Want, tls.ClientAuth);
        Assert.False(tls.HostnameVerification);
        Assert.True(tls.CheckRevocation);
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls13, tls.EnabledProtocols);
        // The client port's settings are separate: no secureClientPort here, so none.
        Assert.Null(result.Config.Tls);
    }

    [Theory]
    [InlineData("sslQuorum=true", "sslQuorum=true needs a key store with the server's key and certificate: set ssl.quorum.keyStore.location")]
    [InlineData("portUnification=true", "portUnification=true needs a key store with the server's key and certificate: set ssl.quorum.keyStore.location")]
    [InlineData("sslQuorum=true\nssl.quorum.keyStore.location=/nonexistent/member.p12", "ssl.quorum.keyStore.location=/nonexistent/member.p12 does not exist")]
    [InlineData("sslQuorum=true\nssl.quorum.keyStore.location=/nonexistent/member.p12\nssl.quorum.clientAuth=maybe", "ssl.quorum.clientAuth=maybe is not none, want or need")]
    [InlineData("sslQuorum=true\nssl.quorum.keyStore.location=/nonexistent/member.p12\nssl.quorum.enabledProtocols=TLSv9", "ssl.quorum.enabledProtocols: \"TLSv9\" is not a TLS protocol name")]
    [InlineData("sslQuorum=yes", "sslQuorum \"yes\" is not true or false")]
    public void BadQuorumTlsSettingsStopTheMemberWithAMessageNamingTheSetting(string lines, string expected)
    {
        var result = LoadMember(lines);
        Assert.Null(result.Config);
        Assert.Contains(result.Errors, error => error.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnotherConnectionFactoryIsAcceptedWithAWarningThatApacheWouldRefuseIt()
    {
        using var certificates = await TestCertificates.CreateAsync();
        var result = Load($"secureClientPort=2281\nssl.keyStore.location={certificates.ServerPem}\n" +
            "serverCnxnFactory=org.apache.zookeeper.server.NIOServerCnxnFactory");
        Assert.NotNull(result.Config);
        Assert.Contains(result.Warnings, warning => warning.Contains("Apache ZooKeeper serves a secureClientPort only with serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory", StringComparison.Ordinal));
    }
}
