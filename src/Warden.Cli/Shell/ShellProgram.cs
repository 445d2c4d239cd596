namespace Warden.Cli.Shell;

/// <summary>
/// `warden cli [-server host:port[,...][/chroot]] [-timeout ms] [-r] [-waitforconnection] [command args]`:
/// zkCli's command line. With a command it runs that one and exits with its status; otherwise it reads
/// commands from the terminal (with line editing, history and completion) or, when standard input is not a
/// terminal, line by line from it, as zkCli does for scripts.
/// </summary>
public static class ShellProgram
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextReader input, TextWriter output, TextWriter error,
        bool inputIsTerminal, CancellationToken cancellationToken)
    {
        if (!TryParse(args, error, out var settings, out var command, out bool help)) return 2;
        if (help)
        {
            output.WriteLine("usage: warden cli [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r] [-waitforconnection] [command args]");
            output.WriteLine("Runs one command and exits, or reads commands (interactively, or from standard input when it is not a terminal).");
            output.WriteLine("Type \"help\" in the shell for the commands.");
            return 0;
        }
        output.WriteLine($"Connecting to {settings.Server}");
        // zkCli greets after its connection is made when told to wait for it, and otherwise before the connected
        // event can arrive; printed here in the same place, the banner and the event never swap.
        if (command.Count == 0 && !settings.WaitForConnection) output.WriteLine("Welcome to ZooKeeper!");
        output.Flush();
        await using var session = new ShellSession(settings, output, error);
        if (!await session.ConnectAsync(settings.Server, cancellationToken).ConfigureAwait(false)) return 1;
        if (command.Count > 0)
        {
            await session.ExecuteWordsAsync(command, cancellationToken).ConfigureAwait(false);
            await CloseAsync(session).ConfigureAwait(false);
            return session.ExitCode;
        }
        if (settings.WaitForConnection)
        {
            await session.Client!.WhenEventsDeliveredAsync().ConfigureAwait(false);
            output.WriteLine("Welcome to ZooKeeper!");
            output.Flush();
        }
        if (inputIsTerminal)
        {
            // Say at once when nothing answers, rather than leaving the user to find out from the first command.
            if (!await session.SettleAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false) && session.Client is { } client &&
                !client.State.IsConnectedOrTerminal())
            {
                error.WriteLine(session.ConnectionProblem() + "; still trying (the prompt shows the retries)");
            }
            // The line editor needs the console at both ends; with output redirected, a plain prompt reads lines.
            if (Interactive.InteractiveShell.IsSupported)
            {
                await Interactive.InteractiveShell.RunAsync(session, new Interactive.InteractiveOptions(), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await ReadLinesAsync(session, input, output, showPrompt: true, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            await ReadLinesAsync(session, input, output, showPrompt: false, cancellationToken).ConfigureAwait(false);
        }
        await CloseAsync(session).ConfigureAwait(false);
        return session.ExitCode;
    }

    private static async Task ReadLinesAsync(ShellSession session, TextReader input, TextWriter output, bool showPrompt, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (showPrompt)
            {
                output.Write(session.Prompt);
                output.Flush();
            }
            string? line = await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null) break;
            if (!await session.ExecuteLineAsync(line, cancellationToken).ConfigureAwait(false)) break;
        }
    }

    private static Task CloseAsync(ShellSession session) => session.EndAsync();

    /// <summary>
    /// zkCli's option loop: -server, -timeout, -r, -waitforconnection (and -client-configuration, which is read
    /// and refused) before the first word that is not an option, which starts the command.
    /// </summary>
    public static bool TryParse(IReadOnlyList<string> args, TextWriter error, out ShellSettings settings, out List<string> command, out bool help)
    {
        settings = new ShellSettings();
        command = [];
        help = false;
        for (int i = 0; i < args.Count; i++)
        {
            string option = args[i];
            string? Next()
            {
                if (i + 1 < args.Count) return args[++i];
                error.WriteLine($"Error: no argument found for option {option}");
                return null;
            }
            switch (option)
            {
                case "-server":
                    if (Next() is not { } server) return false;
                    settings = settings with { Server = server };
                    continue;
                case "-timeout":
                    if (Next() is not { } timeout) return false;
                    if (!int.TryParse(timeout, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int ms) || ms <= 0)
                    {
                        error.WriteLine($"Error: -timeout takes a session timeout in milliseconds, such as 30000, not \"{timeout}\"");
                        return false;
                    }
                    settings = settings with { TimeoutMs = ms };
                    continue;
                case "-r":
                    settings = settings with { ReadOnly = true };
                    continue;
                case "-waitforconnection":
                    settings = settings with { WaitForConnection = true };
                    continue;
                case "-client-configuration":
                    if (Next() is null) return false;
                    error.WriteLine("Error: -client-configuration (a Java client properties file) is not supported by warden cli");
                    return false;
                case "-h" or "-help" or "--help" or "-?":
                    help = true;
                    return true;
            }
            if (!option.StartsWith('-'))
            {
                command = [.. args.Skip(i)];
                return true;
            }
            // zkCli ignores options it does not know; say so rather than silently.
            error.WriteLine($"warning: ignoring unknown option {option}");
        }
        return true;
    }
}

internal static class ConnectionStateExtensions
{
    public static bool IsConnectedOrTerminal(this Warden.Client.ConnectionState state) =>
        Warden.Client.ConnectionStates.IsConnected(state) || Warden.Client.ConnectionStates.IsTerminal(state);
}
