using System.Security.Cryptography;
using System.Text;

namespace Warden.Protocol.Sasl;

/// <summary>A SASL exchange failed: bad credentials, a malformed token, or a step out of order.</summary>
public sealed class SaslException(string message) : Exception(message);

/// <summary>
/// The parts of DIGEST-MD5 (RFC 2831) that client and server share: the directive syntax of challenges and
/// responses, and the response digest. Only qop=auth is supported, which is all ZooKeeper negotiates: no
/// integrity or confidentiality layer follows the exchange.
/// </summary>
/// <remarks>
/// ZooKeeper fixes the names: the service is "zookeeper" and the server name, which is also the realm the
/// server offers, is "zk-sasl-md5", so the digest-uri is always "zookeeper/zk-sasl-md5".
/// <code>
/// challenge: realm="zk-sasl-md5",nonce="...",charset=utf-8,algorithm=md5-sess
/// response:  charset=utf-8,username="bob",realm="zk-sasl-md5",nonce="...",nc=00000001,cnonce="...",
///            digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=&lt;32 hex&gt;,qop=auth[,authzid="bob"]
/// rspauth:   rspauth=&lt;32 hex&gt;
/// </code>
/// </remarks>
public static class DigestMd5
{
    public const string Mechanism = "DIGEST-MD5";
    public const string Protocol = "zookeeper";
    public const string ServerName = "zk-sasl-md5";
    public const string DigestUri = Protocol + "/" + ServerName;

    /// <summary>
    /// Parses a comma-separated list of name=value directives, where a value is a token or a quoted string
    /// with backslash escapes. Names are lower-cased; a repeated name keeps its first value and is reported.
    /// </summary>
    public static Dictionary<string, string> ParseDirectives(ReadOnlySpan<byte> token, out List<string> repeated)
    {
        var text = Encoding.UTF8.GetString(token);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        repeated = [];
        int i = 0;
        while (true)
        {
            while (i < text.Length && (char.IsWhiteSpace(text[i]) || text[i] == ',')) i++;
            if (i >= text.Length) return result;
            int nameStart = i;
            while (i < text.Length && text[i] != '=' && text[i] != ',' && !char.IsWhiteSpace(text[i])) i++;
            string name = text[nameStart..i].ToLowerInvariant();
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i >= text.Length || text[i] != '=') throw new SaslException($"DIGEST-MD5: directive \"{name}\" has no value");
            i++;
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            var value = new StringBuilder();
            if (i < text.Length && text[i] == '"')
            {
                i++;
                bool closed = false;
                while (i < text.Length)
                {
                    char c = text[i++];
                    if (c == '\\' && i < text.Length) value.Append(text[i++]);
                    else if (c == '"') { closed = true; break; }
                    else value.Append(c);
                }
                if (!closed) throw new SaslException($"DIGEST-MD5: unterminated quoted value for \"{name}\"");
            }
            else
            {
                int valueStart = i;
                while (i < text.Length && text[i] != ',') i++;
                value.Append(text.AsSpan(valueStart, i - valueStart).TrimEnd());
            }
            if (name.Length == 0) throw new SaslException("DIGEST-MD5: a directive has no name");
            if (!result.TryAdd(name, value.ToString())) repeated.Add(name);
        }
    }

    /// <summary>A quoted-string: backslash before a quote or a backslash.</summary>
    public static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>
    /// The 32-hex-digit digest of RFC 2831 section 2.1.2.1, for the client's response
    /// (<paramref name="a2Prefix"/> "AUTHENTICATE") or the server's rspauth (an empty prefix).
    /// </summary>
    public static string ResponseDigest(
        string username, string realm, string password, string? authzid,
        string nonce, string cnonce, string nonceCount, string qop, string digestUri, bool utf8, string a2Prefix)
    {
        // A1 = H(user ":" realm ":" password) ":" nonce ":" cnonce [":" authzid]
        var secret = MD5.HashData(Concat(Credential(username, utf8), ":"u8.ToArray(), Credential(realm, utf8), ":"u8.ToArray(), Credential(password, utf8)));
        var a1 = Concat(secret, Encoding.UTF8.GetBytes(":" + nonce + ":" + cnonce + (string.IsNullOrEmpty(authzid) ? "" : ":" + authzid)));
        var a2 = Encoding.UTF8.GetBytes(a2Prefix + ":" + digestUri);
        string kd = Hex(MD5.HashData(a1)) + ":" + nonce + ":" + nonceCount + ":" + cnonce + ":" + qop + ":" + Hex(MD5.HashData(a2));
        return Hex(MD5.HashData(Encoding.UTF8.GetBytes(kd)));
    }

    /// <summary>
    /// How user name, realm and password are turned into bytes before hashing: ISO 8859-1 whenever every
    /// character fits it (RFC 2831 requires that even when charset=utf-8 was negotiated), UTF-8 otherwise,
    /// and only when the charset was negotiated.
    /// </summary>
    public static byte[] Credential(string value, bool utf8)
    {
        bool latin1 = value.All(c => c <= '\u00ff');
        if (latin1 || !utf8) return Encoding.Latin1.GetBytes(value);
        return Encoding.UTF8.GetBytes(value);
    }

    public static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>A fresh nonce: 30 random bytes as base64, 40 characters, as Apache's (Java's) server makes them.</summary>
    public static string NewNonce() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(30));

    private static byte[] Concat(params byte[][] parts)
    {
        var result = new byte[parts.Sum(p => p.Length)];
        int offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(result, offset);
            offset += part.Length;
        }
        return result;
    }
}
