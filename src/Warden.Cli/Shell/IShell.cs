using Warden.Client;

namespace Warden.Cli.Shell;

/// <summary>
/// What a front end (the interactive line editor, stdin, or one command from the command line) needs from a
/// `warden cli` session.
/// </summary>
public interface IShell
{
    /// <summary>The prompt zkCli shows, <c>[zk: host(STATE) N] </c>; a retry count joins the state while connecting.</summary>
    string Prompt { get; }

    /// <summary>Raised, on any thread, when the prompt changes without a command being run (the connection moved).</summary>
    event Action? PromptChanged;

    /// <summary>
    /// Where the session sends what it prints on its own, between commands or during one (watch events, connection
    /// changes): a front end that keeps a line on screen sets this to print above it. Null: standard output.
    /// </summary>
    Action<string>? AsyncOutput { get; set; }

    /// <summary>The session's client; null after `close` and before a connection was asked for.</summary>
    ZooKeeperClient? Client { get; }

    /// <summary>
    /// Runs one line as zkCli does (empty lines are ignored). Returns false when the shell should end (`quit`).
    /// Cancelling the token abandons the command that is running (Ctrl-C); the session stays.
    /// </summary>
    Task<bool> ExecuteLineAsync(string line, CancellationToken cancellationToken);
}
