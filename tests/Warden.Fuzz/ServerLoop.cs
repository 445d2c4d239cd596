using Microsoft.Extensions.Logging.Abstractions;
using Warden.Data;
using Warden.Protocol;
using Warden.Server;
using Warden.Server.Processing;
using Warden.Server.Replication;
using Warden.Server.Sessions;

namespace Warden.Fuzz;

/// <summary>
/// A standalone server loop in memory, stepped by hand, with one client session and a few nodes, for the
/// server-request target. Each fuzzing thread has its own; it starts afresh every few thousand inputs so that what
/// the inputs create does not pile up.
/// </summary>
internal sealed class ServerLoop
{
    private const int InputsPerLoop = 2000;
    private const string UnexpectedError = "unexpected server error";

    [ThreadStatic] private static ServerLoop? _current;
    private readonly ServerCore _core;
    private Connection _connection;
    private int _inputs;
    private int _xid;

    private ServerLoop()
    {
        _core = new ServerCore(new ServerSettings { ExtendedTypesEnabled = true }, new InMemoryReplicator(), TimeProvider.System,
            NullLogger.Instance);
        _connection = Connect();
        var acl = new List<Acl>(Acl.OpenUnsafe);
        foreach (var path in new[] { "/a", "/a/b", "/c" }) Send(OpCode.Create, Encode(new CreateRequest(path, [1, 2, 3], acl, 0)));
    }

    public static ServerLoop Current
    {
        get
        {
            if (_current is null || _current._inputs >= InputsPerLoop) _current = new ServerLoop();
            return _current;
        }
    }

    private static byte[] Encode(IJuteRecord record)
    {
        using var writer = new JuteWriter();
        record.Write(writer);
        return writer.ToArray();
    }

    private Connection Connect()
    {
        var connection = new Connection();
        _core.Post(new ConnectWork(connection, new ConnectRequest(0, 0, 30000, 0, new byte[16], false)));
        RunUntilQuiet();
        return connection;
    }

    /// <summary>Sends one request and runs the loop until it is quiet; throws if the loop failed on it.</summary>
    public void Send(OpCode type, byte[] body)
    {
        _inputs++;
        _core.Post(new RequestWork(_connection, ++_xid, type, body, _core.MonotonicNowMs));
        RunUntilQuiet();
        if (_connection.ClosedBecause is { } reason)
        {
            if (reason.Contains(UnexpectedError, StringComparison.Ordinal))
            {
                _current = null;
                throw new InvalidOperationException($"the server loop closed the connection with '{reason}' on a {type} request");
            }
            // A clear refusal (a bad session, an auth failure, closeSession): go on with a new session.
            _connection = Connect();
        }
    }

    private void RunUntilQuiet()
    {
        for (int round = 0; round < 1000 && _core.RunPending() > 0; round++)
        {
        }
    }

    private sealed class Connection : IClientConnection
    {
        private static long _next;
        public long ConnectionId { get; } = Interlocked.Increment(ref _next);
        public string RemoteAddress => "127.0.0.1";
        public ConnectionState State { get; } = new();
        public string? ClosedBecause { get; private set; }
        public void Send(byte[] frame) { }
        public void Close(string reason) => ClosedBecause ??= reason;
        public void RequestCompleted() { }
        public void Process(WatchedEvent watchedEvent) { }
    }
}
