using Warden.Protocol;
using Warden.Protocol.Sasl;
using Warden.Server.Processing;
using Warden.Server.Security;
using Warden.Server.Tests.Core;

namespace Warden.Server.Tests.Security;

/// <summary>
/// SASL on the server loop: a DIGEST-MD5 login gives the connection the id sasl:&lt;user&gt;, which sasl ACLs match
/// once SASLAuthenticationProvider is registered; a wrong password is answered and the connection closed as
/// Apache ZooKeeper 3.8 does; and the enforcement switches refuse unauthenticated requests.
/// </summary>
public class SaslTests
{
    private static readonly Dictionary<string, string> Users = new() { ["jaasuser"] = "jaas_password", ["super"] = "super_secret" };

    private static ServerSettings Settings(bool registered = true, bool allowFailed = false, bool requireSasl = false) => new()
    {
        Authentication = new AuthenticationConfig
        {
            SaslUsers = Users,
            SaslSchemeRegistered = registered,
            SaslSuperUsers = new HashSet<string> { "super" },
            AllowSaslFailedClients = allowFailed,
            EnforcedSchemes = requireSasl ? ["sasl"] : [],
        },
    };

    /// <summary>Runs the client side of the exchange; returns the last reply (the failure, or rspauth's).</summary>
    private static async Task<SentFrame> LogInAsync(CoreHarness harness, FakeConnection connection, string user, string password)
    {
        var client = new DigestMd5Client(user, password);
        byte[]? token = client.Start();
        while (true)
        {
            var reply = await harness.CallAsync(connection, OpCode.Sasl, new SaslRequest(token));
            var serverToken = reply.Body(SaslResponse.Read).Token;
            // An error, or an empty answer (a failure let through by allowSaslFailedClients), ends the exchange.
            if (reply.Header.Err != 0 || serverToken is null) return reply;
            token = client.Evaluate(serverToken);
            if (client.IsComplete) return reply;
        }
    }

    private static async Task<List<ClientInfo>> WhoAmIAsync(CoreHarness harness, FakeConnection connection) =>
        (await harness.CallAsync(connection, OpCode.WhoAmI, null)).Body(WhoAmIResponse.Read).ClientInfo;

    [Fact]
    public async Task ALoginGivesTheSaslIdWhichSaslAclsMatch()
    {
        await using var harness = new CoreHarness(Settings());
        var owner = await harness.ConnectAsync();
        var other = await harness.ConnectAsync();
        var login = await LogInAsync(harness, owner, "jaasuser", "jaas_password");
        Assert.Equal(0, login.Header.Err);
        Assert.Equal(0, login.Header.Zxid);
        Assert.Contains(new ClientInfo("sasl", "jaasuser"), await WhoAmIAsync(harness, owner));

        var acl = new List<Acl> { new(Perms.All, new Id("sasl", "jaasuser")) };
        var created = await harness.CallAsync(owner, OpCode.Create, new CreateRequest("/s", [1], acl, 0));
        Assert.Equal(0, created.Header.Err);
        Assert.Equal(0, (await harness.CallAsync(owner, OpCode.GetData, new PathWatchRequest("/s", false))).Header.Err);
        Assert.Equal((int)ErrorCode.NoAuth, (await harness.CallAsync(other, OpCode.GetData, new PathWatchRequest("/s", false))).Header.Err);
        Assert.Null(owner.ClosedBecause);
    }

    [Fact]
    public async Task ASuperUserLoginBypassesAcls()
    {
        await using var harness = new CoreHarness(Settings());
        var owner = await harness.ConnectAsync();
        await LogInAsync(harness, owner, "jaasuser", "jaas_password");
        var acl = new List<Acl> { new(Perms.All, new Id("sasl", "jaasuser")) };
        await harness.CallAsync(owner, OpCode.Create, new CreateRequest("/s", [1], acl, 0));

        var admin = await harness.ConnectAsync();
        await LogInAsync(harness, admin, "super", "super_secret");
        Assert.Contains(new ClientInfo("super", ""), await WhoAmIAsync(harness, admin));
        Assert.Equal(0, (await harness.CallAsync(admin, OpCode.GetData, new PathWatchRequest("/s", false))).Header.Err);
    }

    [Theory]
    [InlineData("jaasuser", "wrong")]
    [InlineData("nobody", "jaas_password")]
    public async Task AWrongPasswordIsAnsweredAuthFailedAndTheConnectionClosed(string user, string password)
    {
        await using var harness = new CoreHarness(Settings());
        var connection = await harness.ConnectAsync();
        var reply = await LogInAsync(harness, connection, user, password);
        Assert.Equal((int)ErrorCode.AuthFailed, reply.Header.Err);
        Assert.NotNull(connection.ClosedBecause);
        Assert.DoesNotContain(connection.State.AuthInfo, id => id.Scheme == "sasl");
        // Only the connection goes: the session stays until it expires, as on Apache.
        var session = connection.State.Session!.Id;
        Assert.True(await harness.Core.QueryAsync(() => harness.Core.Sessions.Get(session) is not null));
    }

    [Fact]
    public async Task AllowSaslFailedClientsKeepsTheConnectionUnauthenticated()
    {
        await using var harness = new CoreHarness(Settings(allowFailed: true));
        var connection = await harness.ConnectAsync();
        var reply = await LogInAsync(harness, connection, "jaasuser", "wrong");
        Assert.Equal(0, reply.Header.Err);
        Assert.Null(connection.ClosedBecause);
        Assert.DoesNotContain(await WhoAmIAsync(harness, connection), info => info.AuthScheme == "sasl");
    }

    [Fact]
    public async Task RequiredSaslRefusesRequestsBeforeTheLoginAndAWrongPasswordWithItsOwnCode()
    {
        await using var harness = new CoreHarness(Settings(requireSasl: true, allowFailed: true));
        var early = await harness.ConnectAsync();
        var refused = await harness.CallAsync(early, OpCode.GetData, new PathWatchRequest("/", false));
        Assert.Equal((int)ErrorCode.SessionClosedRequireSaslAuth, refused.Header.Err);
        Assert.NotNull(early.ClosedBecause);

        var good = await harness.ConnectAsync();
        await LogInAsync(harness, good, "jaasuser", "jaas_password");
        Assert.Equal(0, (await harness.CallAsync(good, OpCode.GetData, new PathWatchRequest("/", false))).Header.Err);

        // allowSaslFailedClients does not apply when SASL is required.
        var bad = await harness.ConnectAsync();
        var failed = await LogInAsync(harness, bad, "jaasuser", "wrong");
        Assert.Equal((int)ErrorCode.SessionClosedRequireSaslAuth, failed.Header.Err);
        Assert.NotNull(bad.ClosedBecause);
    }

    [Fact]
    public async Task WithoutTheSaslProviderSaslAclsAreInvalid()
    {
        await using var harness = new CoreHarness(Settings(registered: false));
        var connection = await harness.ConnectAsync();
        await LogInAsync(harness, connection, "jaasuser", "jaas_password");
        var acl = new List<Acl> { new(Perms.All, new Id("sasl", "jaasuser")) };
        var created = await harness.CallAsync(connection, OpCode.Create, new CreateRequest("/s", [1], acl, 0));
        Assert.Equal((int)ErrorCode.InvalidAcl, created.Header.Err);
    }

    [Fact]
    public async Task WithoutAJaasServerSectionSaslIsAnsweredWithAnEmptyToken()
    {
        await using var harness = new CoreHarness(new ServerSettings());
        var connection = await harness.ConnectAsync();
        var reply = await harness.CallAsync(connection, OpCode.Sasl, new SaslRequest([]));
        Assert.Equal(0, reply.Header.Err);
        Assert.Null(reply.Body(SaslResponse.Read).Token);
        Assert.Null(connection.ClosedBecause);
    }

    [Theory]
    [InlineData("jaasuser", true)]
    [InlineData("zookeeper/host@EXAMPLE.COM", true)]
    [InlineData("user@REALM", true)]
    [InlineData("a@b@c", false)]
    [InlineData("a/b/c@R", false)]
    public void SaslAclIdsFollowKerberosNameSyntax(string id, bool valid) =>
        Assert.Equal(valid, AuthProviders.IsValidId("sasl", id, new AuthenticationConfig { SaslSchemeRegistered = true }));

    [Fact]
    public void LetAnySaslUserDoXMakesOneAclIdMatchEverySaslUser()
    {
        var auth = new AuthenticationConfig { SaslSchemeRegistered = true, LetAnySaslUserDoX = "anyone-sasl" };
        Assert.True(AuthProviders.Matches("sasl", "bob", "anyone-sasl", auth));
        Assert.False(AuthProviders.Matches("sasl", "bob", "alice", auth));
        Assert.True(AuthProviders.Matches("sasl", "super", "alice", auth));
    }
}
