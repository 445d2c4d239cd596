using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Warden.Server.Processing;

namespace Warden.Server.Network;

/// <summary>
/// Accepts client connections on the client port and runs each on its own asynchronous task (no thread per
/// connection). Enforces zookeeper.maxCnxns (all connections) and then maxClientCnxns (per remote address) as
/// Apache's NIOServerCnxnFactory does on accept: the extra connection is closed at once, and repeated refusals
/// are folded into one log line a second. With a secureClientPort it listens there too, and connections on that
/// port run TLS before the ZooKeeper protocol; both ports share the limits, the connection table and the words.
/// </summary>
public sealed class ClientListener : IAsyncDisposable
{
    private readonly ServerCore _core;
    private readonly ILogger _log;
    private readonly Socket _socket;
    private readonly ConcurrentDictionary<long, ClientConnection> _connections = new();
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly FourLetterWords _fourLetterWords;
    private readonly OutstandingRequests _outstanding;
    private readonly RateLimitedLog _refusals;
    private readonly RateLimitedLog _addressRefusals;
    private readonly Socket? _secureSocket;
    private readonly Security.TlsServerContext? _tls;
    private Task? _acceptLoop;
    private Task? _secureAcceptLoop;

    // Apache counts plaintext connections (non_mtls_*_conn_count) only in its Netty connection factory, on accept.
    private readonly bool _countsNonMtls;

    /// <summary>Binds the port; throws SocketException when it is taken, before anything else starts.</summary>
    public ClientListener(ServerCore core, ILogger log)
    {
        _core = core;
        _log = log;
        _socket = Bind(core.Settings.ClientEndpoint);
        _socket.Listen(512);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        if (core.Settings.Tls is { } tls && (core.Settings.SecureClientEndpoint is not null || core.Settings.ClientPortUnification))
        {
            _tls = new Security.TlsServerContext(tls, log);
        }
        if (core.Settings.SecureClientEndpoint is { } secure && _tls is not null)
        {
            try
            {
                _secureSocket = Bind(secure);
                _secureSocket.Listen(512);
            }
            catch
            {
                _secureSocket?.Dispose();
                _socket.Dispose();
                throw;
            }
            SecureLocalEndPoint = (IPEndPoint)_secureSocket.LocalEndPoint!;
        }
        _countsNonMtls = core.Settings.SystemProperties.TryGetValue("zookeeper.serverCnxnFactory", out var factory)
            && factory.Trim() == "org.apache.zookeeper.server.NettyServerCnxnFactory";
        _fourLetterWords = new FourLetterWords(core, () => _connections.Values.ToList());
        _outstanding = new OutstandingRequests(core.Settings.GlobalOutstandingLimitRequests);
        _refusals = new RateLimitedLog(log, TimeProvider.System, TimeSpan.FromSeconds(1));
        // Apart, so that the two kinds of refusal do not interrupt each other's folding.
        _addressRefusals = new RateLimitedLog(log, TimeProvider.System, TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// Binds the client port. With no clientPortAddress the port takes IPv6 as well as IPv4 where the machine has
    /// IPv6, as Java's wildcard socket does for Apache (so `-server [::1]:2181` works against either server).
    /// </summary>
    private static Socket Bind(IPEndPoint endpoint)
    {
        if (endpoint.Address.Equals(IPAddress.Any) && Socket.OSSupportsIPv6)
        {
            var dual = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
            try
            {
                dual.Bind(new IPEndPoint(IPAddress.IPv6Any, endpoint.Port));
                return dual;
            }
            catch (SocketException e) when (e.SocketErrorCode != SocketError.AddressAlreadyInUse)
            {
                // IPv6 compiled in but switched off on this host: IPv4 alone, as before.
                dual.Dispose();
            }
        }
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (endpoint.Address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
        socket.Bind(endpoint);
        return socket;
    }

    /// <summary>Requests taken off client sockets and not yet answered, across all connections.</summary>
    public long OutstandingRequests => _outstanding.Count;

    /// <summary>Connections closed on accept because maxCnxns connections were already open.</summary>
    public long RefusedForTotalLimit { get; private set; }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The TLS client port, when there is one.</summary>
    public IPEndPoint? SecureLocalEndPoint { get; }

    /// <summary>The TLS certificates in use, when there is a secure port.</summary>
    public Security.TlsServerContext? Tls => _tls;
    public int ConnectionCount => _connections.Count;

    /// <summary>The four-letter words this listener answers; the AdminServer and /metrics read through them too.</summary>
    public FourLetterWords FourLetterWords => _fourLetterWords;

    public void Start()
    {
        // client.portUnification: the plaintext port also runs TLS for a client that starts with a TLS handshake.
        _acceptLoop = AcceptLoopAsync(_socket, _core.Settings.ClientPortUnification ? _tls : null, tlsOptional: _core.Settings.ClientPortUnification);
        if (_core.Settings.ClientPortUnification)
        {
            _log.LogInformation("The client port {Endpoint} takes TLS and plaintext clients (client.portUnification)", LocalEndPoint);
        }
        if (_secureSocket is not null)
        {
            _secureAcceptLoop = AcceptLoopAsync(_secureSocket, _tls, tlsOptional: false);
            _log.LogInformation("Serving TLS clients on {Endpoint} (ssl.clientAuth={ClientAuth}, protocols {Protocols})",
                SecureLocalEndPoint, _tls!.Settings.ClientAuth.ToString().ToLowerInvariant(), _tls.Settings.ProtocolNames);
        }
    }

    private async Task AcceptLoopAsync(Socket listening, Security.TlsServerContext? tls, bool tlsOptional)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listening.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                _log.LogWarning("Accepting a connection failed: {Reason}", e.Message);
                continue;
            }
            client.NoDelay = true;
            int total = _connections.Count;
            if (_core.Settings.MaxConnections > 0 && total >= _core.Settings.MaxConnections)
            {
                RefusedForTotalLimit++;
                _refusals.Warn($"Too many connections {total} - max is {_core.Settings.MaxConnections} (maxCnxns)");
                client.Dispose();
                continue;
            }
            var address = (client.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
            int limit = _core.Settings.MaxClientConnectionsPerHost;
            int count = _perAddress.AddOrUpdate(address, 1, (_, n) => n + 1);
            if (limit > 0 && count > limit)
            {
                _perAddress.AddOrUpdate(address, 0, (_, n) => n - 1);
                _addressRefusals.Warn($"Too many connections from {address} - max is {limit}", kind: "per-address limit");
                client.Dispose();
                continue;
            }
            if (_countsNonMtls && (tls is null || tlsOptional))
            {
                // As Apache's channelActive: every connection on the plaintext port, a unified one included, before
                // its first byte says whether it will run TLS.
                _core.Stats.CountNonMtlsConnection(IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address));
            }
            _ = RunConnectionAsync(client, address, tls, tlsOptional);
        }
    }

    private async Task RunConnectionAsync(Socket client, IPAddress address, Security.TlsServerContext? tls, bool tlsOptional)
    {
        var connection = new ClientConnection(client, _core, _fourLetterWords, _log,
            () => _perAddress.AddOrUpdate(address, 0, (_, n) => Math.Max(0, n - 1)), _outstanding, tls, tlsOptional);
        _connections[connection.ConnectionId] = connection;
        try
        {
            await connection.RunAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _log.LogError(e, "Connection from {Remote} failed", connection.DisplayAddress);
        }
        finally
        {
            _connections.TryRemove(connection.ConnectionId, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _socket.Dispose();
        _secureSocket?.Dispose();
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        if (_secureAcceptLoop is not null) await _secureAcceptLoop.ConfigureAwait(false);
        foreach (var connection in _connections.Values) connection.Close("the server is stopping");
    }
}
