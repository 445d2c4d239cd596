namespace Warden.Cli.Shell;

/// <summary>One option of a command: its name (without the dash), whether it takes a value, and its description.</summary>
public sealed record OptionSpec(string Name, bool HasValue, string Description);

/// <summary>
/// A set of options, at most one of which may be given (setquota's -n|-b|-N|-B); <see cref="Required"/> means
/// one must be.
/// </summary>
public sealed record OptionGroup(IReadOnlyList<OptionSpec> Members, bool Required);

/// <summary>A parse failure, with the message zkCli prints for it.</summary>
public sealed class OptionParseException(string message) : Exception(message);

/// <summary>The options found in a command's words and the words left over (the command name first).</summary>
public sealed class ParsedOptions
{
    private readonly Dictionary<string, string?> _values;

    internal ParsedOptions(Dictionary<string, string?> values, List<string> arguments)
    {
        _values = values;
        Arguments = arguments;
    }

    public IReadOnlyList<string> Arguments { get; }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Value(string name) => _values.GetValueOrDefault(name);
}

/// <summary>
/// Parses a command's words the way zkCli's option library (Apache Commons CLI's DefaultParser) does, so that
/// the same lines are accepted, refused with the same messages, and read the same: options may come before,
/// between or after the other words; <c>-sw</c> bundles flags; <c>-v3</c> and <c>-v 3</c> both give a value;
/// a negative number can be a value; <c>--</c> ends the options; an unknown dash word is an error.
/// </summary>
public sealed class OptionParser
{
    private const string LibraryPrefix = "org.apache.commons.cli.";
    private readonly List<OptionSpec> _options = [];
    private readonly List<OptionGroup> _groups = [];

    public OptionParser(params OptionSpec[] options) => _options.AddRange(options);

    public OptionParser WithGroup(OptionGroup group)
    {
        _groups.Add(group);
        _options.AddRange(group.Members);
        return this;
    }

    private OptionSpec? Find(string name) => _options.Find(o => o.Name == name);

    public ParsedOptions Parse(IReadOnlyList<string> words)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        var arguments = new List<string>();
        var selected = new Dictionary<OptionGroup, OptionSpec>();
        OptionSpec? awaitingValue = null;
        bool onlyArguments = false;

        void Select(OptionSpec option)
        {
            foreach (var group in _groups.Where(g => g.Members.Contains(option)))
            {
                if (selected.TryGetValue(group, out var already) && already != option)
                {
                    throw new OptionParseException(
                        $"{LibraryPrefix}AlreadySelectedException: The option '{option.Name}' was specified but an option from this group has already been selected: '{already.Name}'");
                }
                selected[group] = option;
            }
            values[option.Name] = values.GetValueOrDefault(option.Name);
        }

        void CheckAwaited()
        {
            if (awaitingValue is not null)
            {
                throw new OptionParseException($"{LibraryPrefix}MissingArgumentException: Missing argument for option: {awaitingValue.Name}");
            }
        }

        foreach (string word in words)
        {
            if (onlyArguments)
            {
                arguments.Add(word);
                continue;
            }
            if (awaitingValue is not null && (!IsOption(word) || IsNegativeNumber(word)))
            {
                values[awaitingValue.Name] = word;
                awaitingValue = null;
                continue;
            }
            if (word == "--")
            {
                CheckAwaited();
                onlyArguments = true;
                continue;
            }
            if (word.StartsWith('-') && word != "-")
            {
                CheckAwaited();
                string name = word[1..];
                if (name.StartsWith('-')) name = name[1..];
                string key = name.Split('=', 2)[0];
                if (Find(key) is { } exact)
                {
                    Select(exact);
                    if (exact.HasValue)
                    {
                        if (name.Length > key.Length) values[exact.Name] = name[(key.Length + 1)..];
                        else awaitingValue = exact;
                    }
                    continue;
                }
                if (name.Length > 1 && Find(name[..1]) is { HasValue: true } withValue)
                {
                    // -v3: an option that takes a value, with the value attached.
                    Select(withValue);
                    values[withValue.Name] = name[1..];
                    continue;
                }
                if (name.Length > 1 && Find(name[..1]) is not null)
                {
                    // -sw: bundled flags; a flag that takes a value takes the rest of the word.
                    for (int i = 0; i < name.Length; i++)
                    {
                        var option = Find(name[i].ToString()) ??
                            throw new OptionParseException($"{LibraryPrefix}UnrecognizedOptionException: Unrecognized option: {(i == 0 ? word : "-" + name[i])}");
                        Select(option);
                        if (option.HasValue)
                        {
                            if (i + 1 < name.Length) values[option.Name] = name[(i + 1)..];
                            else awaitingValue = option;
                            break;
                        }
                    }
                    continue;
                }
                throw new OptionParseException($"{LibraryPrefix}UnrecognizedOptionException: Unrecognized option: {word}");
            }
            arguments.Add(word);
        }
        CheckAwaited();
        foreach (var group in _groups.Where(g => g.Required && !selected.ContainsKey(g)))
        {
            string members = string.Join(", ", group.Members.Select(o => $"-{o.Name} {o.Description}"));
            throw new OptionParseException($"{LibraryPrefix}MissingOptionException: Missing required option: [{members}]");
        }
        return new ParsedOptions(values, arguments);
    }

    private bool IsOption(string word)
    {
        if (!word.StartsWith('-') || word.Length < 2) return false;
        string name = word.TrimStart('-').Split('=', 2)[0];
        return Find(name) is not null || (name.Length > 0 && Find(name[..1]) is not null && !word.StartsWith("--", StringComparison.Ordinal));
    }

    private static bool IsNegativeNumber(string word) =>
        word.Length > 1 && word[0] == '-' && double.TryParse(word, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _);
}
