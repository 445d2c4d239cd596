namespace Warden.Cli.Shell.Interactive;

/// <summary>
/// Reads lines from a terminal with emacs-style editing, history, completion, and a prompt that follows the
/// shell's state while the user types.
/// </summary>
/// <remarks>
/// Written here rather than taken from RadLine 0.6.0 (the Spectre.Console authors' preview line reader). RadLine
/// draws its prompt only in answer to a key, with no way for another thread to ask for a redraw when the
/// connection state changes; its completion is synchronous (a server round trip would block the key loop) and
/// cycles through candidates instead of completing a common prefix and listing; it lets Ctrl-C reach the process
/// as a signal, so neither "abandon the line" nor "cancel the running command" can be built on it; and it
/// refuses terminals without ANSI, which a plain Windows console is unless the program asks for it by P/Invoke.
/// What this editor needs from a terminal is <see cref="ITerminal"/>, which a test can script.
///
/// One thread at a time runs <see cref="ReadLineAsync"/>; everything that draws holds <c>gate</c>.
/// </remarks>
public sealed class LineEditor : IDisposable
{
    private readonly ITerminal terminal;
    private readonly IShell shell;
    private readonly CommandHistory history;
    private readonly ICompleter completer;
    private readonly LineRenderer renderer;
    private readonly Queue<ConsoleKeyInfo> typeahead = new();
    private readonly SemaphoreSlim promptChanged = new(0);
    private readonly Lock gate = new();
    private EditBuffer buffer = new();
    private string prompt = "";
    private bool editing;
    private int historyIndex;
    private string draft = "";
    private bool lastKeyWasTab;

    public LineEditor(ITerminal terminal, IShell shell, CommandHistory history, ICompleter completer)
    {
        this.terminal = terminal;
        this.shell = shell;
        this.history = history;
        this.completer = completer;
        renderer = new LineRenderer(terminal);
        shell.PromptChanged += OnPromptChanged;
    }

    private enum Outcome
    {
        Continue,
        Submit,
        EndOfInput,
    }

    /// <summary>
    /// Shows the prompt and edits a line until Enter (returns the line) or Ctrl-D on an empty line or the end of
    /// input (returns null). Ctrl-C abandons the line being typed and starts a fresh one.
    /// </summary>
    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            StartLine();
        }
        while (true)
        {
            var next = await NextKeyAsync(cancellationToken).ConfigureAwait(false);
            if (next is not { } key)
            {
                return EndLine(null);
            }
            if (key.Key == ConsoleKey.Tab || key.KeyChar == '\t')
            {
                await CompleteAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }
            lock (gate)
            {
                lastKeyWasTab = false;
                switch (Handle(key))
                {
                    case Outcome.Submit:
                        return EndLine(buffer.Text);
                    case Outcome.EndOfInput:
                        return EndLine(null);
                }
            }
        }
    }

    /// <summary>
    /// Runs a command while watching the keyboard: Ctrl-C cancels the command's token (the command decides how to
    /// stop); other keys are kept, in order, for the next line, as a terminal keeps what is typed ahead.
    /// </summary>
    public async Task<T> RunInterruptibleAsync<T>(Func<CancellationToken, Task<T>> command, CancellationToken cancellationToken)
    {
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = command(interrupt.Token);
        var inputClosed = false;
        while (!running.IsCompleted && !inputClosed && !cancellationToken.IsCancellationRequested)
        {
            using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var read = terminal.ReadKeyAsync(stopReading.Token).AsTask();
            await Task.WhenAny(running, read).ConfigureAwait(false);
            await stopReading.CancelAsync().ConfigureAwait(false);
            ConsoleKeyInfo key;
            try
            {
                key = await read.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                continue;
            }
            catch (EndOfStreamException)
            {
                inputClosed = true;
                continue;
            }
            if (ControlLetter(key) == 'C')
            {
                if (!interrupt.IsCancellationRequested)
                {
                    lock (gate)
                    {
                        terminal.Write("^C");
                        terminal.NewLine();
                        terminal.Flush();
                    }
                    await interrupt.CancelAsync().ConfigureAwait(false);
                }
            }
            else
            {
                typeahead.Enqueue(key);
            }
        }
        return await running.ConfigureAwait(false);
    }

    public void Dispose()
    {
        shell.PromptChanged -= OnPromptChanged;
        promptChanged.Dispose();
    }

    /// <summary>
    /// Prints text the shell produced on its own (a watch event, a connection change). While a line is being
    /// edited, the line is taken off the screen, the text printed where it was, and the line drawn again below;
    /// otherwise the text is simply printed.
    /// </summary>
    public void PrintAbove(string text)
    {
        lock (gate)
        {
            if (editing) renderer.Erase();
            var lines = text.Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                terminal.Write(lines[i]);
                terminal.NewLine();
            }
            if (editing) Draw();
            terminal.Flush();
        }
    }

    private void OnPromptChanged()
    {
        // Several changes before the editor wakes are one redraw, with whatever the prompt is by then.
        try
        {
            if (promptChanged.CurrentCount == 0)
            {
                promptChanged.Release();
            }
        }
        catch (ObjectDisposedException)
        {
            // The editor is gone; nothing shows a prompt any more.
        }
    }

    private void StartLine()
    {
        buffer = new EditBuffer();
        prompt = shell.Prompt;
        historyIndex = history.Entries.Count;
        draft = "";
        lastKeyWasTab = false;
        editing = true;
        renderer.Reset();
        Draw();
    }

    private string? EndLine(string? line)
    {
        lock (gate)
        {
            renderer.Finish(prompt, buffer.Text);
            editing = false;
            return line;
        }
    }

    private void Draw() => renderer.Draw(prompt, buffer.Text, buffer.Cursor);

    /// <summary>The next key, typed-ahead keys first; redraws the prompt whenever the shell signals meanwhile. Null: no more input.</summary>
    private async Task<ConsoleKeyInfo?> NextKeyAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (typeahead.TryDequeue(out var queued))
            {
                return queued;
            }
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var read = terminal.ReadKeyAsync(stop.Token).AsTask();
            var changed = promptChanged.WaitAsync(stop.Token);
            await Task.WhenAny(read, changed).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (await Succeeded(changed).ConfigureAwait(false))
            {
                RedrawPrompt();
            }
            try
            {
                typeahead.Enqueue(await read.ConfigureAwait(false));
            }
            catch (OperationCanceledException)
            {
                // The prompt changed first; the key, if one comes, is read on the next turn.
            }
            catch (EndOfStreamException)
            {
                return null;
            }
        }
    }

    private static async Task<bool> Succeeded(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Draws the line again with the shell's prompt, changed or not. The shell also raises PromptChanged after it
    /// prints something on its own (a watch event, a state change), which leaves the cursor at the start of a
    /// fresh row below the line being edited; the line is then drawn there, under what was printed. When the line
    /// fits on one row that is right either way, as the draw starts with a carriage return on the cursor's row.
    /// </summary>
    private void RedrawPrompt()
    {
        lock (gate)
        {
            if (editing)
            {
                prompt = shell.Prompt;
                Draw();
            }
        }
    }

    private Outcome Handle(ConsoleKeyInfo key)
    {
        switch (key.Key)
        {
            case ConsoleKey.Enter:
                return Outcome.Submit;
            case ConsoleKey.Backspace:
                return Edit(buffer.Backspace());
            case ConsoleKey.Delete:
                return Edit(buffer.Delete());
            case ConsoleKey.LeftArrow:
                return Edit(Has(key, ConsoleModifiers.Control) ? buffer.WordLeft() : buffer.Left());
            case ConsoleKey.RightArrow:
                return Edit(Has(key, ConsoleModifiers.Control) ? buffer.WordRight() : buffer.Right());
            case ConsoleKey.Home:
                return Edit(buffer.Home());
            case ConsoleKey.End:
                return Edit(buffer.End());
            case ConsoleKey.UpArrow:
                return Edit(HistoryPrevious());
            case ConsoleKey.DownArrow:
                return Edit(HistoryNext());
            case ConsoleKey.Escape:
                return Outcome.Continue;
        }
        switch (key.KeyChar)
        {
            case '\r' or '\n':
                return Outcome.Submit;
            case '\b' or '\u007f':
                return Edit(buffer.Backspace());
        }
        if (ControlLetter(key) is { } letter)
        {
            return HandleControl(letter);
        }
        if (key.Modifiers == ConsoleModifiers.Alt)
        {
            // Meta-b and meta-f move by words, as in bash; other Alt chords are not text.
            return key.Key switch
            {
                ConsoleKey.B => Edit(buffer.WordLeft()),
                ConsoleKey.F => Edit(buffer.WordRight()),
                _ => Outcome.Continue,
            };
        }
        if (key.KeyChar != '\0' && !char.IsControl(key.KeyChar))
        {
            buffer.Insert(key.KeyChar.ToString());
            Draw();
        }
        return Outcome.Continue;
    }

    private Outcome HandleControl(char letter)
    {
        switch (letter)
        {
            case 'A':
                return Edit(buffer.Home());
            case 'E':
                return Edit(buffer.End());
            case 'B':
                return Edit(buffer.Left());
            case 'F':
                return Edit(buffer.Right());
            case 'P':
                return Edit(HistoryPrevious());
            case 'N':
                return Edit(HistoryNext());
            case 'W':
                return Edit(buffer.DeleteWordBefore());
            case 'U':
                return Edit(buffer.DeleteToStart());
            case 'K':
                return Edit(buffer.DeleteToEnd());
            case 'D':
                return buffer.IsEmpty ? Outcome.EndOfInput : Edit(buffer.Delete());
            case 'C':
                // As bash: the line stays on screen marked ^C, and a fresh prompt starts below it.
                renderer.Finish(prompt, buffer.Text, "^C");
                StartLine();
                return Outcome.Continue;
            case 'L':
                terminal.ClearScreen();
                renderer.Reset();
                Draw();
                return Outcome.Continue;
            default:
                return Outcome.Continue;
        }
    }

    private Outcome Edit(bool changed)
    {
        if (changed)
        {
            Draw();
        }
        return Outcome.Continue;
    }

    private bool HistoryPrevious()
    {
        if (historyIndex == 0)
        {
            return false;
        }
        if (historyIndex == history.Entries.Count)
        {
            draft = buffer.Text;
        }
        historyIndex--;
        buffer.Set(history.Entries[historyIndex]);
        return true;
    }

    private bool HistoryNext()
    {
        if (historyIndex >= history.Entries.Count)
        {
            return false;
        }
        historyIndex++;
        buffer.Set(historyIndex == history.Entries.Count ? draft : history.Entries[historyIndex]);
        return true;
    }

    /// <summary>
    /// Tab, as bash does it: one candidate is completed (with its suffix); several complete their common prefix,
    /// and when there is nothing more to add, a second Tab in a row lists them below the line.
    /// </summary>
    private async Task CompleteAsync(CancellationToken cancellationToken)
    {
        string text;
        int cursor;
        lock (gate)
        {
            text = buffer.Text;
            cursor = buffer.Cursor;
        }
        // Only this thread edits the buffer, so it is unchanged when the candidates arrive.
        var completions = await completer.CompleteAsync(text, cursor, cancellationToken).ConfigureAwait(false);
        lock (gate)
        {
            var candidates = completions.Candidates;
            var typed = text[completions.Start..cursor];
            if (candidates.Count == 1)
            {
                buffer.ReplaceBeforeCursor(completions.Start, candidates[0].Replacement + candidates[0].Suffix);
                Draw();
                lastKeyWasTab = false;
                return;
            }
            if (candidates.Count > 1)
            {
                var common = CommonPrefix(candidates.Select(c => c.Replacement).ToList());
                if (common.Length > typed.Length)
                {
                    buffer.ReplaceBeforeCursor(completions.Start, common);
                    Draw();
                }
                else if (lastKeyWasTab)
                {
                    List(candidates.Select(c => c.Display).ToList());
                }
            }
            lastKeyWasTab = true;
        }
    }

    private void List(IReadOnlyList<string> items)
    {
        renderer.Finish(prompt, buffer.Text);
        foreach (var row in CompletionColumns.Layout(items, terminal.Width))
        {
            terminal.Write(row);
            terminal.NewLine();
        }
        renderer.Reset();
        Draw();
    }

    private static string CommonPrefix(IReadOnlyList<string> values)
    {
        var prefix = values[0];
        foreach (var value in values)
        {
            var length = 0;
            while (length < prefix.Length && length < value.Length && prefix[length] == value[length])
            {
                length++;
            }
            prefix = prefix[..length];
        }
        return prefix;
    }

    private static bool Has(ConsoleKeyInfo key, ConsoleModifiers modifier) => (key.Modifiers & modifier) != 0;

    /// <summary>
    /// The letter of a Ctrl chord, whichever way the platform reports it: Unix gives the control character
    /// (Ctrl-A is U+0001), Windows the key with the Control modifier. Ctrl with Alt is AltGr on Windows, which
    /// types characters, so it is not a chord.
    /// </summary>
    private static char? ControlLetter(ConsoleKeyInfo key)
    {
        if (key.KeyChar is >= '\u0001' and <= '\u001a')
        {
            return (char)('A' + key.KeyChar - 1);
        }
        if (Has(key, ConsoleModifiers.Control) && !Has(key, ConsoleModifiers.Alt) && key.Key is >= ConsoleKey.A and <= ConsoleKey.Z)
        {
            return (char)('A' + (key.Key - ConsoleKey.A));
        }
        return null;
    }
}
