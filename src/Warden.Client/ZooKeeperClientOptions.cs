namespace Warden.Client;

/// <summary>
/// Settings of a <see cref="ZooKeeperClient"/>, in the shape that <c>IOptions</c> binds from configuration.
/// </summary>
public sealed class ZooKeeperClientOptions
{
    /// <summary>
    /// Servers and an optional chroot, as every ZooKeeper client takes them: <c>h1:2181,h2:2181/app</c>.
    /// A host without a port gets 2181.
    /// </summary>
    public string ConnectString { get; set; } = "127.0.0.1:2181";

    /// <summary>The session timeout asked of the server; the server clamps it to its own bounds.</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long one connection attempt may take. When unset it is the session timeout divided by the
    /// number of hosts, as the Java client does, so one pass over the list fits in a session.
    /// </summary>
    public TimeSpan? ConnectTimeout { get; set; }

    /// <summary>Allow a read-only server (one cut off from its quorum) to serve reads.</summary>
    public bool CanBeReadOnly { get; set; }

    /// <summary>The largest packet accepted from a server (Apache's <c>jute.maxbuffer</c>, 1 MiB − 1 by default).</summary>
    public int MaxPacketBytes { get; set; } = Warden.Protocol.Framing.DefaultMaxPacketBytes;

    /// <summary>
    /// Requests sent but not yet answered, at most. A caller beyond it waits for a slot: back-pressure
    /// rather than an unbounded queue.
    /// </summary>
    public int MaxOutstandingRequests { get; set; } = 10_000;

    /// <summary>
    /// Events a persistent watch holds for a reader that has not taken them. A reader that falls further
    /// behind has its enumeration ended with an error rather than events silently dropped.
    /// </summary>
    public int MaxBufferedWatchEvents { get; set; } = 100_000;

    /// <summary>
    /// A SASL (DIGEST-MD5) login, run on every new connection before any request, as ZooKeeper's Java client does
    /// with a JAAS "Client" section. The server must list the user in its JAAS "Server" section. A refused login
    /// ends the client in <see cref="ConnectionState.AuthFailed"/>. Null (the default) logs in with nothing.
    /// </summary>
    public SaslLogin? Sasl { get; set; }

    /// <summary>TLS to the servers' secureClientPort; null (the default) connects in plaintext.</summary>
    public ZooKeeperTlsOptions? Tls { get; set; }

    /// <summary>Seed for the order in which hosts are tried; null draws a random one.</summary>
    public int? HostOrderSeed { get; set; }

    internal void Validate()
    {
        if (SessionTimeout <= TimeSpan.Zero) throw new ArgumentException("SessionTimeout must be positive", nameof(SessionTimeout));
        if (ConnectTimeout is { } connect && connect <= TimeSpan.Zero)
        {
            throw new ArgumentException("ConnectTimeout must be positive", nameof(ConnectTimeout));
        }
        if (MaxPacketBytes < 1024) throw new ArgumentException("MaxPacketBytes must be at least 1024", nameof(MaxPacketBytes));
        if (MaxOutstandingRequests < 1) throw new ArgumentException("MaxOutstandingRequests must be at least 1", nameof(MaxOutstandingRequests));
        if (Sasl is { } sasl && string.IsNullOrEmpty(sasl.Username)) throw new ArgumentException("Sasl.Username must not be empty", nameof(Sasl));
        if (MaxBufferedWatchEvents < 1) throw new ArgumentException("MaxBufferedWatchEvents must be at least 1", nameof(MaxBufferedWatchEvents));
    }
}

/// <summary>A DIGEST-MD5 user name and password for <see cref="ZooKeeperClientOptions.Sasl"/>.</summary>
public sealed record SaslLogin(string Username, string Password)
{
    /// <summary>Keeps the password out of logs and exception messages.</summary>
    public override string ToString() => $"SaslLogin {{ Username = {Username} }}";
}
