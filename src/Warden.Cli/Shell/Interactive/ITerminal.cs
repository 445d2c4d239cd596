namespace Warden.Cli.Shell.Interactive;

/// <summary>
/// The few things the line editor needs from a terminal. The editor never asks where the cursor is: it keeps
/// track of that itself and moves relatively, because on Unix asking means writing a query and reading the
/// answer from the same input the key reader is blocked on. That also lets a test script keys against a
/// model of a screen.
/// </summary>
public interface ITerminal : IDisposable
{
    /// <summary>Columns of the window; the editor wraps its line by this.</summary>
    int Width { get; }

    /// <summary>
    /// The next key. Cancelling the wait never loses a key: a key that arrives is returned by the next call.
    /// Throws <see cref="EndOfStreamException"/> when no key can ever come (the input closed).
    /// </summary>
    ValueTask<ConsoleKeyInfo> ReadKeyAsync(CancellationToken cancellationToken);

    /// <summary>Writes text at the cursor; the terminal wraps it at the right margin.</summary>
    void Write(string text);

    /// <summary>Moves to the start of the next line (scrolling at the bottom).</summary>
    void NewLine();

    /// <summary>Moves the cursor up by <paramref name="rows"/> rows, keeping its column.</summary>
    void MoveUp(int rows);

    /// <summary>Moves the cursor to <paramref name="column"/> (0-based) of its row.</summary>
    void MoveToColumn(int column);

    /// <summary>Clears the window and puts the cursor at its top left.</summary>
    void ClearScreen();

    /// <summary>Sends what was written so far to the screen.</summary>
    void Flush();
}
