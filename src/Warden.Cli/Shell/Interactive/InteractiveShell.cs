namespace Warden.Cli.Shell.Interactive;

/// <summary>
/// `warden cli` at a terminal: reads lines with <see cref="LineEditor"/> and runs them in the shell until `quit`,
/// Ctrl-D on an empty line, or the end of input.
/// </summary>
public static class InteractiveShell
{
    /// <summary>True when both standard input and output are a terminal, so a line editor can work.</summary>
    public static bool IsSupported => !Console.IsInputRedirected && !Console.IsOutputRedirected;

    /// <summary>Runs the shell on the process's console.</summary>
    public static async Task RunAsync(IShell shell, InteractiveOptions options, CancellationToken cancellationToken)
    {
        using var terminal = new ConsoleTerminal(Console.Out);
        await RunAsync(shell, terminal, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs the shell on <paramref name="terminal"/>.</summary>
    public static async Task RunAsync(IShell shell, ITerminal terminal, InteractiveOptions options, CancellationToken cancellationToken)
    {
        var history = OpenHistory(terminal, options);
        using var editor = new LineEditor(terminal, shell, history, new ShellCompleter(shell, options.CompletionTimeout));
        shell.AsyncOutput = editor.PrintAbove;
        try
        {
            await EditAndRunAsync(shell, editor, history, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            shell.AsyncOutput = null;
        }
    }

    private static async Task EditAndRunAsync(IShell shell, LineEditor editor, CommandHistory history, CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await editor.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                return;
            }
            history.Add(line);
            bool goOn;
            try
            {
                goOn = await editor.RunInterruptibleAsync(token => shell.ExecuteLineAsync(line, token), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Ctrl-C stopped the command; the session carries on.
                goOn = true;
            }
            if (!goOn)
            {
                return;
            }
        }
    }

    private static CommandHistory OpenHistory(ITerminal terminal, InteractiveOptions options)
    {
        if (options.HistoryPath is null)
        {
            return CommandHistory.InMemory(options.HistoryLimit);
        }
        return CommandHistory.Open(options.HistoryPath, options.HistoryLimit, warning =>
        {
            terminal.Write(warning);
            terminal.NewLine();
            terminal.Flush();
        });
    }
}
