namespace Warden.Cli.Shell.Interactive;

/// <summary>The line being edited and the cursor in it, with the editing operations the keys map to.</summary>
public sealed class EditBuffer
{
    /// <summary>The text of the line.</summary>
    public string Text { get; private set; } = "";

    /// <summary>The cursor, 0 (before the first character) to <c>Text.Length</c> (after the last).</summary>
    public int Cursor { get; private set; }

    public bool IsEmpty => Text.Length == 0;

    /// <summary>Replaces the whole line and puts the cursor at its end.</summary>
    public void Set(string text)
    {
        Text = text;
        Cursor = text.Length;
    }

    public void Insert(string text)
    {
        Text = Text.Insert(Cursor, text);
        Cursor += text.Length;
    }

    /// <summary>Replaces <c>[start, Cursor)</c> with <paramref name="text"/>, leaving the cursor after it.</summary>
    public void ReplaceBeforeCursor(int start, string text)
    {
        Text = string.Concat(Text.AsSpan(0, start), text, Text.AsSpan(Cursor));
        Cursor = start + text.Length;
    }

    public bool Backspace()
    {
        if (Cursor == 0)
        {
            return false;
        }
        Text = Text.Remove(Cursor - 1, 1);
        Cursor--;
        return true;
    }

    public bool Delete()
    {
        if (Cursor == Text.Length)
        {
            return false;
        }
        Text = Text.Remove(Cursor, 1);
        return true;
    }

    public bool Left() => MoveTo(Cursor - 1);

    public bool Right() => MoveTo(Cursor + 1);

    public bool Home() => MoveTo(0);

    public bool End() => MoveTo(Text.Length);

    /// <summary>To the start of the word before the cursor (words are runs of non-space).</summary>
    public bool WordLeft() => MoveTo(StartOfWordBefore(Cursor));

    /// <summary>To the end of the word after the cursor.</summary>
    public bool WordRight()
    {
        var position = Cursor;
        while (position < Text.Length && char.IsWhiteSpace(Text[position]))
        {
            position++;
        }
        while (position < Text.Length && !char.IsWhiteSpace(Text[position]))
        {
            position++;
        }
        return MoveTo(position);
    }

    /// <summary>Ctrl-W: deletes the spaces before the cursor and the word before them, as bash's unix-word-rubout.</summary>
    public bool DeleteWordBefore()
    {
        var start = StartOfWordBefore(Cursor);
        if (start == Cursor)
        {
            return false;
        }
        Text = Text.Remove(start, Cursor - start);
        Cursor = start;
        return true;
    }

    /// <summary>Ctrl-U: deletes from the start of the line to the cursor.</summary>
    public bool DeleteToStart()
    {
        if (Cursor == 0)
        {
            return false;
        }
        Text = Text[Cursor..];
        Cursor = 0;
        return true;
    }

    /// <summary>Ctrl-K: deletes from the cursor to the end of the line.</summary>
    public bool DeleteToEnd()
    {
        if (Cursor == Text.Length)
        {
            return false;
        }
        Text = Text[..Cursor];
        return true;
    }

    private int StartOfWordBefore(int position)
    {
        while (position > 0 && char.IsWhiteSpace(Text[position - 1]))
        {
            position--;
        }
        while (position > 0 && !char.IsWhiteSpace(Text[position - 1]))
        {
            position--;
        }
        return position;
    }

    private bool MoveTo(int position)
    {
        position = Math.Clamp(position, 0, Text.Length);
        if (position == Cursor)
        {
            return false;
        }
        Cursor = position;
        return true;
    }
}
