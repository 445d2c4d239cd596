using System.Globalization;
using System.Text;
using System.Threading.Channels;

namespace Warden.Cli.Shell.Interactive;

/// <summary>
/// The process's console as an <see cref="ITerminal"/>, through System.Console only.
/// Keys come from a background thread blocked in <see cref="Console.ReadKey(bool)"/>, so the editor can wait for
/// a key and for a prompt change at once, and a running command can be cancelled by Ctrl-C. Ctrl-C is read as
/// a key (<see cref="Console.TreatControlCAsInput"/>) rather than a signal, the same way on every platform.
/// Cursor movement is ANSI on Unix terminals; Windows consoles need not understand ANSI unless the program
/// asks for it (which takes P/Invoke), so there the cursor is placed with <see cref="Console.SetCursorPosition"/>.
/// </summary>
public sealed class ConsoleTerminal : ITerminal
{
    private const int FallbackWidth = 80;
    private readonly TextWriter output;
    private readonly bool ansi;
    private readonly StringBuilder pending = new();
    private readonly Channel<ConsoleKeyInfo> keys = Channel.CreateUnbounded<ConsoleKeyInfo>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly bool restoreControlC;
    private Thread? reader;

    /// <param name="output">Where the editor writes: the real standard output, taken before anything replaces <see cref="Console.Out"/>.</param>
    public ConsoleTerminal(TextWriter output)
    {
        this.output = output;
        ansi = !OperatingSystem.IsWindows();
        try
        {
            restoreControlC = !Console.TreatControlCAsInput;
            Console.TreatControlCAsInput = true;
        }
        catch (IOException)
        {
            // No console input to configure (redirected); ReadKey will report the end of input.
            restoreControlC = false;
        }
    }

    public int Width
    {
        get
        {
            try
            {
                var width = Console.WindowWidth;
                return width > 0 ? width : FallbackWidth;
            }
            catch (Exception e) when (e is IOException or PlatformNotSupportedException)
            {
                return FallbackWidth;
            }
        }
    }

    public async ValueTask<ConsoleKeyInfo> ReadKeyAsync(CancellationToken cancellationToken)
    {
        if (reader is null)
        {
            reader = new Thread(ReadKeys) { IsBackground = true, Name = "warden cli keys" };
            reader.Start();
        }
        try
        {
            return await keys.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            throw new EndOfStreamException("the console has no more input", e);
        }
    }

    public void Write(string text) => pending.Append(text);

    public void NewLine() => pending.Append("\r\n");

    public void MoveUp(int rows)
    {
        if (rows <= 0)
        {
            return;
        }
        if (ansi)
        {
            pending.Append("\u001b[").Append(rows.ToString(CultureInfo.InvariantCulture)).Append('A');
            return;
        }
        Flush();
        Console.SetCursorPosition(Console.CursorLeft, Math.Max(0, Console.CursorTop - rows));
    }

    public void MoveToColumn(int column)
    {
        if (ansi)
        {
            pending.Append('\r');
            if (column > 0)
            {
                pending.Append("\u001b[").Append(column.ToString(CultureInfo.InvariantCulture)).Append('C');
            }
            return;
        }
        Flush();
        Console.SetCursorPosition(Math.Min(column, Math.Max(0, Console.BufferWidth - 1)), Console.CursorTop);
    }

    public void ClearScreen()
    {
        if (ansi)
        {
            // Home, then erase the window; the scrollback is kept, as bash's Ctrl-L keeps it.
            pending.Append("\u001b[H\u001b[2J");
            return;
        }
        Flush();
        Console.Clear();
    }

    public void Flush()
    {
        if (pending.Length == 0)
        {
            return;
        }
        output.Write(pending.ToString());
        output.Flush();
        pending.Clear();
    }

    public void Dispose()
    {
        Flush();
        if (restoreControlC)
        {
            try
            {
                Console.TreatControlCAsInput = false;
            }
            catch (IOException)
            {
            }
        }
        // The reader thread stays blocked in ReadKey; it is a background thread and ends with the process.
    }

    private void ReadKeys()
    {
        try
        {
            while (true)
            {
                keys.Writer.TryWrite(Console.ReadKey(intercept: true));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            // Input redirected from a file or closed: no key will ever come.
            keys.Writer.TryComplete();
        }
    }
}
