using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Warden.Consensus;
using Warden.Consensus.Wire;

namespace Warden.Server.Quorum.Transport;

/// <summary>
/// The quorum port: as a learner, at most one connection, to the current leader, opened when the core first sends
/// it something; as the leader, a listener (bound only while leading, as Apache) and one connection per learner sid,
/// a newer connection from a sid replacing the older. Connections the host closes (role changes, replacements,
/// disposal) end quietly; every other end of a connection raises <see cref="Disconnected"/> once.
/// </summary>
internal sealed class QuorumPort : IAsyncDisposable
{
    private readonly QuorumTransportOptions _options;
    private readonly ILogger _log;
    private readonly Action<Envelope> _deliver;
    private readonly Action<ServerId> _disconnected;
    private readonly Lock _gate = new();
    private readonly Dictionary<ServerId, QuorumConnection> _learners = new();
    private readonly HashSet<QuorumConnection> _unidentified = new();
    private QuorumConnection? _toLeader;
    private Socket? _listener;
    private Task? _acceptLoop;
    private bool _disposed;

    public QuorumPort(QuorumTransportOptions options, ILogger log, Action<Envelope> deliver, Action<ServerId> disconnected)
    {
        _options = options;
        _log = log;
        _deliver = deliver;
        _disconnected = disconnected;
    }

    public System.Net.IPEndPoint? LocalEndPoint => _listener?.LocalEndPoint as System.Net.IPEndPoint;

    public void Send(Envelope envelope)
    {
        if (envelope.Message is not PacketMessage message)
        {
            throw new ArgumentException($"a {envelope.Channel} envelope must carry a quorum packet, not {envelope.Message.GetType().Name}", nameof(envelope));
        }
        var packet = message.Packet.Encode();
        // Each FOLLOWERINFO or OBSERVERINFO opens a new connection, as each attempt of Apache's learner does: the
        // core re-sends it only when the leader did not answer, and a leader reads it only as a connection's first
        // packet (an Apache leader drops a learner whose second packet is not ACKEPOCH).
        bool opensConnection = message.Packet.Type is PacketType.FollowerInfo or PacketType.ObserverInfo;
        var connection = envelope.Channel == Channel.ToLeader ? LeaderConnectionFor(envelope.To, opensConnection) : LearnerConnection(envelope.To);
        if (connection is null)
        {
            _log.LogDebug("Dropping {Packet} for {Peer}: no quorum connection with it", message.Packet, envelope.To);
            return;
        }
        connection.Send(packet, message.Snapshot, message.Packet.Type);
    }

    private QuorumConnection? LearnerConnection(ServerId learner)
    {
        lock (_gate) return _learners.GetValueOrDefault(learner);
    }

    /// <summary>The connection to <paramref name="leader"/>, dialling it when there is none (or it is to another leader).</summary>
    private QuorumConnection? LeaderConnectionFor(ServerId leader, bool fresh)
    {
        var address = _options.Find(leader);
        if (address is null)
        {
            _log.LogWarning("Cannot connect to leader {Leader}: it is not in this server's configuration", leader);
            return null;
        }
        QuorumConnection? old = null;
        QuorumConnection connection;
        lock (_gate)
        {
            if (_disposed) return null;
            if (!fresh && _toLeader is { IsClosed: false } current && current.Peer == leader) return current;
            old = _toLeader;
            connection = QuorumConnection.ToLeader(this, _options, _log, leader);
            _toLeader = connection;
        }
        old?.Close(notify: false);
        _ = connection.RunToLeaderAsync(address);
        return connection;
    }

    /// <summary>A leader gave up on a learner (silent, or broke the protocol): close it so that it reconnects or looks again.</summary>
    public void CloseLearnerConnection(ServerId learner)
    {
        QuorumConnection? connection;
        lock (_gate) _learners.Remove(learner, out connection);
        connection?.Close(notify: false);
    }

    public void CloseLeaderConnection()
    {
        QuorumConnection? connection;
        lock (_gate)
        {
            connection = _toLeader;
            _toLeader = null;
        }
        connection?.Close(notify: false);
    }

    public void StartLeading()
    {
        lock (_gate)
        {
            if (_disposed) throw new ObjectDisposedException(nameof(QuorumTransport));
            if (_listener is not null) return;
            var self = _options.SelfAddress;
            string owner = $"server.{_options.Self.Value}";
            var endpoint = HostPort.BindEndpoint(self.Host, self.QuorumPort, _options.ListenOnAllIPs, owner);
            try
            {
                _listener = HostPort.Listen(endpoint, "quorum", owner);
            }
            catch (InvalidOperationException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
            {
                // The founding tutorial's servers share quorum port 2888 on one host; a new leader cannot listen while
                // the one before it still holds the port.
                var sharing = _options.Peers.Where(p => p.Id != _options.Self && p.QuorumPort == self.QuorumPort && p.Host == self.Host)
                    .Select(p => $"server.{p.Id.Value}").ToList();
                if (sharing.Count == 0) throw;
                throw new InvalidOperationException(
                    $"{owner} was elected leader but cannot listen on quorum port {endpoint}: it is still held, most likely by the " +
                    $"previous leader, since {string.Join(" and ", sharing)} use{(sharing.Count == 1 ? "s" : "")} the same quorum port on this host; " +
                    "give each server its own quorum port " +
                    $"(e.g. {string.Join(", ", _options.Peers.Select((p, i) => $"server.{p.Id.Value}={p.Host}:{2888 + i}:{p.ElectionPort}"))})", e);
            }
            _acceptLoop = AcceptLoopAsync(_listener);
        }
    }

    public void StopLeading()
    {
        List<QuorumConnection> connections;
        Socket? listener;
        lock (_gate)
        {
            listener = _listener;
            _listener = null;
            connections = _learners.Values.Concat(_unidentified).ToList();
            _learners.Clear();
            _unidentified.Clear();
        }
        listener?.Dispose();
        foreach (var connection in connections) connection.Close(notify: false);
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted)
            {
                return;
            }
            catch (SocketException e)
            {
                _log.LogWarning("Accepting a learner connection failed: {Reason}", e.Message);
                continue;
            }
            var connection = QuorumConnection.FromLearner(this, _options, _log, socket);
            lock (_gate)
            {
                if (_listener != listener)
                {
                    socket.Dispose();
                    return;
                }
                _unidentified.Add(connection);
            }
            _ = connection.RunAcceptedAsync();
        }
    }

    internal void OnLearnerIdentified(QuorumConnection connection)
    {
        var sid = connection.Peer!.Value;
        QuorumConnection? old;
        lock (_gate)
        {
            if (!_unidentified.Remove(connection)) return;
            _learners.Remove(sid, out old);
            _learners[sid] = connection;
        }
        if (old is not null)
        {
            _log.LogInformation("Learner {Sid} connected again; closing its previous quorum connection", sid);
            old.Close(notify: false);
        }
    }

    internal void OnClosed(QuorumConnection connection, bool notify)
    {
        bool wasCurrent;
        lock (_gate)
        {
            if (connection.IsLearnerSide)
            {
                wasCurrent = _toLeader == connection;
                if (wasCurrent) _toLeader = null;
            }
            else
            {
                _unidentified.Remove(connection);
                wasCurrent = connection.Peer is { } sid && _learners.TryGetValue(sid, out var current) && current == connection;
                if (wasCurrent) _learners.Remove(connection.Peer!.Value);
            }
        }
        if (notify && wasCurrent && connection.Peer is { } peer)
        {
            try
            {
                _disconnected(peer);
            }
            catch (Exception e)
            {
                _log.LogError(e, "The handler of a disconnection from {Peer} failed", peer);
            }
        }
    }

    internal void Deliver(Envelope envelope)
    {
        try
        {
            _deliver(envelope);
        }
        catch (Exception e)
        {
            _log.LogError(e, "The handler of {Message} from {Peer} failed", envelope.Message, envelope.From);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? acceptLoop;
        lock (_gate)
        {
            _disposed = true;
            acceptLoop = _acceptLoop;
        }
        StopLeading();
        CloseLeaderConnection();
        if (acceptLoop is not null) await acceptLoop.ConfigureAwait(false);
    }
}
