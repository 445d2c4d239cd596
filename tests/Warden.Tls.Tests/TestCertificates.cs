using Warden.Testing;

namespace Warden.Tls.Tests;

/// <summary>
/// Certificates made with openssl for one test: a CA, a server certificate for 127.0.0.1 and localhost signed by
/// it, two client certificates signed by it, and a second CA nobody trusts with a client certificate of its own.
/// Each key and certificate is written as PEM (key and chain in one file, as ZooKeeper's PEM key store takes them)
/// and as PKCS12 with the password <see cref="Password"/>. Disposing deletes the directory.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    public const string Password = "changeit";

    /// <summary>The subject of <see cref="ClientPem"/> as Apache's x509 provider writes it (Apache's log shows this form).</summary>
    public const string ClientSubject = @"CN=client one,OU=Eng,O=Acme\, Inc.,C=US";

    public const string OtherClientSubject = "CN=client two,O=Acme";

    private TestCertificates(string directory) => Directory = directory;

    public string Directory { get; }

    public string CaPem => Path("ca.pem");
    public string ServerPem => Path("server.pem");
    public string ServerP12 => Path("server.p12");
    public string ClientPem => Path("client.pem");
    public string ClientKey => Path("client.key");
    public string ClientCrt => Path("client.crt");
    public string ClientP12 => Path("client.p12");
    public string OtherClientPem => Path("other.pem");
    public string OtherClientKey => Path("other.key");
    public string OtherClientCrt => Path("other.crt");
    public string RogueKey => Path("rogue.key");
    public string RogueCrt => Path("rogue.crt");
    public string RogueP12 => Path("rogue.p12");

    /// <summary>A PKCS12 trust store holding the CA, as keytool writes one.</summary>
    public string TrustP12 => Path("trust.p12");

    public string Path(string name) => System.IO.Path.Combine(Directory, name);

    public static async Task<TestCertificates> CreateAsync()
    {
        var directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"warden-tls-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        var certificates = new TestCertificates(directory);
        try
        {
            await certificates.MakeCaAsync("ca", "/CN=Warden Test CA");
            await certificates.MakeCaAsync("rogue-ca", "/CN=Untrusted CA");
            await certificates.MakeSignedAsync("server", "/CN=localhost", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost");
            await certificates.MakeSignedAsync("client", "/C=US/O=Acme, Inc./OU=Eng/CN=client one", "ca", null);
            await certificates.MakeSignedAsync("other", "/O=Acme/CN=client two", "ca", null);
            await certificates.MakeSignedAsync("rogue", "/CN=rogue", "rogue-ca", null);
            await certificates.KeytoolAsync("-importcert", "-noprompt", "-alias", "ca", "-file", certificates.CaPem,
                "-keystore", certificates.TrustP12, "-storetype", "PKCS12", "-storepass", Password);
            return certificates;
        }
        catch
        {
            certificates.Dispose();
            throw;
        }
    }

    /// <summary>A server certificate signed by the test CA with another subject, in PEM, for the reload test.</summary>
    public async Task<string> MakeServerPemAsync(string name, string subject)
    {
        await MakeSignedAsync(name, subject, "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost");
        return Path(name + ".pem");
    }

    /// <summary>A certificate signed by the test CA with the given subject and extension line, as a PEM key store.</summary>
    public async Task<string> MakeSignedPemAsync(string name, string subject, string extension)
    {
        await MakeSignedAsync(name, subject, "ca", extension);
        return Path(name + ".pem");
    }

    /// <summary>A JKS key store, which Warden refuses with the conversion command.</summary>
    public async Task<string> MakeJksAsync()
    {
        string jks = Path("server.jks");
        await KeytoolAsync("-importkeystore", "-srckeystore", ServerP12, "-srcstoretype", "PKCS12", "-srcstorepass", Password,
            "-destkeystore", jks, "-deststoretype", "JKS", "-deststorepass", Password, "-noprompt");
        return jks;
    }

    private async Task MakeCaAsync(string name, string subject)
    {
        await OpensslAsync("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", Path(name + ".key"), "-out", Path(name + ".pem"),
            "-days", "2", "-subj", subject);
    }

    private async Task MakeSignedAsync(string name, string subject, string ca, string? extension)
    {
        await OpensslAsync("req", "-newkey", "rsa:2048", "-nodes", "-keyout", Path(name + ".key"), "-out", Path(name + ".csr"), "-subj", subject);
        var sign = new List<string>
        {
            "x509", "-req", "-in", Path(name + ".csr"), "-CA", Path(ca + ".pem"), "-CAkey", Path(ca + ".key"),
            "-set_serial", Random.Shared.NextInt64(1, long.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-out", Path(name + ".crt"), "-days", "2",
        };
        if (extension is not null)
        {
            File.WriteAllText(Path(name + ".ext"), extension + "\n");
            sign.AddRange(["-extfile", Path(name + ".ext")]);
        }
        await OpensslAsync([.. sign]);
        File.WriteAllText(Path(name + ".pem"), File.ReadAllText(Path(name + ".key")) + File.ReadAllText(Path(name + ".crt")));
        await OpensslAsync("pkcs12", "-export", "-in", Path(name + ".crt"), "-inkey", Path(name + ".key"), "-out", Path(name + ".p12"),
            "-passout", "pass:" + Password);
    }

    private static Task OpensslAsync(params string[] arguments) => RunAsync("/usr/bin/openssl", arguments);

    private Task KeytoolAsync(params string[] arguments) => RunAsync("/usr/bin/keytool", arguments);

    private static async Task RunAsync(string tool, string[] arguments)
    {
        var result = await ProcessRunner.RunAsync(InstalledTools.Require(tool, tool.EndsWith("keytool", StringComparison.Ordinal) ? "openjdk-17-jre-headless" : "openssl"),
            arguments, TimeSpan.FromSeconds(60));
        if (result.ExitCode != 0) throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed: {result.Describe()}");
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
