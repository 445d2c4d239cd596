using System.Text;

namespace Warden.Testing;

/// <summary>
/// A server's stdout and stderr, interleaved as they arrive, kept for failure messages.
/// Bounded: a chatty server in a long run keeps only the newest text, which is what explains a
/// failure anyway.
/// </summary>
internal sealed class OutputLog
{
    private const int MaxChars = 2_000_000;
    private readonly StringBuilder text = new();
    private readonly Lock gate = new();
    private bool truncated;

    public void Append(string stream, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (gate)
        {
            text.Append(stream).Append("| ").Append(line).Append('\n');
            if (text.Length > MaxChars)
            {
                text.Remove(0, text.Length - MaxChars / 2);
                truncated = true;
            }
        }
    }

    public override string ToString()
    {
        lock (gate)
        {
            return truncated ? "[older output dropped]\n" + text : text.ToString();
        }
    }
}
