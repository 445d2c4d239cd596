namespace Warden.Server.Security;

/// <summary>
/// SASL and authentication enforcement, from the Java system properties Apache ZooKeeper 3.8 reads for them
/// (each also settable in zoo.cfg without the zookeeper. prefix, which Apache turns into the property):
/// <list type="bullet">
/// <item>java.security.auth.login.config: the JAAS file; its "Server" section (or zookeeper.sasl.serverconfig)
/// lists DIGEST-MD5 users as user_&lt;name&gt;="&lt;password&gt;".</item>
/// <item>zookeeper.authProvider.N = org.apache.zookeeper.server.auth.SASLAuthenticationProvider: registers the
/// "sasl" scheme, so ACLs may name sasl ids and the ids a login gives count in ACL checks.</item>
/// <item>zookeeper.superUser (and zookeeper.superUser.*): SASL users who bypass every ACL;
/// zookeeper.SASLAuthenticationProvider.superPassword replaces the file's password for user "super".</item>
/// <item>zookeeper.letAnySaslUserDoX: an ACL id of the sasl scheme that every SASL user matches.</item>
/// <item>zookeeper.allowSaslFailedClients: a wrong password leaves the connection open, unauthenticated.</item>
/// <item>zookeeper.enforce.auth.enabled + zookeeper.enforce.auth.schemes, or zookeeper.sessionRequireClientSASLAuth:
/// a connection must authenticate with one of the schemes before any other request.</item>
/// </list>
/// </summary>
public sealed record AuthenticationConfig
{
    public const string SaslProviderClass = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";
    public const string X509ProviderClass = "org.apache.zookeeper.server.auth.X509AuthenticationProvider";

    /// <summary>DIGEST-MD5 users and their passwords; null when no JAAS Server section is configured, so SASL is off.</summary>
    public IReadOnlyDictionary<string, string>? SaslUsers { get; init; }

    /// <summary>The sasl scheme is registered (authProvider.N names SASLAuthenticationProvider).</summary>
    public bool SaslSchemeRegistered { get; init; }

    /// <summary>
    /// The x509 scheme is registered: authProvider.N names X509AuthenticationProvider, or a secureClientPort is set
    /// (Apache's QuorumPeerConfig.configureSSLAuth registers it then), so ACLs may name certificate subjects.
    /// </summary>
    public bool X509SchemeRegistered { get; init; }

    /// <summary>zookeeper.X509AuthenticationProvider.superUser: a certificate subject that bypasses every ACL.</summary>
    public string? X509SuperUser { get; init; }

    public IReadOnlySet<string> SaslSuperUsers { get; init; } = new HashSet<string>();
    public string? LetAnySaslUserDoX { get; init; }
    public bool AllowSaslFailedClients { get; init; }

    /// <summary>Schemes a connection must have authenticated with before other requests; empty when not enforced.</summary>
    public IReadOnlyList<string> EnforcedSchemes { get; init; } = [];

    public bool SaslRequired => EnforcedSchemes.Contains("sasl");

    /// <summary>zookeeper.SASLAuthenticationProvider.superPassword: the password of user "super", if set.</summary>
    public string? SuperPassword { get; init; }

    /// <summary>
    /// A SASL user's password, or null for a user not on file. As in Apache's callback handler, the user must be
    /// in the JAAS section even when superPassword gives "super" another password.
    /// </summary>
    public string? PasswordOf(string user)
    {
        if (SaslUsers is null || !SaslUsers.TryGetValue(user, out var password)) return null;
        return user == "super" && SuperPassword is not null ? SuperPassword : password;
    }

    /// <summary>Reads the properties; problems that stop Apache from starting go to <paramref name="errors"/>.</summary>
    public static AuthenticationConfig Read(IReadOnlyDictionary<string, string> properties, List<string> errors, List<string> warnings)
    {
        string? Get(string name) => properties.GetValueOrDefault(name);
        bool registered = false;
        bool x509 = false;
        foreach (var (name, value) in properties.Where(p => p.Key.StartsWith("zookeeper.authProvider.", StringComparison.Ordinal)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            string provider = value.Trim();
            if (provider == SaslProviderClass) registered = true;
            else if (provider == X509ProviderClass) x509 = true;
            else if (provider is not ("org.apache.zookeeper.server.auth.DigestAuthenticationProvider" or "org.apache.zookeeper.server.auth.IPAuthenticationProvider"))
            {
                warnings.Add($"{name}={provider}: Warden has no such authentication provider and ignores it; it knows digest, ip, {SaslProviderClass} and {X509ProviderClass}");
            }
        }

        var config = new AuthenticationConfig
        {
            SaslSchemeRegistered = registered,
            X509SchemeRegistered = x509,
            X509SuperUser = Get("zookeeper.X509AuthenticationProvider.superUser"),
            SaslUsers = ReadJaas(Get("java.security.auth.login.config"), Get("zookeeper.sasl.serverconfig"), errors, warnings),
            SaslSuperUsers = properties
                .Where(p => p.Key == "zookeeper.superUser" || p.Key.StartsWith("zookeeper.superUser.", StringComparison.Ordinal))
                .Select(p => p.Value).Where(v => v.Length > 0).ToHashSet(StringComparer.Ordinal),
            SuperPassword = Get("zookeeper.SASLAuthenticationProvider.superPassword"),
            LetAnySaslUserDoX = Get("zookeeper.letAnySaslUserDoX"),
            AllowSaslFailedClients = Get("zookeeper.allowSaslFailedClients")?.Equals("true", StringComparison.OrdinalIgnoreCase) == true,
            EnforcedSchemes = EnforcedSchemesFrom(Get, registered, errors),
        };
        foreach (string kerberosOnly in new[] { "zookeeper.kerberos.removeHostFromPrincipal", "zookeeper.kerberos.removeRealmFromPrincipal" })
        {
            if (Get(kerberosOnly) is not null)
            {
                warnings.Add($"{kerberosOnly} has no effect: it shortens Kerberos principals, and Warden supports DIGEST-MD5 only, whose ids are the user names as given");
            }
        }
        return config;
    }

    /// <summary>AuthenticationHelper: sessionRequireClientSASLAuth=true means "sasl" is enforced, whatever the other two say.</summary>
    private static List<string> EnforcedSchemesFrom(Func<string, string?> get, bool saslRegistered, List<string> errors)
    {
        bool saslRequired = get("zookeeper.sessionRequireClientSASLAuth")?.Equals("true", StringComparison.OrdinalIgnoreCase) == true;
        if (saslRequired)
        {
            if (!saslRegistered) errors.Add($"sessionRequireClientSASLAuth=true needs the sasl scheme: add authProvider.1={SaslProviderClass} (Apache ZooKeeper refuses to start too)");
            return ["sasl"];
        }
        if (get("zookeeper.enforce.auth.enabled")?.Equals("true", StringComparison.OrdinalIgnoreCase) != true) return [];
        var schemes = (get("zookeeper.enforce.auth.schemes") ?? "").Split(',').Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
        if (schemes.Count == 0)
        {
            errors.Add("enforce.auth.enabled=true needs enforce.auth.schemes, e.g. enforce.auth.schemes=sasl (Apache ZooKeeper refuses to start too)");
        }
        foreach (string scheme in schemes)
        {
            bool available = scheme is "digest" or "ip" || (scheme == "sasl" && saslRegistered);
            if (!available)
            {
                errors.Add(scheme == "sasl"
                    ? $"enforce.auth.schemes names sasl, which needs authProvider.1={SaslProviderClass} (Apache ZooKeeper refuses to start too)"
                    : $"enforce.auth.schemes names {scheme}, which is not an available scheme; use digest, ip or sasl");
            }
        }
        return schemes;
    }

    private static Dictionary<string, string>? ReadJaas(string? path, string? sectionProperty, List<string> errors, List<string> warnings)
    {
        if (path is null) return null;
        string section = sectionProperty ?? "Server";
        string file = path.StartsWith("file:", StringComparison.Ordinal) ? new Uri(path).LocalPath : path;
        JaasFile jaas;
        try
        {
            jaas = JaasFile.Load(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"-Djava.security.auth.login.config={path}: cannot read the JAAS file ({e.Message}); fix the path, or drop the option to run without SASL");
            return null;
        }
        catch (FormatException e)
        {
            errors.Add($"JAAS file {path}, {e.Message}");
            return null;
        }
        var entries = jaas.Section(section);
        if (entries is null)
        {
            // Apache starts without SASL in this case; a SASL client is then answered with an empty token.
            warnings.Add($"JAAS file {path} has no section named '{section}', so SASL logins are not checked; " +
                $"add a {section} {{ ... }} section with user_<name>=\"<password>\" entries");
            return null;
        }
        if (entries.Any(e => e.LoginModule.EndsWith("Krb5LoginModule", StringComparison.Ordinal)))
        {
            errors.Add($"JAAS file {path}, section {section}: Kerberos (Krb5LoginModule, SASL GSSAPI) is not supported by Warden; " +
                "use DIGEST-MD5: org.apache.zookeeper.server.auth.DigestLoginModule required user_<name>=\"<password>\";");
            return null;
        }
        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            foreach (var (key, value) in entry.Options)
            {
                if (key.StartsWith("user_", StringComparison.Ordinal)) users[key["user_".Length..]] = value;
            }
        }
        return users;
    }
}
