using Warden.Server.Security;

namespace Warden.Server.Tests.Security;

/// <summary>The JAAS file and the system properties that configure SASL, read as Apache ZooKeeper 3.8 reads them.</summary>
public sealed class AuthenticationConfigTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("warden-jaas-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string WriteJaas(string text)
    {
        string path = Path.Combine(_directory, "jaas.conf");
        File.WriteAllText(path, text);
        return path;
    }

    private static AuthenticationConfig Read(Dictionary<string, string> properties, out List<string> errors, out List<string> warnings)
    {
        errors = [];
        warnings = [];
        return AuthenticationConfig.Read(properties, errors, warnings);
    }

    [Fact]
    public void ServerSectionUsersAndTheSaslProviderAreRead()
    {
        string path = WriteJaas("""
            // kazoo's test configuration, with comments added
            Server {
                org.apache.zookeeper.server.auth.DigestLoginModule required
                user_super="super_secret"   /* the admin */
                user_jaasuser="jaas_password";
            };
            Client {
                org.apache.zookeeper.server.auth.DigestLoginModule required username="jaasuser" password="jaas_password";
            };
            """);
        var config = Read(new()
        {
            ["java.security.auth.login.config"] = path,
            ["zookeeper.authProvider.1"] = AuthenticationConfig.SaslProviderClass,
            ["zookeeper.superUser"] = "super",
            ["zookeeper.SASLAuthenticationProvider.superPassword"] = "other",
        }, out var errors, out var warnings);
        Assert.Empty(errors);
        Assert.Empty(warnings);
        Assert.True(config.SaslSchemeRegistered);
        Assert.Equal("jaas_password", config.PasswordOf("jaasuser"));
        Assert.Equal("other", config.PasswordOf("super"));
        Assert.Null(config.PasswordOf("jaas_password"));
        Assert.Contains("super", config.SaslSuperUsers);
    }

    [Fact]
    public void AnotherSectionNameIsTakenFromSaslServerconfig()
    {
        string path = WriteJaas("ZkServer { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob=\"pw\"; };");
        var config = Read(new() { ["java.security.auth.login.config"] = path, ["zookeeper.sasl.serverconfig"] = "ZkServer" }, out var errors, out _);
        Assert.Empty(errors);
        Assert.Equal("pw", config.PasswordOf("bob"));
    }

    [Fact]
    public void AMissingServerSectionLeavesSaslOffWithAWarning()
    {
        string path = WriteJaas("Client { org.apache.zookeeper.server.auth.DigestLoginModule required username=\"a\" password=\"b\"; };");
        var config = Read(new() { ["java.security.auth.login.config"] = path }, out var errors, out var warnings);
        Assert.Empty(errors);
        Assert.Null(config.SaslUsers);
        Assert.Contains(warnings, w => w.Contains("no section named 'Server'", StringComparison.Ordinal));
    }

    [Fact]
    public void AnUnreadableFileKerberosAndBadSyntaxStopTheServer()
    {
        Read(new() { ["java.security.auth.login.config"] = Path.Combine(_directory, "missing.conf") }, out var missing, out _);
        Assert.Contains(missing, e => e.Contains("cannot read the JAAS file", StringComparison.Ordinal));

        string kerberos = WriteJaas("Server { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true; };");
        Read(new() { ["java.security.auth.login.config"] = kerberos }, out var gssapi, out _);
        Assert.Contains(gssapi, e => e.Contains("Kerberos", StringComparison.Ordinal));

        string broken = WriteJaas("Server {\n org.apache.zookeeper.server.auth.DigestLoginModule required\n user_bob=\"pw\"\n};");
        Read(new() { ["java.security.auth.login.config"] = broken }, out var syntax, out _);
        Assert.Contains(syntax, e => e.Contains("line 4", StringComparison.Ordinal));
    }

    [Fact]
    public void EnforcementNeedsSchemesThatAreAvailable()
    {
        Read(new() { ["zookeeper.enforce.auth.enabled"] = "true" }, out var noSchemes, out _);
        Assert.Single(noSchemes);
        Read(new() { ["zookeeper.enforce.auth.enabled"] = "true", ["zookeeper.enforce.auth.schemes"] = "sasl" }, out var unregistered, out _);
        Assert.Single(unregistered);

        var required = Read(new()
        {
            ["zookeeper.sessionRequireClientSASLAuth"] = "true",
            ["zookeeper.authProvider.sasl"] = AuthenticationConfig.SaslProviderClass,
        }, out var errors, out _);
        Assert.Empty(errors);
        Assert.True(required.SaslRequired);
        Assert.Equal(["sasl"], required.EnforcedSchemes);
    }

    [Fact]
    public void KerberosPrincipalOptionsAreReportedAsIneffective()
    {
        Read(new() { ["zookeeper.kerberos.removeHostFromPrincipal"] = "true" }, out _, out var warnings);
        Assert.Contains(warnings, w => w.Contains("removeHostFromPrincipal has no effect", StringComparison.Ordinal));
    }
}
