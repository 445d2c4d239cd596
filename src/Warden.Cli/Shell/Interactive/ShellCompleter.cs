using Warden.Client;

namespace Warden.Cli.Shell.Interactive;

/// <summary>One way to finish the word at the cursor.</summary>
/// <param name="Replacement">The whole word as it would read completed (for a path, the full path).</param>
/// <param name="Display">How it is listed when there are several (for a path, the last segment).</param>
/// <param name="Suffix">Typed after the replacement when it is the only candidate: a space, or `/` for a node with children.</param>
public sealed record CompletionCandidate(string Replacement, string Display, string Suffix);

/// <summary>The candidates for the word that starts at <paramref name="Start"/> and ends at the cursor.</summary>
public sealed record Completions(int Start, IReadOnlyList<CompletionCandidate> Candidates)
{
    public static readonly Completions None = new(0, []);
}

/// <summary>Finds completions for a line at a cursor position.</summary>
public interface ICompleter
{
    Task<Completions> CompleteAsync(string line, int cursor, CancellationToken cancellationToken);
}

/// <summary>
/// zkCli completion: the first word is a command name; a later word starting with `-` is one of that command's
/// options; a later word starting with `/` is a znode path, for commands that take one, completed segment by
/// segment from the server. Without a connected client there are no path candidates, and a server that does not
/// answer within <paramref name="serverTimeout"/> yields none either: completion never prints errors.
/// </summary>
public sealed class ShellCompleter(IShell shell, TimeSpan serverTimeout) : ICompleter
{
    public async Task<Completions> CompleteAsync(string line, int cursor, CancellationToken cancellationToken)
    {
        var before = line[..cursor];
        var start = before.Length;
        while (start > 0 && !char.IsWhiteSpace(before[start - 1]))
        {
            start--;
        }
        var word = before[start..];
        var earlierWords = before[..start].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (earlierWords.Length == 0)
        {
            return new Completions(start, Matching(CommandTable.All.Select(c => c.Name), word));
        }
        var command = CommandTable.Find(earlierWords[0]);
        if (command is null || command.Name == "connect")
        {
            return Completions.None;
        }
        if (word.StartsWith('-'))
        {
            return new Completions(start, Matching(command.Options, word));
        }
        if (command.TakesPath && word.StartsWith('/'))
        {
            return new Completions(start, await PathCandidatesAsync(word, cancellationToken).ConfigureAwait(false));
        }
        return Completions.None;
    }

    private static List<CompletionCandidate> Matching(IEnumerable<string> names, string word) =>
        names.Where(n => n.StartsWith(word, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => new CompletionCandidate(n, n, " "))
            .ToList();

    private async Task<IReadOnlyList<CompletionCandidate>> PathCandidatesAsync(string word, CancellationToken cancellationToken)
    {
        var client = shell.Client;
        if (client is null || client.State is not (ConnectionState.Connected or ConnectionState.ConnectedReadOnly))
        {
            return [];
        }
        var lastSlash = word.LastIndexOf('/');
        var parent = lastSlash == 0 ? "/" : word[..lastSlash];
        var directory = word[..(lastSlash + 1)];
        var prefix = word[(lastSlash + 1)..];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(serverTimeout);
        try
        {
            var children = await client.GetChildrenAsync(parent, timeout.Token).ConfigureAwait(false);
            var matches = children.Children
                .Where(c => c.StartsWith(prefix, StringComparison.Ordinal))
                .Order(StringComparer.Ordinal)
                .Select(c => new CompletionCandidate(directory + c, c, ""))
                .ToList();
            if (matches.Count == 1)
            {
                // Only the one candidate is worth a second request: `/` invites the next segment, a space the next argument.
                var stat = await client.ExistsAsync(matches[0].Replacement, timeout.Token).ConfigureAwait(false);
                matches[0] = matches[0] with { Suffix = stat is { NumChildren: > 0 } ? "/" : " " };
            }
            return matches;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Completion is a convenience: a malformed path, a missing node, a lost connection or a slow server
            // all mean "no candidates", never an error in the middle of the user's typing.
            return [];
        }
    }
}
