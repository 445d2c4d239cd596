using System.Text.RegularExpressions;

namespace Warden.Cli.Shell;

/// <summary>
/// Splits a shell line into words as zkCli does: words end at whitespace, and a word that starts with a single
/// or double quote runs to the matching quote (the quotes are dropped). A quote that is never closed is skipped.
/// There are no escapes.
/// </summary>
public static partial class Tokenizer
{
    // Java's \s is ASCII whitespace only; spelled out so that .NET's Unicode-aware \s does not split differently.
    [GeneratedRegex("""[ \t\n\x0B\f\r]*([^"' \t\n\x0B\f\r][^ \t\n\x0B\f\r]*|"[^"]*"|'[^']*')[ \t\n\x0B\f\r]*""")]
    private static partial Regex Word();

    public static List<string> Split(string line)
    {
        var words = new List<string>();
        foreach (Match match in Word().Matches(line))
        {
            string word = match.Groups[1].Value;
            if (word.Length >= 2 && word[0] is '"' or '\'' && word[^1] == word[0]) word = word[1..^1];
            words.Add(word);
        }
        return words;
    }
}
