using Microsoft.Extensions.Logging.Abstractions;
using Warden.Data;
using Warden.Protocol;
using Warden.Server.Processing;
using Warden.Server.Replication;

namespace Warden.Server.Tests.Core;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTime : TimeProvider
{
    private long _ticks = TimeSpan.FromHours(1).Ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override long GetTimestamp() => _ticks;
    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero).AddTicks(_ticks);
    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}

/// <summary>A replicator that holds proposals until the test commits them, to observe pipelining.</summary>
internal sealed class HeldReplicator : IReplicator
{
    private Action<TxnHeaderAndBody>? _commit;
    public Queue<TxnHeaderAndBody> Held { get; } = new();
    public void Start(Action<TxnHeaderAndBody> onCommitted) => _commit = onCommitted;
    public void Propose(TxnHeaderAndBody txn) => Held.Enqueue(txn);

    public void CommitAll()
    {
        while (Held.TryDequeue(out var txn)) _commit!(txn);
    }

    /// <summary>Commits the oldest held txn only.</summary>
    public void CommitNext() => _commit!(Held.Dequeue());

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A decoded frame the server sent: a connect response, a reply or a watch event.</summary>
internal sealed record SentFrame(byte[] Bytes)
{
    public ReplyHeader Header
    {
        get
        {
            var reader = new JuteReader(Bytes.AsSpan(4));
            return ReplyHeader.Read(ref reader);
        }
    }

    public T Body<T>(JuteRead<T> read)
    {
        var reader = new JuteReader(Bytes.AsSpan(4 + ReplyHeader.WireSize));
        return read(ref reader);
    }

    public ConnectResponse AsConnectResponse()
    {
        var reader = new JuteReader(Bytes.AsSpan(4));
        return ConnectResponse.Read(ref reader);
    }
}

internal delegate T JuteRead<T>(ref JuteReader reader);

internal sealed class FakeConnection(string address = "127.0.0.1") : IClientConnection
{
    private static long _next;
    public long ConnectionId { get; } = Interlocked.Increment(ref _next);
    public string RemoteAddress { get; } = address;
    public ConnectionState State { get; } = new();
    public List<SentFrame> Sent { get; } = [];
    public string? ClosedBecause { get; private set; }
    public int Completed { get; private set; }

    public void Send(byte[] frame)
    {
        lock (Sent) Sent.Add(new SentFrame(frame));
    }

    public void Close(string reason) => ClosedBecause ??= reason;
    public void RequestCompleted() => Completed++;

    public void Process(WatchedEvent watchedEvent)
    {
        using var writer = new JuteWriter();
        writer.BeginFrame();
        new ReplyHeader(Xids.Notification, -1, 0).Write(writer);
        new WatcherEvent(watchedEvent.Type, watchedEvent.State, watchedEvent.Path).Write(writer);
        writer.EndFrame();
        Send(writer.ToArray());
    }

    public List<SentFrame> Replies => Sent.Skip(1).Where(f => f.Header.Xid != Xids.Notification).ToList();
    public List<WatcherEvent> Events => Sent.Skip(1).Where(f => f.Header.Xid == Xids.Notification).Select(f => f.Body(WatcherEvent.Read)).ToList();
}

/// <summary>Runs a ServerCore on its loop and lets tests talk to it as clients would.</summary>
internal sealed class CoreHarness : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _xid;

    public CoreHarness(ServerSettings? settings = null, IReplicator? replicator = null)
    {
        Replicator = replicator ?? new InMemoryReplicator();
        Core = new ServerCore(settings ?? new ServerSettings(), Replicator, Time, NullLogger.Instance);
        _loop = Task.Run(() => Core.RunAsync(_stop.Token));
    }

    public ManualTime Time { get; } = new();
    public ServerCore Core { get; }
    public IReplicator Replicator { get; }

    /// <summary>Waits until the loop has handled everything posted so far, commits included.</summary>
    public async Task SettleAsync()
    {
        for (int round = 0; round < 100; round++)
        {
            // Nothing queued behind this query either: a txn the loop proposed on its own (a session expiry) is not an
            // outstanding request, and its commit may already wait in the queue.
            bool idle = await Core.QueryAsync(() => Core.OutstandingRequests == 0 && !Core.HasQueuedWork).WaitAsync(TimeSpan.FromSeconds(10));
            if (idle && Replicator is not HeldReplicator) return;
            if (Replicator is HeldReplicator held && held.Held.Count == Core.OutstandingRequests) return;
        }
        throw new TimeoutException("the loop did not settle");
    }

    public async Task<FakeConnection> ConnectAsync(int timeoutMs = 30000, long sessionId = 0, byte[]? password = null)
    {
        var connection = new FakeConnection();
        Core.Post(new ConnectWork(connection, new ConnectRequest(0, 0, timeoutMs, sessionId, password ?? new byte[16], false)));
        await SettleAsync();
        return connection;
    }

    public int Send(FakeConnection connection, OpCode type, IJuteRecord? body)
    {
        int xid = Interlocked.Increment(ref _xid);
        SendRaw(connection, xid, type, body);
        return xid;
    }

    public void SendRaw(FakeConnection connection, int xid, OpCode type, IJuteRecord? body)
    {
        using var writer = new JuteWriter();
        body?.Write(writer);
        Core.Post(new RequestWork(connection, xid, type, writer.ToArray(), 0));
    }

    public async Task<SentFrame> CallAsync(FakeConnection connection, OpCode type, IJuteRecord? body)
    {
        int xid = Send(connection, type, body);
        await SettleAsync();
        return connection.Replies.Last(r => r.Header.Xid == xid || (type == OpCode.Ping && r.Header.Xid == Xids.Ping));
    }

    public static CreateRequest Create(string path, string data = "", CreateMode mode = CreateMode.Persistent) =>
        new(path, System.Text.Encoding.UTF8.GetBytes(data), [.. Acl.OpenUnsafe], (int)mode);

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop;
    }
}
