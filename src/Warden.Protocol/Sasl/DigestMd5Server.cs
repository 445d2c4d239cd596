namespace Warden.Protocol.Sasl;

/// <summary>
/// The server side of one DIGEST-MD5 exchange, in the two steps ZooKeeper's server takes: an empty first token
/// is answered with a challenge; the client's digest response is checked against the password on file and
/// answered with rspauth, after which <see cref="IsComplete"/> holds and <see cref="AuthenticationId"/> names
/// the user. Any failure throws <see cref="SaslException"/>, and the exchange cannot be resumed.
/// </summary>
public sealed class DigestMd5Server
{
    private readonly Func<string, string?> _passwordOf;
    private readonly string _nonce;
    private Step _step = Step.Challenge;

    private enum Step { Challenge, Response, Complete, Failed }

    /// <param name="passwordOf">A user's password, or null for a user that is not on file.</param>
    /// <param name="nonce">The nonce to offer; a fresh random one when null (a test passes a fixed one).</param>
    public DigestMd5Server(Func<string, string?> passwordOf, string? nonce = null)
    {
        _passwordOf = passwordOf;
        _nonce = nonce ?? DigestMd5.NewNonce();
    }

    public bool IsComplete => _step == Step.Complete;

    /// <summary>The user who proved the password; set once the exchange is complete.</summary>
    public string? AuthenticationId { get; private set; }

    /// <summary>The authorization id the client asked for, if it named one.</summary>
    public string? AuthorizationId { get; private set; }

    /// <summary>Takes the client's token and returns the token to send back.</summary>
    public byte[] Evaluate(ReadOnlySpan<byte> clientToken)
    {
        try
        {
            switch (_step)
            {
                case Step.Challenge:
                    if (clientToken.Length != 0) throw new SaslException("DIGEST-MD5: the client must not send an initial response");
                    _step = Step.Response;
                    // No qop directive means "auth" only; Apache's server offers exactly this.
                    return System.Text.Encoding.UTF8.GetBytes(
                        $"realm={DigestMd5.Quote(DigestMd5.ServerName)},nonce={DigestMd5.Quote(_nonce)},charset=utf-8,algorithm=md5-sess");
                case Step.Response:
                    var rspauth = Verify(clientToken);
                    _step = Step.Complete;
                    return System.Text.Encoding.UTF8.GetBytes("rspauth=" + rspauth);
                default:
                    throw new SaslException("DIGEST-MD5: the authentication is already over");
            }
        }
        catch (SaslException)
        {
            _step = Step.Failed;
            throw;
        }
    }

    private string Verify(ReadOnlySpan<byte> token)
    {
        var d = DigestMd5.ParseDirectives(token, out var repeated);
        if (repeated.Count > 0) throw new SaslException($"DIGEST-MD5: directive {repeated[0]} given more than once");
        string Required(string name) =>
            d.TryGetValue(name, out var value) ? value : throw new SaslException($"DIGEST-MD5: the response has no {name}");

        string username = Required("username");
        string nonce = Required("nonce");
        string cnonce = Required("cnonce");
        string nonceCount = Required("nc");
        string digestUri = Required("digest-uri");
        string response = Required("response");
        string qop = d.GetValueOrDefault("qop") ?? "auth";
        string realm = d.GetValueOrDefault("realm") ?? "";
        bool utf8 = false;
        if (d.TryGetValue("charset", out var charset))
        {
            if (!charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)) throw new SaslException($"DIGEST-MD5: unsupported charset {charset}");
            utf8 = true;
        }
        if (nonce != _nonce) throw new SaslException("DIGEST-MD5: the nonce does not match the challenge");
        if (nonceCount != "00000001") throw new SaslException($"DIGEST-MD5: nonce count {nonceCount} is not 1");
        if (qop != "auth") throw new SaslException($"DIGEST-MD5: qop {qop} was not offered (only auth is)");
        if (realm.Length > 0 && realm != DigestMd5.ServerName) throw new SaslException($"DIGEST-MD5: realm {realm} was not offered");
        if (!digestUri.Equals(DigestMd5.DigestUri, StringComparison.OrdinalIgnoreCase))
        {
            throw new SaslException($"DIGEST-MD5: digest-uri {digestUri} is not {DigestMd5.DigestUri}");
        }
        string? authzid = d.GetValueOrDefault("authzid");
        string password = _passwordOf(username) ?? throw new SaslException($"DIGEST-MD5: no password on file for user {username}");
        string expected = DigestMd5.ResponseDigest(username, realm, password, authzid, nonce, cnonce, nonceCount, qop, digestUri, utf8, "AUTHENTICATE");
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.ASCII.GetBytes(expected), System.Text.Encoding.ASCII.GetBytes(response.ToLowerInvariant())))
        {
            throw new SaslException($"DIGEST-MD5: wrong password for user {username}");
        }
        AuthenticationId = username;
        AuthorizationId = authzid;
        return DigestMd5.ResponseDigest(username, realm, password, authzid, nonce, cnonce, nonceCount, qop, digestUri, utf8, "");
    }
}
