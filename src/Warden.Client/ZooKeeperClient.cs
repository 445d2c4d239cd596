using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Warden.Protocol;

namespace Warden.Client;

/// <summary>
/// An asynchronous ZooKeeper client for Apache ZooKeeper 3.5+ and Warden. One instance is one session:
/// it connects to one of the servers of its connect string, moves to another when the connection breaks
/// (resuming the session with its id and password, and restoring its watches), and reports the session's
/// expiry as <see cref="ConnectionState.Expired"/>. Thread-safe; share one per application.
/// </summary>
public sealed partial class ZooKeeperClient : IAsyncDisposable, IConnectionOwner
{
    private readonly ZooKeeperClientOptions _options;
    private readonly ConnectionString _connectString;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Channel<OutgoingPacket> _outgoing = Channel.CreateUnbounded<OutgoingPacket>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _slots;
    private readonly WatchRegistry _watches = new();
    private readonly EventDispatcher _dispatcher;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _stateGate = new();
    private readonly List<(ConnectionState Wanted, TaskCompletionSource Waiter)> _stateWaiters = [];
    private readonly List<(string Scheme, byte[]? Auth)> _authInfo = [];
    private readonly Task _sessionLoop;
    private ConnectionState _state = ConnectionState.Connecting;
    private Connection? _connection;
    private long _sessionId;
    private byte[] _password = new byte[16];
    private long _lastZxid;
    private int _nextXid = 1;
    private int _negotiatedTimeoutMs;
    private bool _closing;

    /// <summary>Creates the client and starts connecting in the background; see <see cref="ConnectAsync(ZooKeeperClientOptions, ILogger?, CancellationToken)"/>.</summary>
    public ZooKeeperClient(IOptions<ZooKeeperClientOptions> options, ILogger<ZooKeeperClient>? logger = null)
        : this(options.Value, logger, TimeProvider.System)
    {
    }

    internal ZooKeeperClient(ZooKeeperClientOptions options, ILogger? logger, TimeProvider time)
    {
        options.Validate();
        _options = options;
        _connectString = ConnectionString.Parse(options.ConnectString);
        _logger = logger ?? NullLogger.Instance;
        _time = time;
        _random = options.HostOrderSeed is { } seed ? new Random(seed) : new Random();
        _slots = new SemaphoreSlim(options.MaxOutstandingRequests, options.MaxOutstandingRequests);
        _dispatcher = new EventDispatcher(error => _logger.LogError(error, "a watch or state callback threw"));
        _sessionLoop = Task.Run(RunSessionAsync);
    }

    /// <summary>Creates a client and waits until its session is established.</summary>
    public static async Task<ZooKeeperClient> ConnectAsync(ZooKeeperClientOptions options, ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        var client = new ZooKeeperClient(options, logger, TimeProvider.System);
        try
        {
            await client.WaitForConnectedAsync(cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates a client for a connect string (<c>h1:2181,h2:2181/chroot</c>) and waits until it is connected.</summary>
    public static Task<ZooKeeperClient> ConnectAsync(string connectString, TimeSpan? sessionTimeout = null,
        CancellationToken cancellationToken = default) =>
        ConnectAsync(new ZooKeeperClientOptions
        {
            ConnectString = connectString,
            SessionTimeout = sessionTimeout ?? TimeSpan.FromSeconds(30),
        }, null, cancellationToken);

    /// <summary>Raised on the client's event dispatcher, in order, for every change of <see cref="State"/>.</summary>
    public event EventHandler<ConnectionStateChange>? StateChanged;

    /// <summary>
    /// Raised on the client's event dispatcher for each failed attempt to connect to a server (refused, timed out,
    /// name not found, handshake refused), so that a front end can say why it is still connecting.
    /// </summary>
    public event EventHandler<ConnectionAttemptFailure>? ConnectionAttemptFailed;

    /// <summary>
    /// Completes once every watch callback and state-change handler queued so far has run. A caller that awaits
    /// it after a reply has seen every event the server sent before that reply.
    /// </summary>
    public Task WhenEventsDeliveredAsync()
    {
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_dispatcher.TryPost(() => delivered.TrySetResult())) delivered.TrySetResult();
        return delivered.Task;
    }

    private void OnConnectionAttemptFailed(HostAddress server, Exception error, int failedInARow)
    {
        var failure = new ConnectionAttemptFailure(server, error, failedInARow);
        _dispatcher.Post(() => ConnectionAttemptFailed?.Invoke(this, failure));
    }

    public ConnectionState State
    {
        get { lock (_stateGate) return _state; }
    }

    /// <summary>The session id (0 before the first connection).</summary>
    public SessionId SessionId => new(Interlocked.Read(ref _sessionId));

    /// <summary>The session password the server issued, needed to resume the session from another client.</summary>
    public ReadOnlyMemory<byte> SessionPassword => _password;

    /// <summary>The session timeout the server granted.</summary>
    public TimeSpan SessionTimeout => TimeSpan.FromMilliseconds(Volatile.Read(ref _negotiatedTimeoutMs));

    /// <summary>The newest zxid seen in a reply: the session never reads an older view than this.</summary>
    public Zxid LastZxidSeen => new(Interlocked.Read(ref _lastZxid));

    /// <summary>The server currently connected to, if any.</summary>
    public HostAddress? CurrentServer => Volatile.Read(ref _connection)?.Server;

    /// <summary>The chroot every path is relative to, or null.</summary>
    public string? Chroot => _connectString.Chroot;

    /// <summary>Waits until the client is connected; fails at once if the session is over.</summary>
    public Task WaitForConnectedAsync(CancellationToken cancellationToken = default) =>
        WaitForStateAsync(ConnectionState.Connected, cancellationToken);

    /// <summary>
    /// Waits until the client reaches <paramref name="wanted"/> (Connected also accepts ConnectedReadOnly).
    /// Fails with a <see cref="ZooKeeperException"/> when a terminal state other than the one wanted is reached.
    /// </summary>
    public async Task WaitForStateAsync(ConnectionState wanted, CancellationToken cancellationToken = default)
    {
        TaskCompletionSource waiter;
        lock (_stateGate)
        {
            if (Satisfies(_state, wanted)) return;
            if (_state.IsTerminal()) throw TerminalError(_state);
            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _stateWaiters.Add((wanted, waiter));
        }
        await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static bool Satisfies(ConnectionState state, ConnectionState wanted) =>
        state == wanted || (wanted == ConnectionState.Connected && state == ConnectionState.ConnectedReadOnly);

    private static ZooKeeperException TerminalError(ConnectionState state) => state switch
    {
        ConnectionState.Expired => new ZooKeeperException(ErrorCode.SessionExpired, null),
        ConnectionState.AuthFailed => new ZooKeeperException(ErrorCode.AuthFailed, null),
        _ => new ZooKeeperException(ErrorCode.ConnectionLoss, null, "the client is closed"),
    };

    private void SetState(ConnectionState next, HostAddress? server)
    {
        ConnectionState previous;
        var wake = new List<TaskCompletionSource>();
        var fail = new List<TaskCompletionSource>();
        lock (_stateGate)
        {
            previous = _state;
            if (previous == next || previous.IsTerminal()) return;
            _state = next;
            for (int i = _stateWaiters.Count - 1; i >= 0; i--)
            {
                var (wanted, waiter) = _stateWaiters[i];
                if (Satisfies(next, wanted)) wake.Add(waiter);
                else if (next.IsTerminal()) fail.Add(waiter);
                else continue;
                _stateWaiters.RemoveAt(i);
            }
        }
        _logger.LogInformation("ZooKeeper session {SessionId}: {Previous} -> {Current} ({Server})", SessionId, previous, next, server);
        foreach (var waiter in wake) waiter.TrySetResult();
        foreach (var waiter in fail) waiter.TrySetException(TerminalError(next));
        var change = new ConnectionStateChange(previous, next, server);
        _dispatcher.Post(() => StateChanged?.Invoke(this, change));
    }

    int IConnectionOwner.NextXid()
    {
        // Only the single active writer loop calls this; xid 0 and the negative reserved ones are skipped on wrap.
        int xid = _nextXid++;
        if (_nextXid <= 0) _nextXid = 1;
        return xid;
    }

    void IConnectionOwner.OnReplyZxid(long zxid)
    {
        long seen;
        while (zxid > (seen = Interlocked.Read(ref _lastZxid)))
        {
            if (Interlocked.CompareExchange(ref _lastZxid, zxid, seen) == seen) break;
        }
    }

    void IConnectionOwner.OnNotification(WatcherEvent notification)
    {
        string? path = notification.Path is { Length: > 0 } serverPath ? _connectString.ToClientPath(serverPath) : null;
        var watchedEvent = new WatchedEvent(notification.Type, notification.State, path);
        _logger.LogDebug("watch event {Event}", watchedEvent);
        _watches.Dispatch(watchedEvent);
    }

    void IConnectionOwner.OnAuthFailed()
    {
        _logger.LogWarning("the server refused the client's credentials; the client stops");
        EndSession(ConnectionState.AuthFailed, new ZooKeeperException(ErrorCode.AuthFailed, null));
    }

    /// <summary>Moves to a terminal state: every waiting request and watch hears why, and the loop stops.</summary>
    private void EndSession(ConnectionState terminal, ZooKeeperException? error)
    {
        SetState(terminal, CurrentServer);
        var reason = error ?? new ZooKeeperException(ErrorCode.ConnectionLoss, null, "the client was closed");
        _outgoing.Writer.TryComplete();
        FailQueued(reason);
        _watches.EndAll(error);
        _stopping.Cancel();
    }

    /// <summary>Fails requests that were queued but never written.</summary>
    private void FailQueued(Exception reason)
    {
        while (_outgoing.Reader.TryRead(out var packet))
        {
            packet.Request?.Fail(reason);
            packet.Auth?.Fail(reason);
        }
    }

    private static void FailInFlight(Connection connection, Exception reason)
    {
        while (connection.InFlight.TryDequeue(out var request)) request.Fail(reason);
        while (connection.AuthInFlight.TryDequeue(out var waiter)) waiter?.Fail(reason);
    }
}
