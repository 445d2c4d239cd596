using Warden.Protocol;

namespace Warden.Client;

internal delegate T ResponseReader<T>(ref JuteReader reader);

/// <summary>A watch to register when the reply comes, so it exists before the caller sees the result.</summary>
/// <param name="OnSuccess">The table to join when the request succeeds (null: none).</param>
/// <param name="OnNoNode">The table to join when the node is missing: exists leaves a watch for its creation.</param>
internal sealed record WatchRegistration(WatchRegistry Registry, string ClientPath, WatchSink Sink, WatchKind? OnSuccess, WatchKind? OnNoNode)
{
    public void Apply(ErrorCode code)
    {
        var kind = code == ErrorCode.Ok ? OnSuccess : code == ErrorCode.NoNode ? OnNoNode : null;
        if (kind is { } table) Registry.Add(table, ClientPath, Sink);
    }
}

/// <summary>
/// A request on its way: its encoded frame (the xid is filled in when it is written, so xids rise in the
/// order requests reach the wire), and what to do with the reply.
/// </summary>
internal abstract class PendingRequest
{
    private int _finished;
    private readonly SemaphoreSlim _slots;

    protected PendingRequest(byte[] frame, OpCode op, string? clientPath, WatchRegistration? watch, SemaphoreSlim slots)
    {
        Frame = frame;
        Op = op;
        ClientPath = clientPath;
        Watch = watch;
        _slots = slots;
    }

    public byte[] Frame { get; }
    public OpCode Op { get; }
    public string? ClientPath { get; }
    public WatchRegistration? Watch { get; }
    public int Xid { get; set; }

    /// <summary>The caller stopped waiting before the request was written: it need not be sent.</summary>
    public abstract bool IsAbandoned { get; }

    /// <summary>Handles the reply; the body reader is positioned after the reply header.</summary>
    public void Complete(ReplyHeader header, ref JuteReader body)
    {
        var code = (ErrorCode)header.Err;
        try
        {
            if (code != ErrorCode.Ok)
            {
                Watch?.Apply(code);
                SetException(new ZooKeeperException(code, ClientPath));
                return;
            }
            SetResult(ref body);
            // Registered after the body decoded cleanly, before the caller can observe the result.
            Watch?.Apply(code);
        }
        catch (JuteException error)
        {
            SetException(new ZooKeeperException(ErrorCode.MarshallingError, ClientPath, error.Message, error));
        }
        finally
        {
            Finish();
        }
    }

    public void Fail(Exception error)
    {
        SetException(error);
        Finish();
    }

    /// <summary>Releases the outstanding-request slot exactly once, whichever way the request ends.</summary>
    public void Finish()
    {
        if (Interlocked.Exchange(ref _finished, 1) == 0) _slots.Release();
    }

    protected abstract void SetResult(ref JuteReader body);
    protected abstract void SetException(Exception error);
}

internal sealed class PendingRequest<T> : PendingRequest
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ResponseReader<T> _reader;

    public PendingRequest(byte[] frame, OpCode op, string? clientPath, WatchRegistration? watch, SemaphoreSlim slots, ResponseReader<T> reader)
        : base(frame, op, clientPath, watch, slots)
    {
        _reader = reader;
    }

    public Task<T> Task => _completion.Task;
    public override bool IsAbandoned => _completion.Task.IsCompleted;

    public void Cancel(CancellationToken token) => _completion.TrySetCanceled(token);

    protected override void SetResult(ref JuteReader body) => _completion.TrySetResult(_reader(ref body));
    protected override void SetException(Exception error) => _completion.TrySetException(error);
}

/// <summary>An addAuth waiting for its reply, which Apache sends ahead of replies to earlier requests.</summary>
internal sealed class AuthWaiter
{
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public Task Task => _completion.Task;
    public void Complete(ErrorCode code)
    {
        if (code == ErrorCode.Ok) _completion.TrySetResult();
        else _completion.TrySetException(new ZooKeeperException(code, null, "addAuth was refused"));
    }
    public void Fail(Exception error) => _completion.TrySetException(error);
}

/// <summary>One packet for the connection's writer: a request, an auth packet or a ping.</summary>
internal sealed record OutgoingPacket(byte[] Frame, PendingRequest? Request, AuthWaiter? Auth);
