using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Warden.Client;

/// <summary>
/// TLS to a server's secureClientPort, as Apache's Java client does with zookeeper.client.secure=true: the server's
/// certificate must chain to <see cref="TrustedCertificates"/> (or the system's CAs) and, unless
/// <see cref="HostnameVerification"/> is off, name the host connected to; <see cref="ClientCertificate"/> is shown
/// when the server asks for one (ssl.clientAuth=want or need), and its subject becomes the session's x509 id.
/// </summary>
public sealed class ZooKeeperTlsOptions
{
    /// <summary>The client's certificate with its private key; null connects without one.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>Intermediate certificates sent with <see cref="ClientCertificate"/>.</summary>
    public X509Certificate2Collection? ClientCertificateChain { get; set; }

    /// <summary>The CAs a server certificate must chain to; null trusts the system's CAs.</summary>
    public X509Certificate2Collection? TrustedCertificates { get; set; }

    /// <summary>zookeeper.ssl.hostnameVerification: the server certificate must name the host (true by default).</summary>
    public bool HostnameVerification { get; set; } = true;

    /// <summary>The protocol versions offered; None leaves the choice to the platform.</summary>
    public SslProtocols EnabledProtocols { get; set; } = SslProtocols.None;

    /// <summary>
    /// Options from the files Apache's client properties name (zookeeper.ssl.keyStore.location and friends): PEM or
    /// PKCS12; a JKS file is refused with the keytool command that converts it. Either path may be null.
    /// </summary>
    public static ZooKeeperTlsOptions FromStores(string? keyStorePath, string? keyStorePassword, string? keyStoreType,
        string? trustStorePath, string? trustStorePassword, string? trustStoreType)
    {
        var options = new ZooKeeperTlsOptions();
        if (!string.IsNullOrEmpty(keyStorePath))
        {
            var key = CertificateStores.LoadKeyStore(keyStorePath, keyStorePassword, keyStoreType, "zookeeper.ssl.keyStore.location");
            options.ClientCertificate = key[0];
            options.ClientCertificateChain = [.. key.Skip(1)];
        }
        if (!string.IsNullOrEmpty(trustStorePath))
        {
            options.TrustedCertificates = CertificateStores.LoadTrustStore(trustStorePath, trustStorePassword, trustStoreType, "zookeeper.ssl.trustStore.location");
        }
        return options;
    }

    internal SslClientAuthenticationOptions ForHost(string host) => new()
    {
        TargetHost = host,
        EnabledSslProtocols = EnabledProtocols,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        ClientCertificateContext = ClientCertificate is null ? null
            : SslStreamCertificateContext.Create(ClientCertificate, ClientCertificateChain, offline: true),
        RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsServerTrusted(certificate, errors),
    };

    private bool IsServerTrusted(X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null) return false;
        if (HostnameVerification && errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)) return false;
        if (TrustedCertificates is null) return (errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) == SslPolicyErrors.None;
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(TrustedCertificates);
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }
}
