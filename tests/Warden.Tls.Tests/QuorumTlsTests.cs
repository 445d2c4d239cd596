using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Warden.Client;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Tls.Tests;

/// <summary>
/// TLS between ensemble members (sslQuorum, ssl.quorum.*, portUnification) with the zoo.cfg keys of Apache ZooKeeper
/// 3.8, on all-Warden ensembles and on ensembles mixing Apache and Warden members, whose agreement shows that Warden's
/// election and quorum bytes over TLS are Apache's. Certificates come from openssl, as in the other TLS tests: one
/// CA, a member certificate naming 127.0.0.1 (used by every member, to dial and to accept), and a certificate from a
/// CA nobody trusts.
/// </summary>
public sealed class QuorumTlsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan FormTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The quorum TLS keys every member gets; the key store is PKCS12 unless a test gives a member PEM.</summary>
    private static Dictionary<string, string> QuorumTls(TestCertificates certificates, bool sslQuorum = true, bool portUnification = false)
    {
        TlsServers.UseApacheNettyJars();
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["sslQuorum"] = sslQuorum ? "true" : "false",
            ["portUnification"] = portUnification ? "true" : "false",
            ["ssl.quorum.keyStore.location"] = certificates.ServerP12,
            ["ssl.quorum.keyStore.password"] = TestCertificates.Password,
            ["ssl.quorum.trustStore.location"] = certificates.CaPem,
        };
    }

    [Fact]
    public async Task WardenEnsembleWithSslQuorumServesWritesAndSurvivesALeaderKill()
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden, extraConfig: QuorumTls(certificates));
        // One member takes its key store as PEM (key and chain in one file) and its trust store as PKCS12.
        SetKeys(ensemble[1], new()
        {
            ["ssl.quorum.keyStore.location"] = certificates.ServerPem,
            ["ssl.quorum.keyStore.password"] = "",
            ["ssl.quorum.trustStore.location"] = certificates.TrustP12,
            ["ssl.quorum.trustStore.password"] = TestCertificates.Password,
        });
        foreach (var member in ensemble.Members) member.Start();
        var leader = await WaitForQuorumAsync(ensemble);
        foreach (var member in ensemble.Members)
        {
            await member.WaitForOutputAsync("Election and quorum ports: TLS when dialling, TLS only when accepting", ClientTimeout);
        }

        await CreateAsync(ensemble, "/before-kill");
        leader.Kill();
        var successor = await WaitForQuorumAsync(ensemble);
        Assert.NotEqual(leader.Id, successor.Id);
        await CreateAsync(ensemble, "/after-kill");
        leader.Start();
        await WaitForQuorumAsync(ensemble);
        await AssertOnEveryMemberAsync(ensemble, "/before-kill", "/after-kill");

        // The ports take TLS only: plaintext bytes on an election port are refused with one line, and the socket closed.
        await AssertPlaintextRefusedAsync(ensemble[2], ensemble[2].ElectionPort, "election");
        output.WriteLine($"leader server.{leader.Id} killed, server.{successor.Id} led, server.{leader.Id} rejoined over TLS");
    }

    [Fact]
    public async Task MixedApacheAndWardenEnsembleWithSslQuorumElectsAndReplicates()
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var ensemble = EnsembleProcess.Create([ServerKind.Apache, ServerKind.Apache, ServerKind.Warden], extraConfig: QuorumTls(certificates));
        foreach (var member in ensemble.Members) member.Start();
        var leader = await WaitForQuorumAsync(ensemble);
        output.WriteLine($"first leader: {leader}");
        await CreateAsync(ensemble, "/round0");
        var paths = new List<string> { "/round0" };

        // Kill the leader until Warden has both led Apache followers and followed an Apache leader over TLS (the
        // election picks the highest zxid, then the highest sid, so a round or two does it); each round writes.
        bool wardenLed = leader.Kind == ServerKind.Warden, wardenFollowed = leader.Kind == ServerKind.Apache;
        for (int round = 1; round <= 4 && !(wardenLed && wardenFollowed); round++)
        {
            var killed = leader;
            killed.Kill();
            var successor = await WaitForQuorumAsync(ensemble);
            await CreateAsync(ensemble, $"/round{round}");
            paths.Add($"/round{round}");
            killed.Start();
            leader = await WaitForQuorumAsync(ensemble);
            output.WriteLine($"round {round}: {successor} led after the kill; {leader} leads with all three");
            wardenLed |= successor.Kind == ServerKind.Warden || leader.Kind == ServerKind.Warden;
            wardenFollowed |= (successor.Kind == ServerKind.Apache && killed.Kind == ServerKind.Apache) || leader.Kind == ServerKind.Apache;
        }
        Assert.True(wardenLed, "Warden never led the mixed ensemble");
        Assert.True(wardenFollowed, "Warden never followed an Apache leader");
        await AssertOnEveryMemberAsync(ensemble, [.. paths]);
        // Apache members with sslQuorum=true and no portUnification take TLS only, and say so when they accept it.
        Assert.Contains("Creating TLS-only quorum server socket", ensemble[1].CapturedOutput, StringComparison.Ordinal);
        string apache = ensemble[1].CapturedOutput + ensemble[2].CapturedOutput;
        Assert.DoesNotContain("Blocked insecure connection attempt", apache, StringComparison.Ordinal);
        // Apache trusted Warden's certificate chain and found the address in it (its hostname verification is on).
        Assert.DoesNotContain("PKIX path building failed", apache, StringComparison.Ordinal);
        Assert.DoesNotContain("No subject alternative", apache, StringComparison.Ordinal);
        // Warden refused no Apache certificate, and no Apache member refused Warden's.
        var refusals = ensemble[3].CapturedOutput.Split('\n')
            .Where(l => l.Contains("Refused a TLS connection", StringComparison.Ordinal) || l.Contains("refused its certificate", StringComparison.Ordinal)
                        || l.Contains("certificate_unknown", StringComparison.Ordinal) || l.Contains("unknown ca", StringComparison.OrdinalIgnoreCase))
            .ToList();
        Assert.True(refusals.Count == 0, string.Join("\n", refusals));
    }

    [Fact]
    public async Task MemberWithAnUntrustedCertificateIsRefusedWithOneLineAndTheRestCarryOn()
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden, extraConfig: QuorumTls(certificates));
        SetKeys(ensemble[3], new()
        {
            ["ssl.quorum.keyStore.location"] = certificates.Path("rogue.pem"),
            ["ssl.quorum.keyStore.password"] = "",
        });
        foreach (var member in ensemble.Members) member.Start();
        var healthy = new[] { ensemble[1], ensemble[2] };
        await WaitForQuorumAsync(ensemble, healthy);
        await CreateAsync(healthy, "/without-rogue");

        const string refusal = "certificate 'CN=rogue' (issued by 'CN=Untrusted CA') is not trusted by ssl.quorum.trustStore.location=";
        await ensemble[1].WaitForOutputAsync(refusal, ClientTimeout);
        await ensemble[2].WaitForOutputAsync(refusal, ClientTimeout);
        var modes = await ensemble.ModesAsync([ensemble[3]]);
        Assert.Equal(MemberMode.NotServing, modes[3]);
        foreach (var member in healthy)
        {
            var lines = member.CapturedOutput.Split('\n').Where(l => l.Contains("CN=rogue", StringComparison.Ordinal)).ToList();
            output.WriteLine($"server.{member.Id}:\n  {string.Join("\n  ", lines)}");
            // One warning, whichever side met the certificate first (accepting server.3's dial or dialling it); the
            // other side and every retry of server.3 add no line.
            Assert.Single(lines);
            Assert.All(lines, l => Assert.Contains("WARN", l, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task AMemberCertificateThatDoesNotNameItsAddressIsRefusedUnlessHostnameVerificationIsOff()
    {
        using var certificates = await TestCertificates.CreateAsync();
        string elsewhere = await certificates.MakeSignedPemAsync("elsewhere", "/CN=elsewhere.example", "subjectAltName=DNS:elsewhere.example");
        await using var ensemble = EnsembleProcess.Create(3, ServerKind.Warden, extraConfig: QuorumTls(certificates));
        SetKeys(ensemble[3], new()
        {
            ["ssl.quorum.keyStore.location"] = elsewhere,
            ["ssl.quorum.keyStore.password"] = "",
        });
        foreach (var member in ensemble.Members) member.Start();
        await WaitForQuorumAsync(ensemble, [ensemble[1], ensemble[2]]);
        await ensemble[1].WaitForOutputAsync("certificate 'CN=elsewhere.example' does not name 127.0.0.1", ClientTimeout);
        Assert.Equal(MemberMode.NotServing, (await ensemble.ModesAsync([ensemble[3]]))[3]);

        // The same certificate is trusted (same CA); with ssl.quorum.hostnameVerification=false everywhere it gets in.
        foreach (var member in ensemble.Members)
        {
            SetKeys(member, new() { ["ssl.quorum.hostnameVerification"] = "false" });
            member.Stop();
            member.Start();
        }
        await WaitForQuorumAsync(ensemble);
        await CreateAsync(ensemble, "/verified-off");
        await AssertOnEveryMemberAsync(ensemble, "/verified-off");
    }

    /// <summary>
    /// Apache's documented rolling switch of a running ensemble to TLS: every member has portUnification=true and the
    /// ssl.quorum keys, then each member in turn is restarted with sslQuorum=true (so plaintext and TLS members talk
    /// meanwhile), then each in turn with portUnification=false. An Apache member takes part, so Warden's unified
    /// ports take Apache's plaintext and Apache's take Warden's TLS.
    /// </summary>
    [Fact]
    public async Task PortUnificationCarriesAMixedEnsembleThroughTheRollingSwitchToTls()
    {
        using var certificates = await TestCertificates.CreateAsync();
        await using var ensemble = EnsembleProcess.Create([ServerKind.Apache, ServerKind.Warden, ServerKind.Warden],
            extraConfig: QuorumTls(certificates, sslQuorum: false, portUnification: true));
        foreach (var member in ensemble.Members) member.Start();
        await WaitForQuorumAsync(ensemble);
        var written = new List<string>();
        await WriteStepAsync("all-plaintext");

        foreach (var member in ensemble.Members)
        {
            SetKeys(member, new() { ["sslQuorum"] = "true" });
            member.Stop();
            member.Start();
            await WaitForQuorumAsync(ensemble);
            await WriteStepAsync($"server{member.Id}-tls");
        }
        foreach (var member in ensemble.Members)
        {
            SetKeys(member, new() { ["portUnification"] = "false" });
            member.Stop();
            member.Start();
            await WaitForQuorumAsync(ensemble);
            await WriteStepAsync($"server{member.Id}-tls-only");
        }
        await AssertOnEveryMemberAsync(ensemble, [.. written]);
        await AssertPlaintextRefusedAsync(ensemble[3], ensemble[3].ElectionPort, "election");

        async Task WriteStepAsync(string name)
        {
            await CreateAsync(ensemble, "/" + name);
            written.Add("/" + name);
            output.WriteLine($"step {name}: written");
        }
    }

    /// <summary>Rewrites keys in a member's zoo.cfg (the harness writes one key=value per line); an empty value removes the key.</summary>
    private static void SetKeys(EnsembleMember member, Dictionary<string, string> keys)
    {
        var lines = File.ReadAllLines(member.ConfigPath).ToList();
        foreach (var (key, value) in keys)
        {
            lines.RemoveAll(l => l.StartsWith(key + "=", StringComparison.Ordinal));
            if (value.Length > 0) lines.Add($"{key}={value}");
        }
        File.WriteAllLines(member.ConfigPath, lines);
    }

    /// <summary>One leader and followers among <paramref name="among"/> (all running members by default), bounded.</summary>
    private async Task<EnsembleMember> WaitForQuorumAsync(EnsembleProcess ensemble, IReadOnlyList<EnsembleMember>? among = null)
    {
        try
        {
            return await ensemble.WaitForQuorumAsync(FormTimeout, among: among);
        }
        catch (TimeoutException)
        {
            output.WriteLine(ensemble.DescribeOutputs());
            throw;
        }
    }

    private static Task CreateAsync(EnsembleProcess ensemble, string path) => CreateAsync(ensemble.Members, path);

    private static async Task CreateAsync(IEnumerable<EnsembleMember> members, string path)
    {
        using var bound = new CancellationTokenSource(ClientTimeout);
        await using var client = await ZooKeeperClient.ConnectAsync(string.Join(',', members.Select(m => m.ConnectString)), TimeSpan.FromSeconds(10), bound.Token);
        await client.CreateAsync(path, Encoding.UTF8.GetBytes(path), cancellationToken: bound.Token);
    }

    /// <summary>Each member, asked on its own client port after a sync, has every path.</summary>
    private static async Task AssertOnEveryMemberAsync(EnsembleProcess ensemble, params string[] paths)
    {
        foreach (var member in ensemble.Members)
        {
            using var bound = new CancellationTokenSource(ClientTimeout);
            await using var client = await ZooKeeperClient.ConnectAsync(member.ConnectString, TimeSpan.FromSeconds(10), bound.Token);
            await client.SyncAsync("/", bound.Token);
            foreach (var path in paths)
            {
                var data = await client.GetDataAsync(path, bound.Token);
                Assert.Equal(path, Encoding.UTF8.GetString(data.Data ?? []));
            }
        }
    }

    /// <summary>Plaintext bytes on a TLS-only quorum port: the member logs why and closes the connection.</summary>
    private static async Task AssertPlaintextRefusedAsync(EnsembleMember member, int port, string portName)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var bound = new CancellationTokenSource(ClientTimeout);
        await socket.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), bound.Token);
        // An election header as a plaintext member sends it: protocol version -65536, then sid 99.
        var header = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(header, -65536);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(8), 99);
        await socket.SendAsync(header, SocketFlags.None, bound.Token);
        var buffer = new byte[64];
        int read = await socket.ReceiveAsync(buffer, SocketFlags.None, bound.Token);
        Assert.Equal(0, read);
        await member.WaitForOutputAsync($"Refused a plaintext connection on the {portName} port from", ClientTimeout);
    }
}
