using Warden.Protocol;
using Warden.Server.Security;

namespace Warden.Server.Tests.Security;

/// <summary>
/// A connection's ids in the order Apache's ConcurrentHashMap-backed set lists them. The expected
/// orders were seen in whoAmI replies of Apache ZooKeeper 3.8.0.
/// </summary>
public class AuthInfoSetTests
{
    private static readonly Id Ip = new("ip", "127.0.0.1");
    private static readonly Id Alice = new("digest", "alice:" + "dLDBGJMULQUd5CGgcEvy8SPnE4g=");

    [Fact]
    public void IdsAreListedInApacheSetOrderWithoutDuplicates()
    {
        var ids = new List<Id>();
        AuthInfoSet.Add(ids, Ip);
        AuthInfoSet.Add(ids, new Id("digest", AuthProviders.DigestOf("alice:alice-pw")));
        AuthInfoSet.Add(ids, new Id("digest", AuthProviders.DigestOf("alice:alice-pw")));

        // Apache 3.8.0 answered whoAmI with digest:alice before ip:127.0.0.1 for this session.
        Assert.Equal(2, ids.Count);
        Assert.Equal("digest", ids[0].Scheme);
        Assert.Equal(Ip, ids[1]);
    }

    [Fact]
    public void TheHashIsJuteIdHashCode()
    {
        // 37 * (37 * 17 + "ip".hashCode()) + "127.0.0.1".hashCode(), in 32-bit arithmetic.
        unchecked
        {
            int expected = 37 * (37 * 17 + 3367) + 1505998205;
            Assert.Equal(expected, AuthInfoSet.HashCode(Ip));
        }
        Assert.NotEqual(AuthInfoSet.HashCode(Ip), AuthInfoSet.HashCode(Alice));
    }
}
