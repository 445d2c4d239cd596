using System.Text;

namespace Warden.Cli.Shell.Interactive;

/// <summary>
/// The lines entered at the prompt, oldest first, for Up and Down; kept across runs in a file of one line per
/// entry. The list keeps at most <c>limit</c> entries and never the same line twice in a row. The file is only a
/// convenience: a file that cannot be read or written costs a warning (once), never the session.
/// </summary>
public sealed class CommandHistory
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);
    private readonly List<string> entries = [];
    private readonly int limit;
    private readonly string? path;
    private readonly Action<string> warn;
    private int linesInFile;
    private bool writeFailed;

    private CommandHistory(int limit, string? path, Action<string> warn)
    {
        if (limit < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, "the history must hold at least one line");
        }
        this.limit = limit;
        this.path = path;
        this.warn = warn;
    }

    /// <summary>The entries, oldest first.</summary>
    public IReadOnlyList<string> Entries => entries;

    /// <summary>A history that lives in memory only.</summary>
    public static CommandHistory InMemory(int limit) => new(limit, null, _ => { });

    /// <summary>
    /// Loads the history from <paramref name="path"/> (a missing file is an empty history) and appends to it from
    /// then on. A file longer than twice the limit is rewritten with its newest entries.
    /// </summary>
    public static CommandHistory Open(string path, int limit, Action<string> warn)
    {
        var history = new CommandHistory(limit, path, warn);
        history.Load();
        return history;
    }

    /// <summary>Adds a line entered at the prompt. Blank lines and repeats of the newest entry are not kept.</summary>
    /// <returns>True when the line was added.</returns>
    public bool Add(string line)
    {
        if (string.IsNullOrWhiteSpace(line) || line.Contains('\n') || line.Contains('\r')
            || (entries.Count > 0 && entries[^1] == line))
        {
            return false;
        }
        Remember(line);
        Append(line);
        return true;
    }

    private void Remember(string line)
    {
        if (entries.Count > 0 && entries[^1] == line)
        {
            return;
        }
        entries.Add(line);
        if (entries.Count > limit)
        {
            entries.RemoveRange(0, entries.Count - limit);
        }
    }

    private void Load()
    {
        if (path is null)
        {
            return;
        }
        if (Directory.Exists(path))
        {
            Unusable($"could not read the history file {path}: it is a directory");
            return;
        }
        if (!File.Exists(path))
        {
            return;
        }
        try
        {
            var lines = File.ReadAllLines(path, Utf8);
            foreach (var line in lines)
            {
                if (!string.IsNullOrWhiteSpace(line))
                {
                    Remember(line);
                }
            }
            linesInFile = lines.Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Unusable($"could not read the history file {path}: {e.Message}");
            return;
        }
        if (linesInFile > 2 * limit)
        {
            Rewrite();
        }
    }

    /// <summary>A file that cannot be read is not written either: a rewrite would replace what is in it.</summary>
    private void Unusable(string problem)
    {
        writeFailed = true;
        warn($"warning: {problem}; history is kept for this session only");
    }

    private void Append(string line)
    {
        if (path is null || writeFailed)
        {
            return;
        }
        if (linesInFile + 1 > 2 * limit)
        {
            // Appending keeps what other shells wrote meanwhile; a file that only grows is cut back now and then.
            Rewrite();
            return;
        }
        Try(() =>
        {
            File.AppendAllText(path, line + "\n", Utf8);
            linesInFile++;
        });
    }

    private void Rewrite()
    {
        Try(() =>
        {
            // Written beside the file and moved over it, so a crash mid-write cannot leave half a history.
            var temporary = path + ".tmp";
            File.WriteAllText(temporary, string.Concat(entries.Select(e => e + "\n")), Utf8);
            File.Move(temporary, path!, overwrite: true);
            linesInFile = entries.Count;
        });
    }

    private void Try(Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            writeFailed = true;
            warn($"warning: could not write the history file {path}: {e.Message}; history is kept for this session only");
        }
    }
}
