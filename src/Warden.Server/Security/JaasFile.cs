using System.Text;

namespace Warden.Server.Security;

/// <summary>One login module line of a JAAS section: its class, its flag and its key=value options.</summary>
public sealed record JaasEntry(string LoginModule, string Flag, IReadOnlyDictionary<string, string> Options);

/// <summary>
/// A JAAS login configuration file (the file -Djava.security.auth.login.config names), read as Java's
/// ConfigFile reads it:
/// <code>
/// Server {
///     org.apache.zookeeper.server.auth.DigestLoginModule required
///     user_super="adminsecret"
///     user_bob="bobsecret";
/// };
/// </code>
/// Sections hold login modules ended by ';', each with a flag (required, requisite, sufficient, optional) and
/// options whose values are bare words or quoted strings; // and /* */ comments are skipped. Section names
/// are case-sensitive here; Java looks them up ignoring case, which only matters for a file with both
/// "Server" and "server".
/// </summary>
public sealed class JaasFile
{
    private static readonly string[] Flags = ["required", "requisite", "sufficient", "optional"];
    private readonly Dictionary<string, List<JaasEntry>> _sections;

    private JaasFile(Dictionary<string, List<JaasEntry>> sections) => _sections = sections;

    /// <summary>The entries of a section, or null when the file has no section of that name.</summary>
    public IReadOnlyList<JaasEntry>? Section(string name) =>
        _sections.TryGetValue(name, out var entries) ? entries
        : _sections.FirstOrDefault(s => s.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    public IEnumerable<string> SectionNames => _sections.Keys;

    /// <summary>Reads and parses a file; IOException for a file that cannot be read, FormatException for bad syntax.</summary>
    public static JaasFile Load(string path) => Parse(File.ReadAllText(path));

    public static JaasFile Parse(string text)
    {
        var tokens = new Tokens(text);
        var sections = new Dictionary<string, List<JaasEntry>>(StringComparer.Ordinal);
        while (tokens.Next() is { } name)
        {
            tokens.Expect("{", $"after section name {name}");
            var entries = new List<JaasEntry>();
            while (true)
            {
                string module = tokens.Next() ?? throw tokens.Error($"section {name} is not closed with }};");
                if (module == "}") break;
                string flag = tokens.Next() ?? throw tokens.Error($"login module {module} has no flag");
                if (!Flags.Contains(flag, StringComparer.OrdinalIgnoreCase))
                {
                    throw tokens.Error($"login module {module} has flag \"{flag}\"; use one of {string.Join(", ", Flags)}");
                }
                var options = new Dictionary<string, string>(StringComparer.Ordinal);
                while (true)
                {
                    string key = tokens.Next() ?? throw tokens.Error($"login module {module} is not ended with ;");
                    if (key == ";") break;
                    tokens.Expect("=", $"after option {key}");
                    options[key] = tokens.Next() ?? throw tokens.Error($"option {key} has no value");
                }
                entries.Add(new JaasEntry(module, flag.ToLowerInvariant(), options));
            }
            tokens.Expect(";", $"after the }} of section {name}");
            if (!sections.TryAdd(name, entries)) sections[name].AddRange(entries);
        }
        return new JaasFile(sections);
    }

    /// <summary>Words, quoted strings and the punctuation { } ; =, with line numbers for messages.</summary>
    private sealed class Tokens(string text)
    {
        private int _at;
        private int _line = 1;

        public FormatException Error(string message) => new($"line {_line}: {message}");

        public void Expect(string punctuation, string where)
        {
            string? token = Next();
            if (token != punctuation) throw Error($"expected \"{punctuation}\" {where}, found {(token is null ? "the end of the file" : $"\"{token}\"")}");
        }

        public string? Next()
        {
            SkipSpaceAndComments();
            if (_at >= text.Length) return null;
            char c = text[_at];
            if (c is '{' or '}' or ';' or '=')
            {
                _at++;
                return c.ToString();
            }
            if (c is '"' or '\'')
            {
                _at++;
                var value = new StringBuilder();
                while (_at < text.Length && text[_at] != c)
                {
                    if (text[_at] == '\\' && _at + 1 < text.Length) _at++;
                    if (text[_at] == '\n') _line++;
                    value.Append(text[_at++]);
                }
                if (_at >= text.Length) throw Error("a quoted value is not closed");
                _at++;
                return value.ToString();
            }
            int start = _at;
            while (_at < text.Length && !char.IsWhiteSpace(text[_at]) && text[_at] is not ('{' or '}' or ';' or '=' or '"' or '\''))
            {
                if (text[_at] == '/' && _at + 1 < text.Length && text[_at + 1] is '/' or '*') break;
                _at++;
            }
            return text[start.._at];
        }

        private void SkipSpaceAndComments()
        {
            while (_at < text.Length)
            {
                if (text[_at] == '\n') { _line++; _at++; }
                else if (char.IsWhiteSpace(text[_at])) _at++;
                else if (text.AsSpan(_at).StartsWith("//") || text[_at] == '#')
                {
                    while (_at < text.Length && text[_at] != '\n') _at++;
                }
                else if (text.AsSpan(_at).StartsWith("/*"))
                {
                    int end = text.IndexOf("*/", _at + 2, StringComparison.Ordinal);
                    if (end < 0) throw Error("a /* comment is not closed");
                    for (int i = _at; i < end; i++) if (text[i] == '\n') _line++;
                    _at = end + 2;
                }
                else return;
            }
        }
    }
}
