using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Warden.Client;
using Warden.Protocol;

namespace Warden.Cli.Shell;

/// <summary>
/// How a shell connects: zkCli's -server, -timeout, -r and -waitforconnection, the SASL login its JVM would
/// take from -Djava.security.auth.login.config, and TLS from -Dzookeeper.client.secure=true and -Dzookeeper.ssl.*.
/// </summary>
public sealed record ShellSettings(string Server = "localhost:2181", int TimeoutMs = 30000, bool ReadOnly = false, bool WaitForConnection = false,
    SaslLogin? Sasl = null, ZooKeeperTlsOptions? Tls = null);

/// <summary>A command that failed: the message zkCli prints on stderr and the exit code it leaves.</summary>
public sealed class CliError(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>
/// One `warden cli` session: the connection, zkCli's numbered history and its settings, and the commands
/// (in ShellSession.Commands.cs). Output goes to two writers, as zkCli's goes to stdout and stderr; what goes
/// where follows zkCli, so scripts that read either stream see the same text.
/// </summary>
public sealed partial class ShellSession : IShell, IAsyncDisposable
{
    private readonly TextWriter _out;
    private readonly TextWriter _err;
    private readonly Lock _writeGate = new();
    private readonly ShellSettings _settings;
    private readonly Dictionary<int, string> _history = [];
    private readonly Action<WatchedEvent> _watcher;
    private ZooKeeperClient? _client;
    private string _host = "";
    private int _commandCount;
    private bool _printWatches = true;
    private int _failedAttempts;
    private ConnectionAttemptFailure? _lastFailure;

    public ShellSession(ShellSettings settings, TextWriter output, TextWriter error)
    {
        _settings = settings;
        _out = output;
        _err = error;
        // One delegate for every watch, as zkCli has one Watcher: a node watched twice hears a change once.
        _watcher = OnWatchEvent;
    }

    public string Prompt => BuildPrompt();

    public event Action? PromptChanged;

    public ZooKeeperClient? Client => _client;

    public Action<string>? AsyncOutput { get; set; }

    /// <summary>The exit code of the last command, which is the process's exit code when the shell ends.</summary>
    public int ExitCode { get; private set; }

    /// <summary>The number the next command gets in `history`.</summary>
    public int CommandCount => _commandCount;

    private string BuildPrompt()
    {
        var client = _client;
        string state = client is null ? "CLOSED" : JavaState(client.State);
        if (client is not null && !client.State.IsConnected() && !client.State.IsTerminal() && _failedAttempts > 0)
        {
            state += $", retry {_failedAttempts}";
        }
        return $"[zk: {_host}({state}) {_commandCount}] ";
    }

    /// <summary>The names of Java's ZooKeeper.States, which zkCli's prompt shows.</summary>
    private static string JavaState(ConnectionState state) => state switch
    {
        ConnectionState.Connected => "CONNECTED",
        ConnectionState.ConnectedReadOnly => "CONNECTEDREADONLY",
        ConnectionState.Connecting or ConnectionState.Disconnected => "CONNECTING",
        ConnectionState.AuthFailed => "AUTH_FAILED",
        _ => "CLOSED",
    };

    /// <summary>Opens a session to <paramref name="host"/>, closing the current one (zkCli's connectToZK).</summary>
    public async Task<bool> ConnectAsync(string host, CancellationToken cancellationToken = default)
    {
        await CloseClientAsync().ConfigureAwait(false);
        _host = host;
        _failedAttempts = 0;
        _lastFailure = null;
        ZooKeeperClient client;
        try
        {
            client = new ZooKeeperClient(Options.Create(new ZooKeeperClientOptions
            {
                ConnectString = host,
                SessionTimeout = TimeSpan.FromMilliseconds(_settings.TimeoutMs),
                CanBeReadOnly = _settings.ReadOnly,
                Sasl = _settings.Sasl,
                Tls = _settings.Tls,
            }));
        }
        catch (ArgumentException error)
        {
            WriteErr($"cannot use the server list \"{host}\": {error.Message.Split(" (Parameter", 2)[0]}");
            ExitCode = 1;
            OnPromptChanged();
            return false;
        }
        client.StateChanged += (_, change) => OnStateChanged(client, change);
        client.ConnectionAttemptFailed += (_, failure) => OnAttemptFailed(client, failure);
        _client = client;
        OnPromptChanged();
        if (!_settings.WaitForConnection) return true;
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(_settings.TimeoutMs);
        try
        {
            await client.WaitForConnectedAsync(bound.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception error) when (error is OperationCanceledException or ZooKeeperException)
        {
            await client.WhenEventsDeliveredAsync().ConfigureAwait(false);
            WriteErr(ConnectionProblem());
            ExitCode = 1;
            // Given up: closed without a Closed event, which would only repeat the line above.
            bool printing = _printWatches;
            await EndAsync().ConfigureAwait(false);
            _printWatches = printing;
            return false;
        }
    }

    /// <summary>
    /// Waits until the session is connected or one attempt has failed, at most <paramref name="limit"/>, so
    /// that a shell starting against a dead server can say so before its first prompt.
    /// </summary>
    public async Task<bool> SettleAsync(TimeSpan limit)
    {
        var client = _client;
        if (client is null) return false;
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (client.State.IsConnected()) return true;
            await client.WhenEventsDeliveredAsync().ConfigureAwait(false);
            if (_lastFailure is not null || client.State.IsTerminal()) return false;
            try
            {
                await client.WaitForConnectedAsync().WaitAsync(TimeSpan.FromMilliseconds(50)).ConfigureAwait(false);
            }
            catch (Exception error) when (error is TimeoutException or ZooKeeperException)
            {
                // Still connecting (or ended); look again.
            }
        }
        return client.State.IsConnected();
    }

    /// <summary>The one line that says why there is no connection, naming the fix where there is one.</summary>
    public string ConnectionProblem()
    {
        var client = _client;
        if (_lastFailure is { } failure && (client is null || !client.State.IsConnected()))
        {
            return $"cannot connect to {failure.Server}: {Describe(failure.Error)}";
        }
        string where = client?.CurrentServer?.ToString() ?? _host;
        return $"lost the connection to {where} before the reply; the command may or may not have taken effect (reconnecting)";
    }

    private static string Describe(Exception error)
    {
        var socket = error as SocketException ?? error.InnerException as SocketException;
        return socket?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "connection refused; is a server running there? start one with \"warden server\"",
            SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "no such host; check the name in -server",
            SocketError.TimedOut => "timed out; is the address right, and is a firewall in the way?",
            SocketError.NetworkUnreachable or SocketError.HostUnreachable => "the network or host is unreachable",
            _ when error is TimeoutException or OperationCanceledException => "no answer in time; is the address right, and is a firewall in the way?",
            _ => error.Message,
        };
    }

    private void OnStateChanged(ZooKeeperClient client, ConnectionStateChange change)
    {
        if (!ReferenceEquals(client, _client)) return;
        if (change.Current.IsConnected())
        {
            _failedAttempts = 0;
            _lastFailure = null;
        }
        KeeperState? shown = change.Current switch
        {
            ConnectionState.Connected => KeeperState.SyncConnected,
            ConnectionState.ConnectedReadOnly => KeeperState.ConnectedReadOnly,
            ConnectionState.Disconnected => KeeperState.Disconnected,
            ConnectionState.Expired => KeeperState.Expired,
            ConnectionState.AuthFailed => KeeperState.AuthFailed,
            ConnectionState.Closed => KeeperState.Closed,
            _ => null,
        };
        // With a SASL login the client reaches Connected only after the login, and a refused login ends it straight
        // from Connecting; zkCli shows the connection first and the login's outcome after it, so this does too.
        bool sasl = _settings.Sasl is not null;
        if (sasl && change.Current == ConnectionState.AuthFailed && !change.Previous.IsConnected()) PrintEvent(KeeperState.SyncConnected, EventType.None, null);
        if (shown is { } state) PrintEvent(state, EventType.None, null);
        if (sasl && change.Current == ConnectionState.Connected) PrintEvent(KeeperState.SaslAuthenticated, EventType.None, null);
        OnPromptChanged();
    }

    private void OnAttemptFailed(ZooKeeperClient client, ConnectionAttemptFailure failure)
    {
        if (!ReferenceEquals(client, _client)) return;
        _lastFailure = failure;
        _failedAttempts++;
        OnPromptChanged();
    }

    private void OnWatchEvent(WatchedEvent watchedEvent)
    {
        // The session's own state changes come through StateChanged; a watch ending with the session says nothing new.
        if (watchedEvent.Type == EventType.None) return;
        PrintEvent(watchedEvent.State, watchedEvent.Type, watchedEvent.Path);
    }

    private void PrintEvent(KeeperState state, EventType type, string? path)
    {
        if (!_printWatches) return;
        string text = $"\nWATCHER::\n\n{Formats.Event(state, type, path)}";
        if (AsyncOutput is { } sink)
        {
            lock (_writeGate) sink(text);
        }
        else
        {
            WriteOut(text);
        }
        OnPromptChanged();
    }

    private void OnPromptChanged() => PromptChanged?.Invoke();

    private void WriteOut(string text)
    {
        lock (_writeGate)
        {
            _out.Write(text);
            _out.Write('\n');
            _out.Flush();
        }
    }

    private void WriteErr(string text)
    {
        lock (_writeGate)
        {
            _err.Write(text);
            _err.Write('\n');
            _err.Flush();
        }
    }

    private async Task CloseClientAsync()
    {
        var client = _client;
        if (client is null || client.State.IsTerminal()) return;
        await client.CloseAsync().ConfigureAwait(false);
        // The old session's Closed event is printed before a new session's first event, as zkCli prints them.
        await client.WhenEventsDeliveredAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the session when the input runs out. zkCli exits there without closing, leaving its ephemeral nodes
    /// until the session expires; closing removes them at once, and nothing is printed for it.
    /// </summary>
    public async Task EndAsync()
    {
        _printWatches = false;
        await CloseClientAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is { } client) await client.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Runs one line as zkCli does. Blank lines are skipped (zkCli runs its previous command again for a line
    /// of spaces; that is not kept). Returns false after `quit`.
    /// </summary>
    public async Task<bool> ExecuteLineAsync(string line, CancellationToken cancellationToken)
    {
        var words = Tokenizer.Split(line);
        if (words.Count == 0) return true;
        _history[_commandCount] = line;
        bool keepGoing = await ProcessAsync(words, cancellationToken).ConfigureAwait(false);
        _commandCount++;
        OnPromptChanged();
        return keepGoing;
    }

    /// <summary>Runs one command given as words (the command line's `warden cli ls /` form).</summary>
    public Task<bool> ExecuteWordsAsync(IReadOnlyList<string> words, CancellationToken cancellationToken) =>
        ProcessAsync([.. words], cancellationToken);

    private async Task<bool> ProcessAsync(List<string> words, CancellationToken cancellationToken)
    {
        try
        {
            bool keepGoing = await ProcessCommandAsync(words, cancellationToken).ConfigureAwait(false);
            if (keepGoing) ExitCode = 0;
            return keepGoing;
        }
        catch (CliError error)
        {
            ExitCode = error.ExitCode;
            WriteErr(error.Message);
            return true;
        }
        catch (OptionParseException error)
        {
            ExitCode = 1;
            WriteErr(error.Message);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            ExitCode = 130;
            WriteErr("interrupted; the request may still take effect on the server");
            return true;
        }
        finally
        {
            // Events the server sent before the last reply are printed before the next command runs.
            if (_client is { } client) await client.WhenEventsDeliveredAsync().ConfigureAwait(false);
        }
    }
}
