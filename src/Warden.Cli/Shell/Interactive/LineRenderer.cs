namespace Warden.Cli.Shell.Interactive;

/// <summary>
/// Draws the prompt and the line being edited, wrapped over as many rows as the window width makes it, and keeps
/// track of where the cursor is relative to the row the prompt starts on.
/// </summary>
/// <remarks>
/// Every draw starts again from the prompt's first column and writes the whole line; whatever the last draw put
/// beyond the new end is overwritten with spaces, so no "clear to end of screen" control is needed (Windows consoles
/// without ANSI have none). One difference between terminals has to be smoothed over: after a character is written
/// in the last column, xterm-like terminals leave the cursor in that column until the next character arrives,
/// while the Windows console moves it to the next row at once. When a draw ends exactly on the right margin, a
/// space and a carriage return put the cursor at the start of the next row on both kinds.
/// Characters are counted as one column each; wide characters (CJK, emoji) would need a width table.
/// </remarks>
public sealed class LineRenderer(ITerminal terminal)
{
    private int cursorRow;
    private int drawnLength;

    /// <summary>Forgets the last draw: the cursor is at the start of an empty row, where the next draw begins.</summary>
    public void Reset()
    {
        cursorRow = 0;
        drawnLength = 0;
    }

    /// <summary>Draws <paramref name="prompt"/> and <paramref name="text"/> and puts the cursor at <paramref name="cursor"/> in the text.</summary>
    public void Draw(string prompt, string text, int cursor)
    {
        var width = Math.Max(1, terminal.Width);
        var line = prompt + text;
        var end = GoToStartAndWrite(line, width);
        var target = prompt.Length + cursor;
        terminal.MoveUp(end / width - target / width);
        terminal.MoveToColumn(target % width);
        cursorRow = target / width;
        drawnLength = line.Length;
        terminal.Flush();
    }

    /// <summary>Draws the line with the cursor after its end, then moves to a fresh row: the line is done.</summary>
    public void Finish(string prompt, string text, string marker = "")
    {
        Draw(prompt, text, text.Length);
        if (marker.Length > 0)
        {
            terminal.Write(marker);
        }
        terminal.NewLine();
        terminal.Flush();
        Reset();
    }

    /// <summary>Blanks the drawn line and leaves the cursor where it started, for text to be printed in its place.</summary>
    public void Erase()
    {
        var width = Math.Max(1, terminal.Width);
        var end = GoToStartAndWrite("", width);
        terminal.MoveUp(end / width);
        terminal.MoveToColumn(0);
        Reset();
    }

    /// <summary>
    /// Goes to the prompt's first column, writes <paramref name="line"/>, blanks what the last draw left beyond it,
    /// and returns how many columns from the start the cursor now is (always at a row start when on a margin).
    /// </summary>
    private int GoToStartAndWrite(string line, int width)
    {
        terminal.MoveUp(cursorRow);
        terminal.MoveToColumn(0);
        terminal.Write(line);
        var end = line.Length;
        if (end < drawnLength)
        {
            terminal.Write(new string(' ', drawnLength - end));
            end = drawnLength;
        }
        if (end > 0 && end % width == 0)
        {
            terminal.Write(" ");
            terminal.MoveToColumn(0);
        }
        return end;
    }
}
