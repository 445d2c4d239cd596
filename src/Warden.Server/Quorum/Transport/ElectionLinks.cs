using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Warden.Consensus;
using Warden.Consensus.Wire;

namespace Warden.Server.Quorum.Transport;

/// <summary>
/// The election port, as Apache's QuorumCnxManager runs it: at most one link per peer, kept only when the dialler
/// has the higher sid. A lower-sid dialler sends its handshake and hangs up; the acceptor then dials it back. Each
/// peer has a one-message send slot (a newer notification displaces an unsent one) and remembers the last message
/// sent, which a new link re-sends. Messages to oneself loop back without a socket.
/// </summary>
internal sealed class ElectionLinks : IAsyncDisposable
{
    private readonly QuorumTransportOptions _options;
    private readonly ILogger _log;
    private readonly Action<Envelope> _deliver;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<ServerId, ElectionLink> _links = new();
    private readonly Dictionary<ServerId, byte[]> _pending = new();
    private readonly Dictionary<ServerId, byte[]> _lastSent = new();
    private readonly HashSet<ServerId> _dialing = new();
    private readonly ConcurrentDictionary<ServerId, (string Host, int Port)> _advertised = new();
    private readonly ConcurrentDictionary<ServerId, string> _problems = new();
    private readonly ConcurrentDictionary<ServerId, ServerId> _wrongServerAt = new();
    private readonly ConcurrentDictionary<ServerId, string> _configSeen = new();

    // Apache's receive queue holds 100 and drops the oldest; the loopback queue follows the same rule.
    private readonly Channel<Notification> _loopback = System.Threading.Channels.Channel.CreateBounded<Notification>(new BoundedChannelOptions(100)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });
    private readonly byte[] _hello;
    private Socket? _listener;
    private Task? _acceptLoop;
    private Task? _loopbackLoop;
    private long _nextObserverId;

    public ElectionLinks(QuorumTransportOptions options, ILogger log, Action<Envelope> deliver)
    {
        _options = options;
        _log = log;
        _deliver = deliver;
        _hello = ElectionHandshake.Encode(options.Self, options.SelfAddress.ElectionAddressText);
    }

    public IPEndPoint? LocalEndPoint => _listener?.LocalEndPoint as IPEndPoint;

    /// <summary>Called when the link to a peer closes, or dialling it fails (not when a newer link replaces one).</summary>
    public Action<ServerId>? LinkDown { get; init; }

    public IReadOnlyDictionary<ServerId, string> Problems => new Dictionary<ServerId, string>(_problems);

    public void Start()
    {
        var self = _options.SelfAddress;
        _listener = HostPort.Listen(HostPort.BindEndpoint(self.Host, self.ElectionPort, _options.ListenOnAllIPs, $"server.{_options.Self.Value}"), "election", $"server.{_options.Self.Value}");
        _acceptLoop = AcceptLoopAsync(_listener);
        _loopbackLoop = LoopbackLoopAsync();
    }

    /// <summary>Queues a notification for a peer, displacing an unsent one, and dials if there is no link. Never blocks.</summary>
    public void Send(ServerId to, Notification notification)
    {
        if (to == _options.Self)
        {
            _loopback.Writer.TryWrite(notification);
            return;
        }
        var bytes = notification.Encode();
        ElectionLink? link;
        lock (_gate)
        {
            _pending[to] = bytes;
            _links.TryGetValue(to, out link);
        }
        if (link is not null) link.Wake();
        else Dial(to);
    }

    /// <summary>Dials every configured peer that has no link (Apache's connectAll).</summary>
    public void ConnectAll()
    {
        foreach (var peer in _options.Peers)
        {
            if (peer.Id != _options.Self) Dial(peer.Id);
        }
    }

    internal byte[]? TakePending(ServerId peer)
    {
        lock (_gate)
        {
            return _pending.Remove(peer, out var message) ? message : null;
        }
    }

    internal byte[]? LastSent(ServerId peer)
    {
        lock (_gate)
        {
            return _lastSent.GetValueOrDefault(peer);
        }
    }

    internal void RecordSent(ServerId peer, byte[] message)
    {
        lock (_gate) _lastSent[peer] = message;
    }

    internal void OnNotification(ServerId from, Notification notification)
    {
        if (from != _options.Self && notification.Config.Length > 0) CompareServerLists(from, notification.Config);
        Deliver(new Envelope(from, _options.Self, Warden.Consensus.Channel.Election, new ElectionMessage(notification)));
    }

    /// <summary>
    /// Every notification carries the sender's server list (Apache's QuorumVerifier text). A member whose list differs
    /// elects with other numbers and addresses than this one, which shows up only as an election that never ends;
    /// say once per sender and list how the two differ.
    /// </summary>
    private void CompareServerLists(ServerId from, byte[] config)
    {
        string text = System.Text.Encoding.UTF8.GetString(config);
        if (_configSeen.TryGetValue(from, out var seen) && seen == text) return;
        _configSeen[from] = text;
        var theirs = ServerLines(text);
        if (theirs.Count == 0) return;
        var ours = _options.Peers.ToDictionary(p => p.Id.Value, p => (p.Host, p.QuorumPort, p.ElectionPort));
        var differences = new List<string>();
        foreach (var (id, line) in theirs.OrderBy(t => t.Key))
        {
            if (!ours.TryGetValue(id, out var mine)) differences.Add($"it has server.{id}={line.Text}, which this server does not");
            else if (mine.QuorumPort != line.QuorumPort || mine.ElectionPort != line.ElectionPort || !SameHost(mine.Host, line.Host))
            {
                differences.Add($"it has server.{id}={line.Text} where this server has {HostPort.Format(mine.Host, mine.QuorumPort)}:{mine.ElectionPort}");
            }
        }
        foreach (var id in ours.Keys.Where(id => !theirs.ContainsKey(id)).Order())
        {
            differences.Add($"it has no server.{id}");
        }
        if (differences.Count == 0) return;
        _log.LogWarning("server.{Peer}'s server list differs from this server's: {Differences}; give every member the same server.N lines",
            from.Value, string.Join("; ", differences));
    }

    /// <summary>The server.N lines of a QuorumVerifier text: server.N=host:quorumPort:electionPort[:role][;client].</summary>
    private static Dictionary<long, (string Text, string Host, int QuorumPort, int ElectionPort)> ServerLines(string text)
    {
        var lines = new Dictionary<long, (string, string, int, int)>();
        foreach (var raw in text.Split('\n'))
        {
            int equals = raw.IndexOf('=');
            if (!raw.StartsWith("server.", StringComparison.Ordinal) || equals < 0) continue;
            if (!long.TryParse(raw.AsSpan(7, equals - 7), System.Globalization.CultureInfo.InvariantCulture, out long id)) continue;
            string value = raw[(equals + 1)..];
            string address = value.Split(';')[0];
            // host:quorum:election[:role], the host possibly an IPv6 literal in brackets.
            var parts = address.StartsWith('[') ? SplitBracketed(address) : address.Split(':');
            if (parts.Length < 3 || !int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out int quorum)
                || !int.TryParse(parts[2], System.Globalization.CultureInfo.InvariantCulture, out int election)) continue;
            lines[id] = (address, parts[0], quorum, election);
        }
        return lines;
    }

    private static string[] SplitBracketed(string address)
    {
        int close = address.IndexOf(']');
        if (close < 0) return [];
        return [address[1..close], .. address[(close + 1)..].TrimStart(':').Split(':')];
    }

    internal void OnLinkClosed(ElectionLink link)
    {
        bool wasCurrent;
        lock (_gate)
        {
            wasCurrent = _links.TryGetValue(link.Peer, out var current) && current == link;
            if (wasCurrent) _links.Remove(link.Peer);
        }
        if (wasCurrent && !_stopping.IsCancellationRequested) LinkDown?.Invoke(link.Peer);
    }

    private void Deliver(Envelope envelope)
    {
        try
        {
            _deliver(envelope);
        }
        catch (Exception e)
        {
            _log.LogError(e, "The handler of a notification from {Peer} failed", envelope.From);
        }
    }

    private async Task LoopbackLoopAsync()
    {
        try
        {
            await foreach (var notification in _loopback.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                OnNotification(_options.Self, notification);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                _log.LogWarning("Accepting an election connection failed: {Reason}", e.Message);
                continue;
            }
            socket.NoDelay = true;
            _ = HandleAcceptedAsync(socket);
        }
    }

    private async Task HandleAcceptedAsync(Socket socket)
    {
        var remote = socket.RemoteEndPoint?.ToString() ?? "unknown";
        // With sslQuorum or portUnification the connection may first need a TLS handshake (refusals are logged there).
        var stream = await _options.Security.AcceptAsync(socket, "election", _options.SyncLimitMs, ownsSocket: true, _stopping.Token).ConfigureAwait(false);
        if (stream is null) return;
        ElectionHello hello;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            // The handshake must arrive within tickTime*syncLimit, as Apache's SO_TIMEOUT on a fresh socket.
            timeout.CancelAfter(_options.SyncLimitMs);
            hello = await ElectionHandshake.ReadAsync(stream, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ElectionHandshakeException or IOException or SocketException or EndOfStreamException
                                      or OperationCanceledException or ObjectDisposedException)
        {
            var reason = e is OperationCanceledException ? $"no handshake within {_options.SyncLimitMs} ms" : e.Message;
            if (!_stopping.IsCancellationRequested)
            {
                _log.LogWarning("Closing election connection from {Remote}: {Reason}", remote, reason);
            }
            await stream.DisposeAsync().ConfigureAwait(false);
            return;
        }
        var sid = hello.Sid;
        if (sid.Value == ElectionHandshake.ObserverId)
        {
            // Apache gives a dialler that does not know its sid a temporary negative one.
            sid = new ServerId(Interlocked.Decrement(ref _nextObserverId));
        }
        if (hello.Addresses.Count > 0)
        {
            _advertised[sid] = hello.Addresses[0];
            NoteWrongServerAt(sid, hello.Addresses[0]);
        }
        if (sid == _options.Self)
        {
            _log.LogWarning("Closing an election connection from {Remote} that claims this server's own id {Sid}", remote, sid);
            stream.Dispose();
            return;
        }
        if (_options.Find(sid) is null)
        {
            _log.LogInformation("Election connection from {Sid} at {Remote}, which is not in this server's configuration", sid, remote);
        }
        if (sid.Value < _options.Self.Value)
        {
            // Only a higher-sid dialler keeps its connection: drop this one and any old link, and dial back.
            stream.Dispose();
            ElectionLink? old;
            lock (_gate) _links.Remove(sid, out old);
            old?.Close();
            Dial(sid);
            return;
        }
        Register(sid, stream);
    }

    /// <summary>
    /// A server that says it is <paramref name="sid"/> but listens where this server's configuration puts another
    /// server: the other server cannot be reached there, and the reason is a myid or server.N line that disagrees.
    /// </summary>
    private void NoteWrongServerAt(ServerId sid, (string Host, int Port) advertised)
    {
        foreach (var peer in _options.Peers)
        {
            if (peer.Id == sid || peer.Id == _options.Self || peer.ElectionPort != advertised.Port) continue;
            if (!SameHost(peer.Host, advertised.Host)) continue;
            _wrongServerAt[peer.Id] = sid;
            _problems[peer.Id] = WrongServerText(sid);
        }
    }

    private static string WrongServerText(ServerId answering) =>
        $"server.{answering.Value} answers at that address (server.{answering.Value}'s myid, or its server.N lines, disagree with this server's zoo.cfg)";

    private static bool SameHost(string a, string b)
    {
        static string Key(string host)
        {
            string h = host.Trim('[', ']').ToLowerInvariant();
            return h is "localhost" or "::1" || h.StartsWith("127.", StringComparison.Ordinal) ? "loopback" : h;
        }
        return Key(a) == Key(b);
    }

    private void Register(ServerId sid, Stream stream)
    {
        var link = new ElectionLink(this, sid, stream, _log);
        ElectionLink? old;
        lock (_gate)
        {
            if (_stopping.IsCancellationRequested)
            {
                stream.Dispose();
                return;
            }
            _links.Remove(sid, out old);
            _links[sid] = link;
        }
        old?.Close();
        _problems.TryRemove(sid, out _);
        _wrongServerAt.TryRemove(sid, out _);
        _log.LogDebug("Election link with {Sid} is up", sid);
        link.Start();
    }

    private void Dial(ServerId sid)
    {
        lock (_gate)
        {
            if (_stopping.IsCancellationRequested || _links.ContainsKey(sid) || !_dialing.Add(sid)) return;
        }
        _ = DialAsync(sid);
    }

    private async Task DialAsync(ServerId sid)
    {
        string where = "?";
        Socket? socket = null;
        bool failed = true;
        Stream? stream = null;
        try
        {
            var configured = _options.Find(sid);
            (string Host, int Port) target;
            if (configured is not null) target = (configured.Host, configured.ElectionPort);
            else if (!_advertised.TryGetValue(sid, out target))
            {
                _problems[sid] = "no election address is known for it (not in the configuration and it never connected)";
                return;
            }
            where = HostPort.Format(target.Host, target.Port);
            var address = IPAddress.TryParse(target.Host, out var literal)
                ? literal
                : (await Dns.GetHostAddressesAsync(target.Host, _stopping.Token).ConfigureAwait(false)).First();
            socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                timeout.CancelAfter(_options.ConnectTimeoutMs);
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(address, target.Port), timeout.Token).ConfigureAwait(false);
                    // With sslQuorum the TLS handshake comes first, then the election header, as Apache's initiateConnection.
                    var (opened, problem) = await _options.Security.DialAsync(socket, target.Host, "election", $"server.{sid.Value}", ownsSocket: true, timeout.Token)
                        .ConfigureAwait(false);
                    if (opened is null)
                    {
                        _problems[sid] = problem!;
                        socket = null;
                        return;
                    }
                    stream = opened;
                    socket = null;
                    await stream.WriteAsync(_hello, timeout.Token).ConfigureAwait(false);
                    await stream.FlushAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
                {
                    _problems[sid] = $"timed out after {_options.ConnectTimeoutMs} ms (a firewall, or a host that is down)";
                    return;
                }
            }
            failed = false;
            if (sid.Value > _options.Self.Value)
            {
                // The higher sid keeps only connections it dialled itself: hang up and wait for it to dial back.
                lock (_gate)
                {
                    if (!_links.ContainsKey(sid))
                    {
                        _problems[sid] = _wrongServerAt.TryGetValue(sid, out var answering) ? WrongServerText(answering) : "answers, but has not connected back (a higher id connects back; if this stays, " +
                                         "its zoo.cfg does not list this server's election address as this one does)";
                    }
                }
                return;
            }
            Register(sid, stream);
            stream = null;
        }
        catch (SocketException e)
        {
            _problems[sid] = e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused (is it running?)",
                SocketError.HostNotFound or SocketError.NoData => "the host name does not resolve",
                SocketError.TimedOut => "timed out (a firewall, or a host that is down)",
                _ => $"cannot connect: {e.Message}",
            };
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            if (!_stopping.IsCancellationRequested) _problems[sid] = $"cannot connect to {where}: {e.Message}";
        }
        finally
        {
            socket?.Dispose();
            stream?.Dispose();
            bool linked;
            lock (_gate)
            {
                _dialing.Remove(sid);
                linked = _links.ContainsKey(sid);
            }
            // A dial that failed (refused, timed out, unresolvable) means nothing from that peer can arrive now. A higher
            // sid that answered and will dial back is alive, and is not reported.
            if (failed && !linked && !_stopping.IsCancellationRequested) LinkDown?.Invoke(sid);
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<ElectionLink> links;
        lock (_gate)
        {
            _stopping.Cancel();
            links = _links.Values.ToList();
            _links.Clear();
        }
        _listener?.Dispose();
        foreach (var link in links) link.Close();
        _loopback.Writer.TryComplete();
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        if (_loopbackLoop is not null) await _loopbackLoop.ConfigureAwait(false);
    }
}
