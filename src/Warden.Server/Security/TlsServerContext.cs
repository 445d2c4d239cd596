using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Warden.Client;

namespace Warden.Server.Security;

/// <summary>
/// The TLS side of the secure client port: the server certificate and the trusted CAs as they are on disk, and the
/// check of a client's certificate. Before each handshake the key and trust store files are looked at (their size
/// and time of last change); when either changed, both are read again, so renewed certificates take effect on the
/// next connection without a restart (Apache needs one). A store that cannot be read then (a file half written,
/// a wrong password) is logged and the certificates in use are kept.
/// </summary>
public sealed class TlsServerContext
{
    private readonly TlsSettings _settings;
    private readonly ILogger _log;
    private readonly Lock _reloading = new();
    private Loaded _current;

    private sealed record Loaded(SslStreamCertificateContext Server, X509Certificate2Collection? Trust, FileStamp Key, FileStamp TrustFile);

    private readonly record struct FileStamp(long Length, DateTime ChangedUtc)
    {
        public static FileStamp Of(string? path)
        {
            if (path is null) return default;
            var info = new FileInfo(path);
            return info.Exists ? new FileStamp(info.Length, info.LastWriteTimeUtc) : default;
        }
    }

    private readonly bool _verifyPeerAddress;

    /// <param name="verifyPeerAddress">
    /// Check that the other side's certificate names the address it connects from or to, when hostnameVerification is
    /// on: the quorum ports do (Apache's QuorumX509Util), the client port does not check a client's address.
    /// </param>
    public TlsServerContext(TlsSettings settings, ILogger log, bool verifyPeerAddress = false)
    {
        _settings = settings;
        _log = log;
        _verifyPeerAddress = verifyPeerAddress && settings.HostnameVerification;
        _current = Load();
    }

    public TlsSettings Settings => _settings;

    /// <summary>Times the stores were read again after a change, for tests and logs.</summary>
    public int Reloads { get; private set; }

    private Loaded Load()
    {
        var keyStamp = FileStamp.Of(_settings.KeyStorePath);
        var trustStamp = FileStamp.Of(_settings.TrustStorePath);
        var (key, trust) = _settings.LoadCertificates();
        var chain = new X509Certificate2Collection();
        for (int i = 1; i < key.Count; i++) chain.Add(key[i]);
        var server = SslStreamCertificateContext.Create(key[0], chain, offline: true);
        return new Loaded(server, trust, keyStamp, trustStamp);
    }

    /// <summary>The certificates to use now, read again first if a store file changed.</summary>
    private Loaded Current()
    {
        var loaded = Volatile.Read(ref _current);
        if (FileStamp.Of(_settings.KeyStorePath) == loaded.Key && FileStamp.Of(_settings.TrustStorePath) == loaded.TrustFile) return loaded;
        lock (_reloading)
        {
            loaded = _current;
            var keyStamp = FileStamp.Of(_settings.KeyStorePath);
            var trustStamp = FileStamp.Of(_settings.TrustStorePath);
            if (keyStamp == loaded.Key && trustStamp == loaded.TrustFile) return loaded;
            try
            {
                var fresh = Load();
                Volatile.Write(ref _current, fresh);
                Reloads++;
                _log.LogInformation("Reloaded the TLS key store {KeyStore}{Trust}: serving certificate {Subject}, valid until {NotAfter:u}",
                    _settings.KeyStorePath, _settings.TrustStorePath is null ? "" : $" and trust store {_settings.TrustStorePath}",
                    fresh.Server.TargetCertificate.Subject, fresh.Server.TargetCertificate.NotAfter.ToUniversalTime());
                return fresh;
            }
            catch (Exception e) when (e is CertificateStoreException or System.Security.Cryptography.CryptographicException or IOException)
            {
                // Remember the stamps so one bad file is reported once, not on every connection; the next change
                // of either file is tried again.
                _log.LogWarning("The TLS stores changed but cannot be used, so the certificates loaded before stay in use: {Reason}", e.Message);
                var kept = loaded with { Key = keyStamp, TrustFile = trustStamp };
                Volatile.Write(ref _current, kept);
                return kept;
            }
        }
    }

    /// <summary>Options for one server handshake, with the certificates current now.</summary>
    /// <param name="refused">Told why a client certificate was refused, for the log line of the failed handshake.</param>
    /// <param name="remote">The address the client connects from, checked against its certificate on the quorum ports.</param>
    public SslServerAuthenticationOptions OptionsForHandshake(Action<string> refused, System.Net.IPAddress? remote = null)
    {
        var loaded = Current();
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = loaded.Server,
            ClientCertificateRequired = _settings.ClientAuth != TlsClientAuth.None,
            EnabledSslProtocols = _settings.EnabledProtocols,
            CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                string? refusal = ClientCertificateRefusal(certificate, loaded.Trust)
                    ?? (certificate is null ? null : AddressRefusal(certificate, remote, "client"));
                if (refusal is not null) refused(refusal);
                return refusal is null;
            },
        };
        // Windows takes its cipher suites from the system policy only; the configuration reader warns about it there.
        if (_settings.CipherSuites is { } suites && !OperatingSystem.IsWindows()) options.CipherSuitesPolicy = new CipherSuitesPolicy(suites);
        return options;
    }

    /// <summary>
    /// Options for dialling a server as a TLS client (the quorum ports): this server's own certificate is offered as
    /// the client certificate, and the other side's must chain to the trust store and, with hostnameVerification,
    /// name <paramref name="remote"/>.
    /// </summary>
    public SslClientAuthenticationOptions OptionsForDial(string targetHost, System.Net.IPAddress remote, Action<string> refused)
    {
        var loaded = Current();
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            ClientCertificateContext = loaded.Server,
            EnabledSslProtocols = _settings.EnabledProtocols,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                string? refusal = certificate is null
                    ? "the server presented no certificate"
                    : CertificateRefusal(certificate, loaded.Trust, "server") ?? AddressRefusal(certificate, remote, "server");
                if (refusal is not null) refused(refusal);
                return refusal is null;
            },
        };
        if (_settings.CipherSuites is { } suites && !OperatingSystem.IsWindows()) options.CipherSuitesPolicy = new CipherSuitesPolicy(suites);
        return options;
    }

    /// <summary>
    /// With hostnameVerification, a quorum peer's certificate must name the address of the connection: its IP address
    /// in a subjectAltName, or else the name the address resolves back to, as Apache's ZKTrustManager checks.
    /// </summary>
    private string? AddressRefusal(X509Certificate certificate, System.Net.IPAddress? remote, string side)
    {
        if (!_verifyPeerAddress || remote is null) return null;
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var address = remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote;
        if (leaf.MatchesHostname(address.ToString(), allowWildcards: true, allowCommonName: true)) return null;
        string? name = null;
        try
        {
            name = System.Net.Dns.GetHostEntry(address).HostName;
            if (name.Length > 0 && leaf.MatchesHostname(name, allowWildcards: true, allowCommonName: true)) return null;
        }
        catch (System.Net.Sockets.SocketException)
        {
        }
        return $"the {side} certificate '{leaf.Subject}' does not name {address}{(name is null || name.Length == 0 ? "" : $" or {name}")} " +
            $"(add it as a subjectAltName, or set {_settings.SettingPrefix}hostnameVerification=false)";
    }

    /// <summary>
    /// ssl.clientAuth=need refuses a client without a certificate; want and none let it in. A certificate that is
    /// presented must chain to the trust store (or, without one, to the system's roots), whatever clientAuth says.
    /// </summary>
    private string? ClientCertificateRefusal(X509Certificate? certificate, X509Certificate2Collection? trust)
    {
        if (certificate is null)
        {
            return _settings.ClientAuth == TlsClientAuth.Need
                ? $"the client presented no certificate and {_settings.SettingPrefix}clientAuth=need requires one (set {_settings.SettingPrefix}clientAuth=want or none to let such clients in)"
                : null;
        }
        return CertificateRefusal(certificate, trust, "client");
    }

    private string? CertificateRefusal(X509Certificate certificate, X509Certificate2Collection? trust, string side)
    {
        using var chain = new X509Chain();
        // ssl.crl / ssl.ocsp: ask the CRL distribution point or OCSP responder the certificate names, as Java's PKIX
        // checker does when Apache turns them on; a status that cannot be had refuses the certificate, as there.
        chain.ChainPolicy.RevocationMode = _settings.CheckRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck;
        chain.ChainPolicy.RevocationFlag = X509RevocationFlag.ExcludeRoot;
        chain.ChainPolicy.UrlRetrievalTimeout = TimeSpan.FromSeconds(5);
        if (trust is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(trust);
        }
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (chain.Build(leaf)) return null;
        string problems = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        return $"the {side} certificate '{leaf.Subject}' (issued by '{leaf.Issuer}') is not trusted" +
            (trust is null ? $" by the system's CAs (no {_settings.SettingPrefix}trustStore.location is set)" : $" by {_settings.SettingPrefix}trustStore.location={_settings.TrustStorePath}") +
            (problems.Length > 0 ? $": {problems}" : "");
    }
}
