using Microsoft.Extensions.Logging;
using Warden.Protocol;

namespace Warden.Client;

public sealed partial class ZooKeeperClient
{
    /// <summary>Apache's limit on path characters per setWatches packet; larger watch sets go in several.</summary>
    private const int SetWatchesBatchChars = 128 * 1024;

    /// <summary>
    /// The session's life: try the hosts in a shuffled order, one at a time, until one takes the session;
    /// serve requests on that connection until it breaks; repeat until the session ends.
    /// </summary>
    private async Task RunSessionAsync()
    {
        var hosts = _connectString.Hosts.OrderBy(_ => _random.Next()).ToArray();
        int next = 0;
        int failedInARow = 0;
        long disconnectedAt = _time.GetTimestamp();
        var stop = _stopping.Token;
        while (!stop.IsCancellationRequested)
        {
            var host = hosts[next];
            next = (next + 1) % hosts.Length;
            bool established = false;
            try
            {
                established = await ServeOneConnectionAsync(host, () => established = true, stop).ConfigureAwait(false);
            }
            catch (Exception error) when (!stop.IsCancellationRequested)
            {
                _logger.LogInformation("connection to {Server} failed: {Reason}", host, error.Message);
                OnConnectionAttemptFailed(host, error, failedInARow + 1);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                break;
            }
            // A closing client must not take the server's goodbye (it closes the socket after closeSession)
            // for a lost connection and resume the session it is ending.
            if (stop.IsCancellationRequested || State.IsTerminal() || Volatile.Read(ref _closing)) break;
            // Requests queued while no connection could be made would otherwise wait without bound.
            FailQueued(new ZooKeeperException(ErrorCode.ConnectionLoss, null, $"no connection (last tried {host})"));
            if (established)
            {
                failedInARow = 0;
                disconnectedAt = _time.GetTimestamp();
                SetState(ConnectionState.Disconnected, host);
                SetState(ConnectionState.Connecting, null);
                continue;
            }
            if (SessionOutlivedItsTimeout(disconnectedAt)) break;
            if (++failedInARow >= hosts.Length)
            {
                // A whole pass failed: wait a little (randomised, bounded) before the next, so a client
                // fleet does not hammer a recovering ensemble in lockstep.
                failedInARow = 0;
                var pause = TimeSpan.FromMilliseconds(50 + _random.Next(250));
                try
                {
                    await Task.Delay(pause, _time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>
    /// A session no server took back within its whole timeout is expired on the server by now: no server
    /// heard from it for that long. Saying so beats retrying for ever, which is what the client would otherwise
    /// do against a server that refuses the session (one that lost its data refuses a client that saw a newer
    /// zxid). Curator does the same.
    /// </summary>
    private bool SessionOutlivedItsTimeout(long disconnectedAt)
    {
        if (Interlocked.Read(ref _sessionId) == 0) return false;
        var away = _time.GetElapsedTime(disconnectedAt);
        var timeout = SessionTimeout;
        if (away <= timeout) return false;
        _logger.LogWarning("no server resumed session {SessionId} within its {Timeout} ms timeout; treating it as expired", SessionId, timeout.TotalMilliseconds);
        EndSession(ConnectionState.Expired, new ZooKeeperException(ErrorCode.SessionExpired, null,
            $"no server resumed the session within its {timeout.TotalMilliseconds:0} ms timeout"));
        return true;
    }

    /// <summary>One connection from handshake to failure. Returns true if a session was established on it.</summary>
    private async Task<bool> ServeOneConnectionAsync(HostAddress host, Action onEstablished, CancellationToken stop)
    {
        var (connection, response) = await OpenAndHandshakeAsync(host, stop).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            if (response.TimeoutMs <= 0)
            {
                // The server's way of saying the session is gone: a zero timeout and a zero id.
                _logger.LogWarning("session {SessionId} expired (told by {Server})", SessionId, host);
                EndSession(ConnectionState.Expired, new ZooKeeperException(ErrorCode.SessionExpired, null));
                return false;
            }
            Interlocked.Exchange(ref _sessionId, response.SessionId);
            _password = response.Password;
            Volatile.Write(ref _negotiatedTimeoutMs, response.TimeoutMs);
            if (_options.Sasl is { } login && !await LogInAsync(connection, login, host, stop).ConfigureAwait(false)) return false;
            await connection.PrimeAsync(AuthFrames(), SetWatchesFrames(), stop).ConfigureAwait(false);
            Volatile.Write(ref _connection, connection);
            onEstablished();
            SetState(response.ReadOnly ? ConnectionState.ConnectedReadOnly : ConnectionState.Connected, host);
            var readTimeout = TimeSpan.FromMilliseconds(response.TimeoutMs * 2.0 / 3.0);
            var reason = await connection.RunAsync(this, _outgoing.Reader, _outgoing.Writer, readTimeout, stop).ConfigureAwait(false);
            Volatile.Write(ref _connection, null);
            var lost = State.IsTerminal()
                ? TerminalError(State)
                : new ZooKeeperException(ErrorCode.ConnectionLoss, null, reason?.Message);
            FailInFlight(connection, lost);
            if (reason is not null) _logger.LogInformation("connection to {Server} lost: {Reason}", host, reason.Message);
            return true;
        }
    }

    /// <summary>Opens a TCP connection and offers the session, both within the connect timeout.</summary>
    private async Task<(Connection Connection, ConnectResponse Response)> OpenAndHandshakeAsync(HostAddress host, CancellationToken stop)
    {
        var connectTimeout = _options.ConnectTimeout ?? _options.SessionTimeout / _connectString.Hosts.Count;
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop);
        attempt.CancelAfter(connectTimeout);
        Connection connection;
        try
        {
            connection = await Connection.OpenAsync(host, _options.MaxPacketBytes, _time, _logger, attempt.Token, _options.Tls).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            throw new TimeoutException($"no {(_options.Tls is null ? "TCP connection" : "TLS connection")} within {connectTimeout.TotalMilliseconds:0} ms");
        }
        try
        {
            var request = new ConnectRequest(0, Interlocked.Read(ref _lastZxid), (int)_options.SessionTimeout.TotalMilliseconds,
                Interlocked.Read(ref _sessionId), _password, _options.CanBeReadOnly);
            return (connection, await connection.HandshakeAsync(request, attempt.Token).ConfigureAwait(false));
        }
        catch (Exception error)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            if (error is OperationCanceledException && !stop.IsCancellationRequested)
            {
                throw new TimeoutException($"no handshake reply within {connectTimeout.TotalMilliseconds:0} ms");
            }
            throw;
        }
    }

    /// <summary>
    /// Runs the DIGEST-MD5 exchange on a new connection, within the connect timeout, before anything else is
    /// sent. Returns false when the server refused it (AUTHFAILED, or it dropped the connection mid-way, as a
    /// server that requires SASL may): the client then ends in AuthFailed, as Apache's clients do.
    /// </summary>
    private async Task<bool> LogInAsync(Connection connection, SaslLogin login, HostAddress host, CancellationToken stop)
    {
        var connectTimeout = _options.ConnectTimeout ?? _options.SessionTimeout / _connectString.Hosts.Count;
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop);
        attempt.CancelAfter(connectTimeout);
        var mechanism = new Warden.Protocol.Sasl.DigestMd5Client(login.Username, login.Password, authzid: login.Username);
        byte[] token = mechanism.Start();
        string? refusal = null;
        try
        {
            while (true)
            {
                var (error, serverToken) = await connection.ExchangeSaslAsync(((IConnectionOwner)this).NextXid(), token, attempt.Token).ConfigureAwait(false);
                if (error != ErrorCode.Ok)
                {
                    refusal = $"{host} refused the SASL login of {login.Username}: {error}";
                    break;
                }
                // An empty answer (a server with no JAAS Server section) is no challenge, and fails here.
                var next = mechanism.Evaluate(serverToken ?? []);
                if (mechanism.IsComplete) break;
                token = next ?? throw new Warden.Protocol.Sasl.SaslException("DIGEST-MD5: the exchange stopped before the server proved itself");
            }
        }
        catch (Warden.Protocol.Sasl.SaslException e)
        {
            refusal = $"SASL login of {login.Username} at {host} failed: {e.Message}";
        }
        catch (IOException e)
        {
            refusal = $"{host} dropped the connection during the SASL login of {login.Username} ({e.Message})";
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            throw new TimeoutException($"no SASL login within {connectTimeout.TotalMilliseconds:0} ms");
        }
        if (refusal is null)
        {
            _logger.LogInformation("logged in to {Server} as {User} (SASL DIGEST-MD5)", host, login.Username);
            return true;
        }
        _logger.LogWarning("{Refusal}; the client stops", refusal);
        EndSession(ConnectionState.AuthFailed, new ZooKeeperException(ErrorCode.AuthFailed, null, refusal));
        return false;
    }

    private List<byte[]> AuthFrames()
    {
        lock (_authInfo)
        {
            return _authInfo.Select(auth => Frame(Xids.Auth, OpCode.Auth, new AuthPacket(0, auth.Scheme, auth.Auth))).ToList();
        }
    }

    /// <summary>
    /// setWatches packets that restore every watch on the new connection. Their zxid is the last one this
    /// session saw, so the server fires at once the events that happened while it was away.
    /// </summary>
    private List<byte[]> SetWatchesFrames()
    {
        var paths = _watches.Snapshot();
        var frames = new List<byte[]>();
        if (paths.IsEmpty) return frames;
        var lists = new[] { paths.Data, paths.Exist, paths.Child, paths.Persistent, paths.PersistentRecursive }
            .Select(list => new Queue<string>(list.Select(_connectString.ToServerPath))).ToArray();
        long zxid = Interlocked.Read(ref _lastZxid);
        while (lists.Any(queue => queue.Count > 0))
        {
            var batch = lists.Select(_ => new List<string>()).ToArray();
            int chars = 0;
            for (int i = 0; i < lists.Length && chars < SetWatchesBatchChars; i++)
            {
                while (lists[i].Count > 0 && chars < SetWatchesBatchChars)
                {
                    var path = lists[i].Dequeue();
                    batch[i].Add(path);
                    chars += path.Length;
                }
            }
            // The old opcode when no persistent watch is in the batch, so servers before 3.6 understand it.
            bool version2 = batch[3].Count + batch[4].Count > 0;
            var record = new SetWatchesRequest(zxid, batch[0], batch[1], batch[2], batch[3], batch[4]) { IsVersion2 = version2 };
            frames.Add(Frame(Xids.SetWatches, version2 ? OpCode.SetWatches2 : OpCode.SetWatches, record));
        }
        return frames;
    }

    private static byte[] Frame(int xid, OpCode op, IJuteRecord body)
    {
        using var writer = new JuteWriter();
        writer.BeginFrame();
        new RequestHeader(xid, (int)op).Write(writer);
        body.Write(writer);
        writer.EndFrame();
        return writer.ToArray();
    }

    /// <summary>
    /// Ends the session: sends closeSession (so ephemeral nodes go at once rather than at expiry), waits a
    /// bounded time for the reply, and stops. Waiting requests fail; watches end.
    /// </summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (State.IsTerminal())
        {
            await StopAsync().ConfigureAwait(false);
            return;
        }
        Volatile.Write(ref _closing, true);
        if (State.IsConnected())
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(TimeSpan.FromMilliseconds(Math.Max(1000, Volatile.Read(ref _negotiatedTimeoutMs) / 3)));
            try
            {
                await SendAsync(OpCode.CloseSession, null, null, static (ref JuteReader _) => true, null, bound.Token).ConfigureAwait(false);
            }
            catch (Exception error) when (error is ZooKeeperException or OperationCanceledException)
            {
                _logger.LogInformation("closeSession was not acknowledged ({Reason}); the session will expire on the server", error.Message);
            }
        }
        EndSession(ConnectionState.Closed, null);
        await StopAsync().ConfigureAwait(false);
    }

    private async Task StopAsync()
    {
        _stopping.Cancel();
        await _sessionLoop.ConfigureAwait(false);
        await _dispatcher.CompleteAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await CloseAsync().ConfigureAwait(false);
}
