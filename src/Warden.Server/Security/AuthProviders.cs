using System.Net;
using System.Security.Cryptography;
using System.Text;
using Warden.Protocol;

namespace Warden.Server.Security;

/// <summary>
/// The authentication schemes a client can name in addauth and in ACLs: digest and ip, as Apache's server
/// registers by default, sasl when authProvider.N names SASLAuthenticationProvider, and x509 (certificate
/// subjects of TLS clients) with a secureClientPort or authProvider.N naming X509AuthenticationProvider. "world" and "auth" are
/// ACL-only forms handled by <see cref="AclPolicy"/>.
/// </summary>
public static class AuthProviders
{
    /// <summary>Apache's digest id: user, a colon, then base64(SHA-1("user:password")).</summary>
    public static string DigestOf(string userAndPassword)
    {
        string user = userAndPassword.Split(':', 2)[0];
        var hash = SHA1.HashData(Encoding.UTF8.GetBytes(userAndPassword));
        return user + ":" + Convert.ToBase64String(hash);
    }

    public static bool IsKnownScheme(string scheme, AuthenticationConfig auth) =>
        scheme is "digest" or "ip" || (scheme == "sasl" && auth.SaslSchemeRegistered) || (scheme == "x509" && auth.X509SchemeRegistered);

    /// <summary>Whether an id is well formed for its scheme, as Apache's providers judge it when an ACL is set.</summary>
    public static bool IsValidId(string scheme, string id, AuthenticationConfig auth) => scheme switch
    {
        "digest" => id.Split(':').Length == 2,
        "ip" => TryParseIpRule(id, out _, out _),
        "sasl" => auth.SaslSchemeRegistered && IsKerberosName(id),
        "x509" => auth.X509SchemeRegistered && X509Identity.IsValidName(id),
        _ => false,
    };

    /// <summary>Whether a caller's id of a scheme satisfies an ACL entry's id of the same scheme.</summary>
    public static bool Matches(string scheme, string callerId, string aclId, AuthenticationConfig auth) => scheme switch
    {
        "digest" => callerId == aclId,
        "ip" => IpMatches(callerId, aclId),
        // SASLAuthenticationProvider: the same name, a caller whose sasl id is "super", or an ACL naming the
        // zookeeper.letAnySaslUserDoX id, which every SASL user matches.
        // X509AuthenticationProvider: the same subject; when a superUser subject is configured, a caller with that
        // subject matches every x509 ACL entry.
        "x509" => callerId == aclId || (auth.X509SuperUser is { } superUser && callerId == superUser),
        "sasl" => callerId == "super" || callerId == aclId || (auth.LetAnySaslUserDoX is { } anyUser && aclId == anyUser),
        _ => false,
    };

    /// <summary>Whether ids of the scheme count as authenticated users (ip addresses do not).</summary>
    public static bool IsAuthenticatedScheme(string scheme, AuthenticationConfig auth) =>
        scheme == "digest" || (scheme == "sasl" && auth.SaslSchemeRegistered) || (scheme == "x509" && auth.X509SchemeRegistered);

    /// <summary>
    /// The sasl scheme takes any id Kerberos' name syntax allows, as Apache's provider does: a name without '@',
    /// or name[/host]@realm with no further '/' or '@'.
    /// </summary>
    public static bool IsKerberosName(string id) =>
        !id.Contains('@') || System.Text.RegularExpressions.Regex.IsMatch(id, "^[^/@]*(/[^/@]*)?@[^/@]*$");

    private static bool TryParseIpRule(string rule, out IPAddress address, out int bits)
    {
        bits = -1;
        string addressText = rule;
        int slash = rule.IndexOf('/');
        if (slash >= 0)
        {
            addressText = rule[..slash];
            if (!int.TryParse(rule.AsSpan(slash + 1), out bits) || bits < 0) { address = IPAddress.None; return false; }
        }
        if (!IPAddress.TryParse(addressText, out address!)) return false;
        int maxBits = address.GetAddressBytes().Length * 8;
        if (bits == -1) bits = maxBits;
        return bits <= maxBits;
    }

    private static bool IpMatches(string callerAddress, string rule)
    {
        if (!TryParseIpRule(rule, out var network, out int bits)) return false;
        if (!IPAddress.TryParse(callerAddress, out var caller)) return false;
        var a = caller.GetAddressBytes();
        var b = network.GetAddressBytes();
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length && bits > 0; i++, bits -= 8)
        {
            int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
            if ((a[i] & mask) != (b[i] & mask)) return false;
        }
        return true;
    }
}

/// <summary>
/// ACL rules as Apache's server applies them: which ids satisfy an ACL for a permission, and how a requested ACL
/// list is checked and expanded (the "auth" scheme becomes the caller's authenticated ids) before it is stored.
/// </summary>
public static class AclPolicy
{
    /// <summary>True when the caller may perform an operation needing <paramref name="permission"/>.</summary>
    public static bool Allows(IReadOnlyList<Acl>? acl, Perms permission, IReadOnlyList<Id> callerIds, AuthenticationConfig auth)
    {
        if (acl is null || acl.Count == 0) return true;
        foreach (var id in callerIds)
        {
            if (id.Scheme == "super") return true;
        }
        foreach (var entry in acl)
        {
            if ((entry.Perms & permission) == 0) continue;
            if (entry.Id.Scheme == "world" && entry.Id.Identity == "anyone") return true;
            if (!AuthProviders.IsKnownScheme(entry.Id.Scheme, auth)) continue;
            foreach (var id in callerIds)
            {
                if (id.Scheme == entry.Id.Scheme && AuthProviders.Matches(id.Scheme, id.Identity, entry.Id.Identity, auth)) return true;
            }
        }
        return false;
    }

    /// <summary>Checks and expands a requested ACL list; null when Apache would answer INVALIDACL.</summary>
    public static List<Acl>? Fixup(IReadOnlyList<Acl>? requested, IReadOnlyList<Id> callerIds, AuthenticationConfig auth)
    {
        if (requested is null || requested.Count == 0) return null;
        var unique = new List<Acl>(requested.Count);
        foreach (var acl in requested)
        {
            if (!unique.Contains(acl)) unique.Add(acl);
        }
        var result = new List<Acl>(unique.Count);
        foreach (var acl in unique)
        {
            if (acl.Id.Scheme == "world" && acl.Id.Identity == "anyone")
            {
                result.Add(acl);
            }
            else if (acl.Id.Scheme == "auth")
            {
                bool any = false;
                foreach (var id in callerIds)
                {
                    if (!AuthProviders.IsAuthenticatedScheme(id.Scheme, auth)) continue;
                    any = true;
                    result.Add(new Acl(acl.Perms, id));
                }
                if (!any) return null;
            }
            else if (AuthProviders.IsValidId(acl.Id.Scheme, acl.Id.Identity, auth))
            {
                result.Add(acl);
            }
            else
            {
                return null;
            }
        }
        return result;
    }
}
