using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Warden.Client;

/// <summary>
/// Reads the key and trust stores ZooKeeper's ssl.keyStore.* and ssl.trustStore.* settings name: PEM files (a
/// private key and its certificate chain, or trusted certificates) and PKCS12 files. Java's own JKS format is
/// refused with the keytool command that converts it. The server and the client read stores the same way.
/// </summary>
public static class CertificateStores
{
    /// <summary>The store formats Apache ZooKeeper's ssl.*.type settings name.</summary>
    public enum StoreType
    {
        Pem,
        Pkcs12,
        Jks,
        Bcfks,
    }

    /// <summary>
    /// Loads a key store: the first certificate returned carries the private key, the others are its chain. A PEM
    /// key store holds one private key (PKCS#8, encrypted PKCS#8 with the password, PKCS#1 RSA or SEC1 EC) and one
    /// or more certificates, leaf first.
    /// </summary>
    /// <param name="setting">The setting that named the file (e.g. ssl.keyStore.location), for messages.</param>
    public static X509Certificate2Collection LoadKeyStore(string path, string? password, string? type, string setting = "ssl.keyStore.location")
    {
        var (bytes, storeType) = Open(path, type, setting);
        var result = new X509Certificate2Collection();
        if (storeType == StoreType.Pem)
        {
            string text = System.Text.Encoding.ASCII.GetString(bytes);
            var certificates = PemCertificates(text);
            if (certificates.Count == 0) throw new CertificateStoreException($"{setting}={path} holds no certificate (no -----BEGIN CERTIFICATE----- block); put the private key and its certificate in the one PEM file");
            X509Certificate2 leaf;
            try
            {
                leaf = text.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal)
                    ? X509Certificate2.CreateFromEncryptedPem(text, text, password ?? "")
                    : X509Certificate2.CreateFromPem(text, text);
            }
            catch (CryptographicException e)
            {
                throw new CertificateStoreException(text.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal)
                    ? $"{setting}={path}: cannot decrypt its private key ({e.Message}); check ssl.keyStore.password"
                    : $"{setting}={path}: no private key that matches its first certificate ({e.Message}); put the key (-----BEGIN PRIVATE KEY-----) and its certificate in the one PEM file");
            }
            result.Add(leaf);
            foreach (var extra in certificates.Skip(1)) result.Add(extra);
            return result;
        }
        var all = LoadPkcs12(bytes, password, path, setting);
        var withKey = all.FirstOrDefault(c => c.HasPrivateKey)
            ?? throw new CertificateStoreException($"{setting}={path} holds no private key; a key store needs the server's (or client's) key and certificate, e.g. openssl pkcs12 -export -in cert.pem -inkey key.pem -out {Path.GetFileNameWithoutExtension(path)}.p12");
        result.Add(withKey);
        foreach (var other in all.Where(c => !ReferenceEquals(c, withKey))) result.Add(other);
        return result;
    }

    /// <summary>Loads a trust store: every certificate in it is a trusted root.</summary>
    public static X509Certificate2Collection LoadTrustStore(string path, string? password, string? type, string setting = "ssl.trustStore.location")
    {
        var (bytes, storeType) = Open(path, type, setting);
        var result = new X509Certificate2Collection();
        if (storeType == StoreType.Pem)
        {
            foreach (var certificate in PemCertificates(System.Text.Encoding.ASCII.GetString(bytes))) result.Add(certificate);
        }
        else
        {
            result.AddRange(LoadPkcs12(bytes, password, path, setting));
        }
        if (result.Count == 0) throw new CertificateStoreException($"{setting}={path} holds no certificate; a trust store lists the CA certificates to trust");
        return result;
    }

    /// <summary>
    /// The type a store is read as: the ssl.*.type setting when given (as Apache does), otherwise the file's
    /// content (PEM text, JKS magic number, else PKCS12), which also works for names without .pem/.p12/.jks.
    /// </summary>
    public static StoreType TypeOf(string? type, ReadOnlySpan<byte> content, string path, string setting)
    {
        if (!string.IsNullOrWhiteSpace(type))
        {
            return type.Trim().ToUpperInvariant() switch
            {
                "PEM" => StoreType.Pem,
                "PKCS12" => StoreType.Pkcs12,
                "JKS" => StoreType.Jks,
                "BCFKS" => StoreType.Bcfks,
                _ => throw new CertificateStoreException($"{TypeSetting(setting)}={type} is not a store type; write PEM or PKCS12 (JKS and BCFKS are Java formats: convert them to PKCS12 with keytool)"),
            };
        }
        if (content.Length >= 4 && content[0] == 0xFE && content[1] == 0xED && content[2] == 0xFE && content[3] == 0xED) return StoreType.Jks;
        if (content.IndexOf("-----BEGIN "u8) >= 0) return StoreType.Pem;
        return StoreType.Pkcs12;
    }

    private static string TypeSetting(string setting) =>
        setting.EndsWith(".location", StringComparison.Ordinal) ? setting[..^".location".Length] + ".type" : setting + ".type";

    private static (byte[] Bytes, StoreType Type) Open(string path, string? type, string setting)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string why = e is FileNotFoundException or DirectoryNotFoundException ? "does not exist" : $"cannot be read ({e.Message})";
            throw new CertificateStoreException($"{setting}={path} {why}; give the path of a PEM or PKCS12 file");
        }
        var storeType = TypeOf(type, bytes, path, setting);
        if (storeType is StoreType.Jks or StoreType.Bcfks)
        {
            string format = storeType == StoreType.Jks ? "JKS" : "BCFKS";
            string target = Path.ChangeExtension(path, ".p12");
            throw new CertificateStoreException($"{setting}={path} is a {format} store, which only Java reads; convert it with " +
                $"`keytool -importkeystore -srckeystore {path} -srcstoretype {format} -destkeystore {target} -deststoretype PKCS12` " +
                $"and set {setting}={target} and {TypeSetting(setting)}=PKCS12 (Apache ZooKeeper reads the PKCS12 file too)");
        }
        return (bytes, storeType);
    }

    private static X509Certificate2Collection LoadPkcs12(byte[] bytes, string? password, string path, string setting)
    {
        try
        {
            return X509CertificateLoader.LoadPkcs12Collection(bytes, password ?? "", X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException e)
        {
            string passwordSetting = setting.EndsWith(".location", StringComparison.Ordinal) ? setting[..^".location".Length] + ".password" : "the password";
            throw new CertificateStoreException($"{setting}={path} cannot be read as PKCS12 ({e.Message.TrimEnd('.')}); check {passwordSetting}, or set the type if it is a PEM file");
        }
    }

    private static List<X509Certificate2> PemCertificates(string text)
    {
        var certificates = new List<X509Certificate2>();
        ReadOnlySpan<char> rest = text;
        while (PemEncoding.TryFind(rest, out var fields))
        {
            if (rest[fields.Label].SequenceEqual("CERTIFICATE"))
            {
                byte[] der = Convert.FromBase64String(rest[fields.Base64Data].ToString());
                certificates.Add(X509CertificateLoader.LoadCertificate(der));
            }
            rest = rest[fields.Location.End..];
        }
        return certificates;
    }
}

/// <summary>A key or trust store that cannot be used; the message names the setting, the file and the fix.</summary>
public sealed class CertificateStoreException(string message) : Exception(message);
