using System.Net;
using Warden.Testing;

namespace Warden.Tls.Tests;

/// <summary>
/// ssl.crl=true against Apache ZooKeeper 3.8 with the same zoo.cfg: client certificates name a CRL distribution
/// point served by a small HTTP listener in the test; the CA has revoked one of them, which the server refuses,
/// while the other gets in. Certificates and the CRL are made with openssl (its `ca` command keeps the CA's list).
/// </summary>
public sealed class RevocationTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"warden-crl-{Guid.NewGuid():N}");
    private HttpListener? _listener;
    private Task? _serving;
    private int _crlRequests;

    private string PathOf(string name) => Path.Combine(_directory, name);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        int port = int.Parse(DeadPortOrFree(), System.Globalization.CultureInfo.InvariantCulture);
        _listener = new HttpListener();
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _serving = ServeAsync(_listener);

        File.WriteAllText(PathOf("index.txt"), "");
        File.WriteAllText(PathOf("crlnumber"), "01\n");
        string dir = _directory.Replace('\\', '/');
        File.WriteAllText(PathOf("ca.cnf"), $"""
            [ca]
            default_ca = test
            [test]
            database = {dir}/index.txt
            new_certs_dir = {dir}
            crlnumber = {dir}/crlnumber
            certificate = {dir}/ca.pem
            private_key = {dir}/ca.key
            default_md = sha256
            default_crl_days = 1
            """);
        await OpensslAsync("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", PathOf("ca.key"), "-out", PathOf("ca.pem"), "-days", "2", "-subj", "/CN=Revocation Test CA");
        await SignAsync("server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost", 1);
        string distribution = $"crlDistributionPoints=URI:http://127.0.0.1:{port}/ca.crl";
        await SignAsync("good", "/CN=good client", distribution, 2);
        await SignAsync("revoked", "/CN=revoked client", distribution, 3);
        await OpensslAsync("ca", "-config", PathOf("ca.cnf"), "-revoke", PathOf("revoked.crt"));
        await OpensslAsync("ca", "-config", PathOf("ca.cnf"), "-gencrl", "-out", PathOf("ca.crl.pem"));
        await OpensslAsync("crl", "-in", PathOf("ca.crl.pem"), "-outform", "DER", "-out", PathOf("ca.crl"));
    }

    public async Task DisposeAsync()
    {
        _listener?.Stop();
        _listener?.Close();
        if (_serving is not null) await _serving;
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Theory]
    [InlineData(ServerKind.Apache)]
    [InlineData(ServerKind.Warden)]
    public async Task ARevokedClientCertificateIsRefusedAndAGoodOneServed(ServerKind kind)
    {
        TlsServers.UseApacheNettyJars();
        await using var server = await ServerProcess.StartAsync(kind, new Dictionary<string, string>
        {
            [TlsServers.SecurePortKey] = ServerProcess.AnyFreePort,
            ["secureClientPortAddress"] = "127.0.0.1",
            ["serverCnxnFactory"] = "org.apache.zookeeper.server.NettyServerCnxnFactory",
            ["ssl.keyStore.location"] = PathOf("server.p12"),
            ["ssl.keyStore.password"] = TestCertificates.Password,
            ["ssl.trustStore.location"] = PathOf("ca.pem"),
            ["ssl.crl"] = "true",
        }, startTimeout: TimeSpan.FromSeconds(60));

        // The secure port opens after the plaintext one (Apache's does): try the good certificate, bounded, until served.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        (bool Served, string Transcript) good;
        while (!(good = await HandshakeAsync(server, "good")).Served && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        Assert.True(good.Served, good.Transcript);
        int requestsAfterGood = Volatile.Read(ref _crlRequests);
        Assert.True(requestsAfterGood > 0, "the server served a certificate with a CRL distribution point without fetching the CRL");

        var revoked = await HandshakeAsync(server, "revoked");
        Assert.False(revoked.Served, revoked.Transcript);
        if (kind == ServerKind.Warden)
        {
            await server.WaitForOutputAsync("'CN=revoked client'", TimeSpan.FromSeconds(30));
            var refusal = server.CapturedOutput.Split('\n').First(l => l.Contains("'CN=revoked client'", StringComparison.Ordinal));
            Assert.Contains("certificate revoked", refusal, StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>openssl s_client with a client certificate, asking ruok; served means the server answered imok.</summary>
    private async Task<(bool Served, string Transcript)> HandshakeAsync(ServerProcess server, string client)
    {
        var result = await ProcessRunner.RunAsync(InstalledTools.Require("/usr/bin/openssl", "openssl"),
            ["s_client", "-connect", $"127.0.0.1:{server.SecurePort()}", "-CAfile", PathOf("ca.pem"), "-tls1_2", "-ign_eof",
             "-cert", PathOf(client + ".crt"), "-key", PathOf(client + ".key")],
            TimeSpan.FromSeconds(30), standardInput: "ruok");
        return (result.StandardOutput.Contains("imok", StringComparison.Ordinal), result.Describe());
    }

    private async Task ServeAsync(HttpListener listener)
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            Interlocked.Increment(ref _crlRequests);
            var path = PathOf("ca.crl");
            if (context.Request.Url?.AbsolutePath == "/ca.crl" && File.Exists(path))
            {
                var bytes = await File.ReadAllBytesAsync(path);
                context.Response.ContentType = "application/pkix-crl";
                await context.Response.OutputStream.WriteAsync(bytes);
            }
            else
            {
                context.Response.StatusCode = 404;
            }
            context.Response.Close();
        }
    }

    private async Task SignAsync(string name, string subject, string extension, int serial)
    {
        await OpensslAsync("req", "-newkey", "rsa:2048", "-nodes", "-keyout", PathOf(name + ".key"), "-out", PathOf(name + ".csr"), "-subj", subject);
        File.WriteAllText(PathOf(name + ".ext"), extension + "\n");
        await OpensslAsync("x509", "-req", "-in", PathOf(name + ".csr"), "-CA", PathOf("ca.pem"), "-CAkey", PathOf("ca.key"),
            "-set_serial", serial.ToString(System.Globalization.CultureInfo.InvariantCulture), "-out", PathOf(name + ".crt"), "-days", "2",
            "-extfile", PathOf(name + ".ext"));
        await OpensslAsync("pkcs12", "-export", "-in", PathOf(name + ".crt"), "-inkey", PathOf(name + ".key"), "-out", PathOf(name + ".p12"),
            "-passout", "pass:" + TestCertificates.Password);
    }

    private static async Task OpensslAsync(params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync(InstalledTools.Require("/usr/bin/openssl", "openssl"), arguments, TimeSpan.FromSeconds(60));
        if (result.ExitCode != 0) throw new InvalidOperationException($"openssl {string.Join(' ', arguments)} failed: {result.Describe()}");
    }

    private static string DeadPortOrFree()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
