using System.Text;
using Warden.Cli.Shell.Interactive;

namespace Warden.Cli.Tests.Interactive;

/// <summary>
/// A terminal for tests: keys are scripted, and what the editor writes lands on a model of a screen (rows of
/// cells and a cursor) that wraps at <see cref="Width"/> the way a real terminal does. Both wrapping behaviours
/// are modelled: xterm's, which keeps the cursor in the last column until the next character, and the Windows
/// console's, which moves it to the next row at once.
/// </summary>
public sealed class FakeTerminal(int width = 80, bool deferredWrap = true) : ITerminal
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly Lock gate = new();
    private readonly Queue<ConsoleKeyInfo> keys = new();
    private readonly List<StringBuilder> rows = [new()];
    private readonly StringBuilder transcript = new();
    private TaskCompletionSource<ConsoleKeyInfo>? reader;
    private TaskCompletionSource? idle;
    private bool inputClosed;
    private bool pendingWrap;
    private long epoch;
    private long readerEpoch;

    public int Width { get; set; } = width;

    public int CursorRow { get; private set; }

    public int CursorColumn { get; private set; }

    public int ScreenClears { get; private set; }

    /// <summary>The screen's rows, without trailing blanks; trailing empty rows dropped.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (gate)
            {
                var lines = rows.Select(r => r.ToString().TrimEnd()).ToList();
                while (lines.Count > 0 && lines[^1].Length == 0)
                {
                    lines.RemoveAt(lines.Count - 1);
                }
                return lines;
            }
        }
    }

    /// <summary>The row the cursor is on, without trailing blanks.</summary>
    public string CursorLine
    {
        get
        {
            lock (gate)
            {
                return CursorRow < rows.Count ? rows[CursorRow].ToString().TrimEnd() : "";
            }
        }
    }

    /// <summary>Everything written, with control actions in brackets, for failure messages.</summary>
    public string Transcript
    {
        get
        {
            lock (gate)
            {
                return transcript.ToString();
            }
        }
    }

    public string Screen => string.Join("\n", Lines);

    public override string ToString() => $"screen:\n{Screen}\ncursor: row {CursorRow}, column {CursorColumn}";

    // ---- scripting ----

    public void Type(string text)
    {
        foreach (var c in text)
        {
            Send(c switch
            {
                '\r' or '\n' => new ConsoleKeyInfo('\r', ConsoleKey.Enter, false, false, false),
                '\t' => new ConsoleKeyInfo('\t', ConsoleKey.Tab, false, false, false),
                >= 'a' and <= 'z' => new ConsoleKeyInfo(c, ConsoleKey.A + (c - 'a'), false, false, false),
                >= 'A' and <= 'Z' => new ConsoleKeyInfo(c, ConsoleKey.A + (c - 'A'), true, false, false),
                >= '0' and <= '9' => new ConsoleKeyInfo(c, ConsoleKey.D0 + (c - '0'), false, false, false),
                ' ' => new ConsoleKeyInfo(c, ConsoleKey.Spacebar, false, false, false),
                _ => new ConsoleKeyInfo(c, (ConsoleKey)0, false, false, false),
            });
        }
    }

    public void Press(ConsoleKey key, ConsoleModifiers modifiers = 0, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            Send(new ConsoleKeyInfo('\0', key, (modifiers & ConsoleModifiers.Shift) != 0,
                (modifiers & ConsoleModifiers.Alt) != 0, (modifiers & ConsoleModifiers.Control) != 0));
        }
    }

    /// <summary>Ctrl and a letter as Unix reports it (the control character, e.g. U+0003 for Ctrl-C).</summary>
    public void Control(char letter) =>
        Send(new ConsoleKeyInfo((char)(char.ToUpperInvariant(letter) - 'A' + 1), ConsoleKey.A + (char.ToUpperInvariant(letter) - 'A'),
            false, false, true));

    /// <summary>Ctrl and a letter as the Windows console can report it: no character, the key and the modifier.</summary>
    public void ControlWithoutCharacter(char letter) =>
        Send(new ConsoleKeyInfo('\0', ConsoleKey.A + (char.ToUpperInvariant(letter) - 'A'), false, false, true));

    /// <summary>No more keys will come: the editor sees the end of input once the queue is empty.</summary>
    public void CloseInput()
    {
        lock (gate)
        {
            inputClosed = true;
            if (reader is not null && keys.Count == 0)
            {
                var waiting = reader;
                reader = null;
                waiting.TrySetException(new EndOfStreamException());
            }
        }
    }

    /// <summary>
    /// Marks that something other than a key (a prompt change) will make the editor start a new read, so
    /// <see cref="WaitUntilIdleAsync"/> waits for that read.
    /// </summary>
    public void ExpectNewRead()
    {
        lock (gate)
        {
            epoch++;
        }
    }

    /// <summary>
    /// Completes once the editor has taken every key sent so far and waits for another, in a read it began after
    /// the last key was sent (or <see cref="ExpectNewRead"/> was called): whatever those caused has been drawn.
    /// </summary>
    public Task WaitUntilIdleAsync()
    {
        lock (gate)
        {
            if (reader is not null && keys.Count == 0 && readerEpoch == epoch)
            {
                return Task.CompletedTask;
            }
            idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return idle.Task.WaitAsync(Bound);
        }
    }

    private void Send(ConsoleKeyInfo key)
    {
        lock (gate)
        {
            epoch++;
            if (reader is not null)
            {
                var waiting = reader;
                reader = null;
                waiting.TrySetResult(key);
            }
            else
            {
                keys.Enqueue(key);
            }
        }
    }

    // ---- ITerminal ----

    public ValueTask<ConsoleKeyInfo> ReadKeyAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (keys.TryDequeue(out var key))
            {
                return ValueTask.FromResult(key);
            }
            if (inputClosed)
            {
                return ValueTask.FromException<ConsoleKeyInfo>(new EndOfStreamException());
            }
            if (reader is not null)
            {
                throw new InvalidOperationException("two reads at once: the editor must read keys from one place at a time");
            }
            var waiting = new TaskCompletionSource<ConsoleKeyInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
            reader = waiting;
            readerEpoch = epoch;
            cancellationToken.Register(() =>
            {
                lock (gate)
                {
                    if (reader == waiting)
                    {
                        reader = null;
                    }
                }
                waiting.TrySetCanceled(cancellationToken);
            });
            if (readerEpoch == epoch)
            {
                idle?.TrySetResult();
                idle = null;
            }
            return new ValueTask<ConsoleKeyInfo>(waiting.Task);
        }
    }

    public void Write(string text)
    {
        lock (gate)
        {
            transcript.Append(text);
            foreach (var c in text)
            {
                if (c == '\r')
                {
                    CursorColumn = 0;
                    pendingWrap = false;
                }
                else if (c == '\n')
                {
                    NextRow();
                }
                else
                {
                    Put(c);
                }
            }
        }
    }

    public void NewLine()
    {
        lock (gate)
        {
            transcript.Append("[NL]\n");
            NextRow();
        }
    }

    public void MoveUp(int rows)
    {
        lock (gate)
        {
            if (rows > 0)
            {
                transcript.Append($"[UP {rows}]");
                CursorRow = Math.Max(0, CursorRow - rows);
                pendingWrap = false;
            }
        }
    }

    public void MoveToColumn(int column)
    {
        lock (gate)
        {
            transcript.Append($"[COL {column}]");
            CursorColumn = Math.Min(column, Width - 1);
            pendingWrap = false;
        }
    }

    public void ClearScreen()
    {
        lock (gate)
        {
            transcript.Append("[CLEAR]");
            rows.Clear();
            rows.Add(new StringBuilder());
            CursorRow = 0;
            CursorColumn = 0;
            pendingWrap = false;
            ScreenClears++;
        }
    }

    public void Flush()
    {
    }

    public void Dispose()
    {
    }

    private void NextRow()
    {
        CursorRow++;
        CursorColumn = 0;
        pendingWrap = false;
        EnsureRow(CursorRow);
    }

    private void Put(char c)
    {
        if (pendingWrap)
        {
            NextRow();
        }
        EnsureRow(CursorRow);
        var row = rows[CursorRow];
        while (row.Length <= CursorColumn)
        {
            row.Append(' ');
        }
        row[CursorColumn] = c;
        if (CursorColumn == Width - 1)
        {
            if (deferredWrap)
            {
                pendingWrap = true;
            }
            else
            {
                NextRow();
            }
        }
        else
        {
            CursorColumn++;
        }
    }

    private void EnsureRow(int row)
    {
        while (rows.Count <= row)
        {
            rows.Add(new StringBuilder());
        }
    }
}
