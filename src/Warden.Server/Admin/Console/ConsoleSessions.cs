using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Warden.Client;

namespace Warden.Server.Admin.Console;

/// <summary>
/// The console's ZooKeeper sessions on the server's own client port. Reads and watches go through one shared
/// session that has no credentials, so the tree's ACLs apply to the console as to any anonymous client; each
/// login opens a session of its own that has added the super digest, and only that session writes. Going through
/// the client port rather than the loop's internals means writes are ordered, replicated and forwarded to the
/// leader like any other client's, and watches are the server's real watches.
/// </summary>
internal sealed class ConsoleSessions : IAsyncDisposable
{
    /// <summary>Logins kept at once; the oldest is closed to make room, so a forgotten tab cannot pile up sessions.</summary>
    public const int MaxLogins = 4;

    private static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(30);
    private readonly Func<IPEndPoint> _clientEndPoint;
    private readonly string? _superDigest;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly Lock _loginsLock = new();
    private readonly LinkedList<(string Token, ZooKeeperClient Client)> _logins = new();
    private ZooKeeperClient? _reader;

    public ConsoleSessions(Func<IPEndPoint> clientEndPoint, string? superDigest, ILogger log)
    {
        _clientEndPoint = clientEndPoint;
        _superDigest = superDigest;
        _log = log;
    }

    /// <summary>True when zookeeper.DigestAuthenticationProvider.superDigest is set, so that a login can succeed.</summary>
    public bool CanLogIn => _superDigest is not null;

    /// <summary>The shared read session, connected again when the last one ended (expired or closed).</summary>
    public async Task<ZooKeeperClient> ReaderAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _reader);
        if (current is not null && !current.State.IsTerminal()) return current;
        await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_reader is not null && !_reader.State.IsTerminal()) return _reader;
            if (_reader is not null) await _reader.DisposeAsync().ConfigureAwait(false);
            _reader = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            return _reader;
        }
        finally
        {
            _connecting.Release();
        }
    }

    /// <summary>
    /// Checks the password against the super digest here (addAuth digest always succeeds on the wire, it just
    /// adds an identity that matches nothing), then opens a session that adds it. Returns the login's token, or
    /// null when the password is wrong or no super digest is configured.
    /// </summary>
    public async Task<string?> LogInAsync(string password, CancellationToken cancellationToken)
    {
        if (_superDigest is null) return null;
        string credential = "super:" + password;
        string digest = "super:" + Convert.ToBase64String(SHA1.HashData(Encoding.UTF8.GetBytes(credential)));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(digest), Encoding.UTF8.GetBytes(_superDigest)))
        {
            _log.LogWarning("Console login refused: the password does not match the super digest");
            return null;
        }
        var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await client.AddAuthAsync("digest", Encoding.UTF8.GetBytes(credential), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        string token = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        ZooKeeperClient? evicted = null;
        lock (_loginsLock)
        {
            _logins.AddLast((token, client));
            if (_logins.Count > MaxLogins)
            {
                evicted = _logins.First!.Value.Client;
                _logins.RemoveFirst();
            }
        }
        if (evicted is not null) await evicted.DisposeAsync().ConfigureAwait(false);
        _log.LogInformation("Console login as super (session 0x{Session:x})", client.SessionId.Value);
        return token;
    }

    /// <summary>The write session of a login, or null for an unknown, ended or missing token.</summary>
    public ZooKeeperClient? Writer(string? token)
    {
        if (string.IsNullOrEmpty(token)) return null;
        lock (_loginsLock)
        {
            foreach (var (known, client) in _logins)
            {
                if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(known), Encoding.ASCII.GetBytes(token)))
                {
                    return client.State.IsTerminal() ? null : client;
                }
            }
        }
        return null;
    }

    public async Task LogOutAsync(string? token)
    {
        ZooKeeperClient? ended = null;
        lock (_loginsLock)
        {
            for (var node = _logins.First; node is not null; node = node.Next)
            {
                if (node.Value.Token == token)
                {
                    ended = node.Value.Client;
                    _logins.Remove(node);
                    break;
                }
            }
        }
        if (ended is not null) await ended.DisposeAsync().ConfigureAwait(false);
    }

    private Task<ZooKeeperClient> ConnectAsync(CancellationToken cancellationToken)
    {
        var endPoint = _clientEndPoint();
        // A server listening on every address is reached on loopback, which it certainly has.
        var address = endPoint.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
            : endPoint.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : endPoint.Address;
        string host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
        {
            ConnectString = $"{host}:{endPoint.Port}",
            SessionTimeout = SessionTimeout,
        }, _log, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        List<ZooKeeperClient> clients;
        lock (_loginsLock)
        {
            clients = [.. _logins.Select(l => l.Client)];
            _logins.Clear();
        }
        if (_reader is not null) clients.Add(_reader);
        foreach (var client in clients) await client.DisposeAsync().ConfigureAwait(false);
        _connecting.Dispose();
    }
}
