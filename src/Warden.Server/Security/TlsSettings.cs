using System.Net.Security;
using System.Security.Authentication;
using Warden.Client;

namespace Warden.Server.Security;

/// <summary>Apache's ssl.clientAuth: whether a TLS client must, may or need not present a certificate.</summary>
public enum TlsClientAuth
{
    None,
    Want,
    Need,
}

/// <summary>
/// The TLS settings of the secure client port, from the properties Apache's ClientX509Util reads
/// (zookeeper.ssl.*; a zoo.cfg key ssl.X becomes zookeeper.ssl.X, as in Apache):
/// keyStore.location/password/passwordPath/type, trustStore.location/password/passwordPath/type, clientAuth
/// (none, want, need; need when unset), protocol (TLSv1.2 when unset), enabledProtocols (the protocol alone when
/// unset, as Apache's SSLContextAndOptions does), ciphersuites, and hostnameVerification, which on a server's
/// client port checks nothing (Apache verifies client host names only on the quorum ports).
/// </summary>
public sealed record TlsSettings
{
    public const string Prefix = "zookeeper.ssl.";

    public required string KeyStorePath { get; init; }
    public string? KeyStorePassword { get; init; }
    public string? KeyStoreType { get; init; }

    /// <summary>The CA certificates client certificates are checked against; null uses the system's roots.</summary>
    public string? TrustStorePath { get; init; }
    public string? TrustStorePassword { get; init; }
    public string? TrustStoreType { get; init; }

    public TlsClientAuth ClientAuth { get; init; } = TlsClientAuth.Need;

    public SslProtocols EnabledProtocols { get; init; } = SslProtocols.Tls12;

    /// <summary>The protocol names as configured, for messages.</summary>
    public string ProtocolNames { get; init; } = "TLSv1.2";

    /// <summary>ssl.ciphersuites; null leaves the platform's defaults.</summary>
    public IReadOnlyList<TlsCipherSuite>? CipherSuites { get; init; }

    /// <summary>
    /// hostnameVerification (true unless set false): on the quorum ports each side checks that the other's certificate
    /// names the address it is connected to, as Apache's ZKTrustManager does for QuorumX509Util; the client port
    /// checks nothing of a client's address.
    /// </summary>
    public bool HostnameVerification { get; init; } = true;

    /// <summary>
    /// ssl.crl or ssl.ocsp (false unless set true): check that the peer's certificate is not revoked, asking the
    /// CRL distribution point or OCSP responder it names. The platform uses whichever the certificate names, so the
    /// two keys are one switch here.
    /// </summary>
    public bool CheckRevocation { get; init; }

    /// <summary>How the keys are written in zoo.cfg (ssl. or ssl.quorum.), for messages.</summary>
    public string SettingPrefix { get; init; } = "ssl.";

    /// <summary>The prefix of the quorum ports' keys, as Apache's QuorumX509Util reads them.</summary>
    public const string QuorumPrefix = "zookeeper.ssl.quorum.";

    /// <summary>
    /// Reads the settings. Problems that would leave the port unusable (no key store, a store that cannot be read,
    /// an unknown protocol or cipher) go to <paramref name="errors"/>, each naming the setting and the fix.
    /// </summary>
    /// <param name="prefix">The system-property prefix: <see cref="Prefix"/> for the client port, <see cref="QuorumPrefix"/> for the quorum ports.</param>
    /// <param name="purpose">What needs the settings, for the message when the key store is missing.</param>
    public static TlsSettings? Read(IReadOnlyDictionary<string, string> properties, List<string> errors, bool loadStores,
        string prefix = Prefix, string purpose = "secureClientPort")
    {
        string shown = prefix["zookeeper.".Length..];
        string? Get(string name) => properties.TryGetValue(prefix + name, out var v) && v.Trim().Length > 0 ? v.Trim() : null;
        string? keyStore = Get("keyStore.location");
        if (keyStore is null)
        {
            errors.Add($"{purpose} needs a key store with the server's key and certificate: set {shown}keyStore.location (a PEM or PKCS12 file) and {shown}keyStore.password");
            return null;
        }
        var settings = new TlsSettings
        {
            SettingPrefix = shown,
            CheckRevocation = string.Equals(Get("crl"), "true", StringComparison.OrdinalIgnoreCase)
                || string.Equals(Get("ocsp"), "true", StringComparison.OrdinalIgnoreCase),
            HostnameVerification = !string.Equals(Get("hostnameVerification"), "false", StringComparison.OrdinalIgnoreCase),
            KeyStorePath = keyStore,
            KeyStorePassword = Password(Get("keyStore.password"), Get("keyStore.passwordPath"), shown + "keyStore.passwordPath", errors),
            KeyStoreType = Get("keyStore.type"),
            TrustStorePath = Get("trustStore.location"),
            TrustStorePassword = Password(Get("trustStore.password"), Get("trustStore.passwordPath"), shown + "trustStore.passwordPath", errors),
            TrustStoreType = Get("trustStore.type"),
            ClientAuth = ClientAuthFrom(Get("clientAuth"), shown, errors),
        };
        string protocol = Get("protocol") ?? "TLSv1.2";
        string enabled = Get("enabledProtocols") ?? protocol;
        settings = settings with
        {
            EnabledProtocols = ProtocolsFrom(enabled, shown + (Get("enabledProtocols") is null ? "protocol" : "enabledProtocols"), errors),
            ProtocolNames = enabled,
            CipherSuites = CipherSuitesFrom(Get("ciphersuites"), shown, errors),
        };

        if (loadStores)
        {
            try
            {
                _ = settings.LoadCertificates();
            }
            catch (CertificateStoreException e)
            {
                errors.Add(e.Message);
            }
        }
        return settings;
    }

    /// <summary>Reads the key store (and trust store, when set) as they are on disk now.</summary>
    public (System.Security.Cryptography.X509Certificates.X509Certificate2Collection Key, System.Security.Cryptography.X509Certificates.X509Certificate2Collection? Trust) LoadCertificates()
    {
        var key = CertificateStores.LoadKeyStore(KeyStorePath, KeyStorePassword, KeyStoreType, SettingPrefix + "keyStore.location");
        var trust = TrustStorePath is null ? null : CertificateStores.LoadTrustStore(TrustStorePath, TrustStorePassword, TrustStoreType, SettingPrefix + "trustStore.location");
        return (key, trust);
    }

    /// <summary>Apache's passwordPath: the password is the file's content (a password setting wins when both are set).</summary>
    private static string? Password(string? password, string? passwordPath, string setting, List<string> errors)
    {
        if (password is not null || passwordPath is null) return password;
        try
        {
            return File.ReadAllText(passwordPath).TrimEnd('\r', '\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{setting}={passwordPath}: cannot read the password file ({e.Message})");
            return null;
        }
    }

    private static TlsClientAuth ClientAuthFrom(string? value, string shown, List<string> errors)
    {
        switch (value?.ToUpperInvariant())
        {
            case null: return TlsClientAuth.Need;
            case "NONE": return TlsClientAuth.None;
            case "WANT": return TlsClientAuth.Want;
            case "NEED": return TlsClientAuth.Need;
            default:
                errors.Add($"{shown}clientAuth={value} is not none, want or need; write {shown}clientAuth=need (a client certificate is required), want (asked for) or none");
                return TlsClientAuth.Need;
        }
    }

    /// <summary>Java's protocol names: TLSv1.3, TLSv1.2, TLSv1.1, TLSv1; "TLS" leaves the choice to the platform.</summary>
    private static SslProtocols ProtocolsFrom(string names, string setting, List<string> errors)
    {
        var protocols = SslProtocols.None;
        foreach (string name in names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
#pragma warning disable SYSLIB0039 // TLS 1.0 and 1.1 are named because Java accepts them; the platform decides whether they still work.
            SslProtocols? protocol = name switch
            {
                "TLSv1.3" => SslProtocols.Tls13,
                "TLSv1.2" => SslProtocols.Tls12,
                "TLSv1.1" => SslProtocols.Tls11,
                "TLSv1" => SslProtocols.Tls,
                "TLS" => SslProtocols.None,
                _ => null,
            };
#pragma warning restore SYSLIB0039
            if (protocol is null)
            {
                errors.Add($"{setting}: \"{name}\" is not a TLS protocol name; write TLSv1.2 or TLSv1.3 (a comma-separated list for {setting[..(setting.LastIndexOf('.') + 1)]}enabledProtocols)");
                continue;
            }
            protocols |= protocol.Value;
        }
        return protocols;
    }

    private static List<TlsCipherSuite>? CipherSuitesFrom(string? names, string shown, List<string> errors)
    {
        if (names is null) return null;
        var suites = new List<TlsCipherSuite>();
        foreach (string name in names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (Enum.TryParse<TlsCipherSuite>(name, ignoreCase: false, out var suite) && !int.TryParse(name, out _)) suites.Add(suite);
            else errors.Add($"{shown}ciphersuites: \"{name}\" is not a cipher suite name; use IANA names as Java does, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        }
        return suites;
    }
}
