using System.Text;

namespace Warden.Protocol.Sasl;

/// <summary>
/// The client side of one DIGEST-MD5 exchange as ZooKeeper's clients run it: an empty first token, then the
/// digest response to the server's challenge, then a check of the server's rspauth, which proves the server
/// knew the password too. Failures throw <see cref="SaslException"/>.
/// </summary>
public sealed class DigestMd5Client
{
    private readonly string _username;
    private readonly string _password;
    private readonly string? _authzid;
    private readonly string _cnonce;
    private string? _expectedRspauth;
    private int _step;

    /// <param name="authzid">An authorization id to send; ZooKeeper's server ignores it and uses the user name.</param>
    /// <param name="cnonce">The client nonce; a fresh random one when null (a test passes a fixed one).</param>
    public DigestMd5Client(string username, string password, string? authzid = null, string? cnonce = null)
    {
        _username = username;
        _password = password;
        _authzid = authzid;
        _cnonce = cnonce ?? DigestMd5.NewNonce();
    }

    public bool IsComplete => _step == 3;

    /// <summary>The first token: DIGEST-MD5 has no initial response, so it is empty.</summary>
    public byte[] Start()
    {
        if (_step != 0) throw new SaslException("DIGEST-MD5: the exchange has already started");
        _step = 1;
        return [];
    }

    /// <summary>Takes a server token and returns the next one to send, or null when nothing more is to be sent.</summary>
    public byte[]? Evaluate(ReadOnlySpan<byte> serverToken)
    {
        switch (_step)
        {
            case 1:
                _step = 2;
                return Respond(serverToken);
            case 2:
                var d = DigestMd5.ParseDirectives(serverToken, out _);
                if (!d.TryGetValue("rspauth", out var rspauth) || !rspauth.Equals(_expectedRspauth, StringComparison.OrdinalIgnoreCase))
                {
                    throw new SaslException("DIGEST-MD5: the server's rspauth is wrong, so it does not know the password");
                }
                _step = 3;
                return null;
            default:
                throw new SaslException("DIGEST-MD5: no token was expected");
        }
    }

    private byte[] Respond(ReadOnlySpan<byte> challenge)
    {
        var d = DigestMd5.ParseDirectives(challenge, out _);
        string nonce = d.GetValueOrDefault("nonce") ?? throw new SaslException("DIGEST-MD5: the challenge has no nonce");
        if (!string.Equals(d.GetValueOrDefault("algorithm"), "md5-sess", StringComparison.OrdinalIgnoreCase))
        {
            throw new SaslException("DIGEST-MD5: the challenge does not name algorithm=md5-sess");
        }
        if (d.TryGetValue("qop", out var offered) && !offered.Split(',').Any(q => q.Trim() == "auth"))
        {
            throw new SaslException($"DIGEST-MD5: the server offers qop {offered}, and only auth is supported");
        }
        string realm = d.GetValueOrDefault("realm") ?? "";
        bool utf8 = string.Equals(d.GetValueOrDefault("charset"), "utf-8", StringComparison.OrdinalIgnoreCase);
        const string nonceCount = "00000001";
        const string qop = "auth";
        string response = DigestMd5.ResponseDigest(_username, realm, _password, _authzid, nonce, _cnonce, nonceCount, qop, DigestMd5.DigestUri, utf8, "AUTHENTICATE");
        _expectedRspauth = DigestMd5.ResponseDigest(_username, realm, _password, _authzid, nonce, _cnonce, nonceCount, qop, DigestMd5.DigestUri, utf8, "");
        var text = new StringBuilder();
        if (utf8) text.Append("charset=utf-8,");
        text.Append("username=").Append(DigestMd5.Quote(_username));
        if (realm.Length > 0) text.Append(",realm=").Append(DigestMd5.Quote(realm));
        text.Append(",nonce=").Append(DigestMd5.Quote(nonce))
            .Append(",nc=").Append(nonceCount)
            .Append(",cnonce=").Append(DigestMd5.Quote(_cnonce))
            .Append(",digest-uri=").Append(DigestMd5.Quote(DigestMd5.DigestUri))
            .Append(",maxbuf=65536,response=").Append(response)
            .Append(",qop=").Append(qop);
        if (!string.IsNullOrEmpty(_authzid)) text.Append(",authzid=").Append(DigestMd5.Quote(_authzid));
        // Without charset=utf-8 the strings travel as ISO 8859-1.
        return utf8 ? Encoding.UTF8.GetBytes(text.ToString()) : Encoding.Latin1.GetBytes(text.ToString());
    }
}
