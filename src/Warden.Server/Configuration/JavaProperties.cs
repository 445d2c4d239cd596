using System.Text;

namespace Warden.Server.Configuration;

/// <summary>One key/value pair as java.util.Properties.load reads it, with where it came from.</summary>
/// <param name="Key">The key after escapes are applied.</param>
/// <param name="Value">The value after escapes are applied (leading blanks dropped, trailing blanks kept, as Java does).</param>
/// <param name="RawValue">The value text as written in the file, continuation lines joined, before escapes are applied.</param>
/// <param name="RawLine">The whole logical line as written, continuation lines joined.</param>
/// <param name="LineNumber">The 1-based line on which the logical line starts.</param>
public sealed record PropertyEntry(string Key, string Value, string RawValue, string RawLine, int LineNumber)
{
    /// <summary>
    /// True when the raw value holds a backslash escape that changes the text in a way a person rarely
    /// means: <c>\k</c> silently becoming <c>k</c>, or <c>\t</c>/<c>\n</c> becoming a control character.
    /// This is how a Windows path like <c>D:\kj\data</c> turns into <c>D:kjdata</c>.
    /// <c>\\</c> and <c>\uXXXX</c> are deliberate and not reported.
    /// </summary>
    public bool HasSwallowedBackslash
    {
        get
        {
            for (int i = 0; i < RawValue.Length - 1; i++)
            {
                if (RawValue[i] != '\\')
                {
                    continue;
                }
                char next = RawValue[i + 1];
                if (next != '\\' && next != 'u')
                {
                    return true;
                }
                i++; // skip the escaped character so "\\\\k" is not misread
            }
            return false;
        }
    }
}

/// <summary>A line that java.util.Properties.load would reject (it throws, and ZooKeeper refuses the file).</summary>
public sealed record PropertySyntaxError(int LineNumber, string RawLine, string Message);

/// <summary>
/// A reader faithful to java.util.Properties.load(InputStream) as in JDK 17, because a zoo.cfg means what
/// Java makes of it, not what it looks like. The rules, checked against the JDK on the same inputs:
/// <list type="bullet">
/// <item>Bytes are ISO-8859-1: each byte is one char, so UTF-8 text arrives as several Latin-1 chars.</item>
/// <item>Lines end at \n, \r or \r\n. Leading blanks (space, \t, \f) are skipped; blank lines are skipped.</item>
/// <item>A line whose first non-blank char is <c>#</c> or <c>!</c> is a comment, and a comment never continues.</item>
/// <item>A line ending in an odd number of backslashes continues on the next line; that line's leading blanks
/// are dropped. A continuation line that is empty after its blanks ends the logical line.</item>
/// <item>The key ends at the first unescaped <c>=</c>, <c>:</c> or blank; blanks then at most one <c>=</c>/<c>:</c>
/// then blanks separate it from the value.</item>
/// <item>Escapes: \t \n \r \f \uXXXX; a backslash before any other char yields that char.</item>
/// <item>A later key replaces an earlier one.</item>
/// </list>
/// </summary>
public sealed class JavaProperties
{
    private readonly Dictionary<string, PropertyEntry> _byKey;

    private JavaProperties(List<PropertyEntry> entries, List<PropertySyntaxError> errors, bool startsWithUtf8Bom)
    {
        AllEntries = entries;
        Errors = errors;
        StartsWithUtf8ByteOrderMark = startsWithUtf8Bom;
        _byKey = new Dictionary<string, PropertyEntry>(StringComparer.Ordinal);
        foreach (PropertyEntry entry in entries)
        {
            _byKey[entry.Key] = entry;
        }
        Entries = entries.Where(e => ReferenceEquals(_byKey[e.Key], e)).ToList();
    }

    /// <summary>Every entry in file order, including ones a later line overrides.</summary>
    public IReadOnlyList<PropertyEntry> AllEntries { get; }

    /// <summary>The entries that take effect (the last one for each key), in file order.</summary>
    public IReadOnlyList<PropertyEntry> Entries { get; }

    /// <summary>Lines Java would refuse with "Malformed \uxxxx encoding."; such entries are left out.</summary>
    public IReadOnlyList<PropertySyntaxError> Errors { get; }

    /// <summary>True when the bytes begin with EF BB BF, which Java reads as part of the first key.</summary>
    public bool StartsWithUtf8ByteOrderMark { get; }

    public IEnumerable<string> Keys => _byKey.Keys;

    public bool TryGet(string key, out PropertyEntry entry) => _byKey.TryGetValue(key, out entry!);

    public string? this[string key] => _byKey.TryGetValue(key, out PropertyEntry? e) ? e.Value : null;

    /// <summary>Reads bytes the way Properties.load(InputStream) does: one byte is one ISO-8859-1 char.</summary>
    public static JavaProperties Load(ReadOnlySpan<byte> bytes)
    {
        bool bom = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF;
        return Parse(Encoding.Latin1.GetString(bytes), bom);
    }

    /// <summary>Reads text that is already decoded (as Properties.load(Reader) does).</summary>
    public static JavaProperties Parse(string text) => Parse(text, startsWithUtf8Bom: false);

    private static JavaProperties Parse(string text, bool startsWithUtf8Bom)
    {
        var entries = new List<PropertyEntry>();
        var errors = new List<PropertySyntaxError>();
        var reader = new LogicalLineReader(text);
        while (reader.TryReadLine(out string line, out int lineNumber))
        {
            SplitKeyValue(line, out string rawKey, out string rawValue);
            string? key = Unescape(rawKey, out string? keyError);
            string? value = Unescape(rawValue, out string? valueError);
            if (key is null || value is null)
            {
                errors.Add(new PropertySyntaxError(lineNumber, line, keyError ?? valueError ?? "malformed escape"));
                continue;
            }
            entries.Add(new PropertyEntry(key, value, rawValue, line, lineNumber));
        }
        return new JavaProperties(entries, errors, startsWithUtf8Bom);
    }

    private static bool IsBlank(char c) => c == ' ' || c == '\t' || c == '\f';

    /// <summary>Finds where the key ends and the value starts, before escapes are applied.</summary>
    private static void SplitKeyValue(string line, out string rawKey, out string rawValue)
    {
        int keyLength = 0;
        int valueStart = line.Length;
        bool hasSeparator = false;
        bool precedingBackslash = false;
        while (keyLength < line.Length)
        {
            char c = line[keyLength];
            if ((c == '=' || c == ':') && !precedingBackslash)
            {
                valueStart = keyLength + 1;
                hasSeparator = true;
                break;
            }
            if (IsBlank(c) && !precedingBackslash)
            {
                valueStart = keyLength + 1;
                break;
            }
            precedingBackslash = c == '\\' && !precedingBackslash;
            keyLength++;
        }
        while (valueStart < line.Length)
        {
            char c = line[valueStart];
            if (!IsBlank(c))
            {
                // After a blank ended the key, one '=' or ':' still counts as the separator.
                if (!hasSeparator && (c == '=' || c == ':'))
                {
                    hasSeparator = true;
                }
                else
                {
                    break;
                }
            }
            valueStart++;
        }
        rawKey = line[..keyLength];
        rawValue = line[valueStart..];
    }

    /// <summary>Applies Java's escapes; returns null (and why) where Java would throw.</summary>
    internal static string? Unescape(string raw, out string? error)
    {
        error = null;
        if (!raw.Contains('\\'))
        {
            return raw;
        }
        var result = new StringBuilder(raw.Length);
        int i = 0;
        while (i < raw.Length)
        {
            char c = raw[i++];
            if (c != '\\' || i >= raw.Length)
            {
                result.Append(c);
                continue;
            }
            c = raw[i++];
            if (c == 'u')
            {
                if (!TryReadHex4(raw, i, out char decoded))
                {
                    string shown = raw.Substring(i - 2, Math.Min(6, raw.Length - (i - 2)));
                    error = $"\"{shown}\" is not a valid \\uXXXX escape (Java refuses the whole file)";
                    return null;
                }
                result.Append(decoded);
                i += 4;
                continue;
            }
            result.Append(c switch { 't' => '\t', 'n' => '\n', 'r' => '\r', 'f' => '\f', _ => c });
        }
        return result.ToString();
    }

    private static bool TryReadHex4(string raw, int start, out char decoded)
    {
        decoded = '\0';
        if (start + 4 > raw.Length)
        {
            return false;
        }
        int value = 0;
        for (int k = 0; k < 4; k++)
        {
            int digit = HexValue(raw[start + k]);
            if (digit < 0)
            {
                return false;
            }
            value = (value << 4) | digit;
        }
        decoded = (char)value;
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>
    /// Joins natural lines into logical lines exactly as the JDK's LineReader does, remembering the
    /// number of the natural line where each logical line starts.
    /// </summary>
    private sealed class LogicalLineReader(string text)
    {
        private int _position;
        private int _lineNumber = 1;

        public bool TryReadLine(out string line, out int startLineNumber)
        {
            var buffer = new StringBuilder();
            bool skipBlanks = true;
            bool continuing = false;
            bool precedingBackslash = false;
            startLineNumber = _lineNumber;
            while (_position < text.Length)
            {
                char c = text[_position++];
                if (skipBlanks)
                {
                    if (IsBlank(c))
                    {
                        continue;
                    }
                    if (!continuing && (c == '\r' || c == '\n'))
                    {
                        ConsumeLineEnd(c);
                        startLineNumber = _lineNumber;
                        continue;
                    }
                    skipBlanks = false;
                    continuing = false;
                }
                if (buffer.Length == 0 && (c == '#' || c == '!'))
                {
                    SkipRestOfLine();
                    skipBlanks = true;
                    startLineNumber = _lineNumber;
                    continue;
                }
                if (c != '\n' && c != '\r')
                {
                    buffer.Append(c);
                    precedingBackslash = c == '\\' && !precedingBackslash;
                    continue;
                }
                bool endOfInput = _position >= text.Length;
                ConsumeLineEnd(c);
                if (buffer.Length == 0)
                {
                    skipBlanks = true;
                    startLineNumber = _lineNumber;
                    continue;
                }
                if (endOfInput)
                {
                    // Java looks for more input before deciding about continuation; at the very end it returns
                    // the line minus its backslash, even when that leaves it empty (a lone "\\\n" gives key "").
                    line = precedingBackslash ? buffer.ToString(0, buffer.Length - 1) : buffer.ToString();
                    return true;
                }
                if (!precedingBackslash)
                {
                    line = buffer.ToString();
                    return true;
                }
                // The backslash that asked for continuation is not part of the value.
                buffer.Length--;
                precedingBackslash = false;
                skipBlanks = true;
                continuing = true;
            }
            line = "";
            if (buffer.Length == 0)
            {
                return false;
            }
            // At the end of the input a trailing backslash is dropped; Java still yields the
            // (possibly now empty) line, so a lone "\" at the very end makes the key "".
            if (precedingBackslash)
            {
                buffer.Length--;
            }
            line = buffer.ToString();
            return true;
        }

        private void ConsumeLineEnd(char c)
        {
            if (c == '\r' && _position < text.Length && text[_position] == '\n')
            {
                _position++;
            }
            _lineNumber++;
        }

        private void SkipRestOfLine()
        {
            while (_position < text.Length)
            {
                char c = text[_position++];
                if (c == '\n' || c == '\r')
                {
                    ConsumeLineEnd(c);
                    return;
                }
            }
        }
    }
}
