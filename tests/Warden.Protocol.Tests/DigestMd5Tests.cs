using System.Text;
using Warden.Protocol.Sasl;

namespace Warden.Protocol.Tests;

/// <summary>
/// DIGEST-MD5 against RFC 2831's worked examples, against an exchange captured between kazoo (pure-sasl) and
/// Apache ZooKeeper 3.8.0, and our client against our server.
/// </summary>
public class DigestMd5Tests
{
    [Fact]
    public void RfcImapExampleGivesTheRfcResponseAndRspauth()
    {
        // RFC 2831 section 4, the IMAP example: user chris, password secret.
        string Digest(string prefix) => DigestMd5.ResponseDigest("chris", "elwood.innosoft.com", "secret", null,
            "OA6MG9tEQGm2hh", "OA6MHXh6VqTrRk", "00000001", "auth", "imap/elwood.innosoft.com", utf8: true, prefix);
        Assert.Equal("d388dad90d4bbd760a152321f2143af7", Digest("AUTHENTICATE"));
        Assert.Equal("ea40f60335c427b5527b84dbabcdfffd", Digest(""));
    }

    [Fact]
    public void RfcAcapExampleGivesTheRfcResponseAndRspauth()
    {
        string Digest(string prefix) => DigestMd5.ResponseDigest("chris", "elwood.innosoft.com", "secret", null,
            "OA9BSXrbuRhWay", "OA9BSuZWMSpW8m", "00000001", "auth", "acap/elwood.innosoft.com", utf8: true, prefix);
        Assert.Equal("6084c6db3fede7352c551284490fd0fc", Digest("AUTHENTICATE"));
        Assert.Equal("2f0b3d7c3c2e486600ef710726aa2eae", Digest(""));
    }

    [Fact]
    public void ServerAcceptsTheResponseKazooSentToApacheAndAnswersApachesRspauth()
    {
        // Captured from Apache ZooKeeper 3.8.0 (JAAS user_jaasuser="jaas_password") and kazoo 2.9 with pure-sasl.
        const string nonce = "f306OGSfYnEWuRXHPemWUFpAnvwzYciv40fdPUNg";
        var server = new DigestMd5Server(user => user == "jaasuser" ? "jaas_password" : null, nonce);
        var challenge = Encoding.UTF8.GetString(server.Evaluate([]));
        Assert.Equal($"realm=\"zk-sasl-md5\",nonce=\"{nonce}\",charset=utf-8,algorithm=md5-sess", challenge);

        var response = $"qop=auth,realm=\"zk-sasl-md5\",username=\"jaasuser\",nonce=\"{nonce}\",cnonce=\"8669631194144204\"," +
            "nc=00000001,digest-uri=\"zookeeper/zk-sasl-md5\",response=d61a5648cf1606e95a7915510058f565";
        var rspauth = Encoding.UTF8.GetString(server.Evaluate(Encoding.UTF8.GetBytes(response)));
        Assert.Equal("rspauth=afd84fbf76bf126f611451bc7b36c20b", rspauth);
        Assert.True(server.IsComplete);
        Assert.Equal("jaasuser", server.AuthenticationId);
    }

    [Fact]
    public void ClientAndServerAgreeAndTheServerLearnsTheUser()
    {
        var server = new DigestMd5Server(user => user == "bob" ? "pässword" : null);
        var client = new DigestMd5Client("bob", "pässword", authzid: "bob");
        var challenge = server.Evaluate(client.Start());
        var response = client.Evaluate(challenge)!;
        Assert.Contains("authzid=\"bob\"", Encoding.UTF8.GetString(response), StringComparison.Ordinal);
        var rspauth = server.Evaluate(response);
        Assert.True(server.IsComplete);
        Assert.Null(client.Evaluate(rspauth));
        Assert.True(client.IsComplete);
        Assert.Equal("bob", server.AuthenticationId);
    }

    [Theory]
    [InlineData("bob", "wrong")]
    [InlineData("nobody", "secret")]
    public void WrongPasswordOrUnknownUserIsRefused(string user, string password)
    {
        var server = new DigestMd5Server(u => u == "bob" ? "secret" : null);
        var client = new DigestMd5Client(user, password);
        var challenge = server.Evaluate(client.Start());
        var response = client.Evaluate(challenge)!;
        Assert.Throws<SaslException>(() => server.Evaluate(response));
        Assert.False(server.IsComplete);
        Assert.Null(server.AuthenticationId);
        // A failed exchange stays failed.
        Assert.Throws<SaslException>(() => server.Evaluate(response));
    }

    [Fact]
    public void ClientRefusesAServerThatDoesNotKnowThePassword()
    {
        var impostor = new DigestMd5Server(_ => "other");
        var client = new DigestMd5Client("bob", "secret");
        client.Evaluate(impostor.Evaluate(client.Start()));
        Assert.Throws<SaslException>(() => client.Evaluate(Encoding.UTF8.GetBytes("rspauth=00000000000000000000000000000000")));
    }

    [Fact]
    public void ServerRefusesAReplayedOrForeignNonceAndAnotherDigestUri()
    {
        var server = new DigestMd5Server(_ => "secret", "n1");
        server.Evaluate([]);
        var wrongUri = "username=\"bob\",realm=\"zk-sasl-md5\",nonce=\"n1\",cnonce=\"c\",nc=00000001,qop=auth," +
            "digest-uri=\"imap/zk-sasl-md5\",response=" +
            DigestMd5.ResponseDigest("bob", "zk-sasl-md5", "secret", null, "n1", "c", "00000001", "auth", "imap/zk-sasl-md5", false, "AUTHENTICATE");
        Assert.Throws<SaslException>(() => server.Evaluate(Encoding.UTF8.GetBytes(wrongUri)));

        var other = new DigestMd5Server(_ => "secret", "n2");
        other.Evaluate([]);
        var client = new DigestMd5Client("bob", "secret");
        client.Start();
        var forNonceN1 = client.Evaluate(Encoding.UTF8.GetBytes("realm=\"zk-sasl-md5\",nonce=\"n1\",charset=utf-8,algorithm=md5-sess"))!;
        Assert.Throws<SaslException>(() => other.Evaluate(forNonceN1));
    }

    [Fact]
    public void DirectivesAcceptQuotesEscapesAndSpaces()
    {
        var d = DigestMd5.ParseDirectives(Encoding.UTF8.GetBytes(" Realm = \"a\\\"b,c\" , nc=00000001 ,qop=auth"), out var repeated);
        Assert.Empty(repeated);
        Assert.Equal("a\"b,c", d["realm"]);
        Assert.Equal("00000001", d["nc"]);
        Assert.Equal("auth", d["qop"]);
        Assert.Throws<SaslException>(() => DigestMd5.ParseDirectives(Encoding.UTF8.GetBytes("realm=\"open"), out _));
    }
}
