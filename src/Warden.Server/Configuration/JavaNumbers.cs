using System.Globalization;

namespace Warden.Server.Configuration;

/// <summary>
/// Java's number and boolean parsing rules, because the same text must mean the same thing here.
/// Integer.parseInt takes an optional sign and decimal digits, nothing else (no blanks, no "2_000").
/// Integer.getInteger, used for most -D knobs, goes through Integer.decode, which also takes 0x/# for hex
/// and a leading 0 for octal, and silently falls back to the default on anything else.
/// </summary>
public static class JavaNumbers
{
    public static bool TryParseInt(string text, out int value) => TryParseLong(text, out long wide) & FitsInt(wide, out value);

    public static bool TryParseLong(string text, out long value)
    {
        value = 0;
        if (text.Length == 0)
        {
            return false;
        }
        int start = text[0] is '+' or '-' ? 1 : 0;
        if (start == text.Length)
        {
            return false;
        }
        for (int i = start; i < text.Length; i++)
        {
            if (text[i] is < '0' or > '9')
            {
                return false;
            }
        }
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Integer.decode / Long.decode: sign, then 0x, 0X or # for hex, a leading 0 for octal, else decimal.</summary>
    public static bool TryDecodeLong(string text, out long value)
    {
        value = 0;
        if (text.Length == 0)
        {
            return false;
        }
        int index = 0;
        bool negative = false;
        if (text[0] is '+' or '-')
        {
            negative = text[0] == '-';
            index = 1;
        }
        int radix = 10;
        if (string.CompareOrdinal(text, index, "0x", 0, 2) == 0 || string.CompareOrdinal(text, index, "0X", 0, 2) == 0)
        {
            radix = 16;
            index += 2;
        }
        else if (index < text.Length && text[index] == '#')
        {
            radix = 16;
            index += 1;
        }
        else if (index + 1 < text.Length && text[index] == '0')
        {
            radix = 8;
            index += 1;
        }
        string digits = text[index..];
        if (digits.Length == 0 || digits[0] is '+' or '-')
        {
            return false;
        }
        try
        {
            long magnitude = Convert.ToInt64(digits, radix);
            if (magnitude < 0 && !(negative && magnitude == long.MinValue))
            {
                return false;
            }
            value = negative ? -magnitude : magnitude;
            return radix != 10 || digits.All(char.IsAsciiDigit);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
        {
            return false;
        }
    }

    public static bool TryDecodeInt(string text, out int value) => TryDecodeLong(text, out long wide) & FitsInt(wide, out value);

    private static bool FitsInt(long wide, out int value)
    {
        value = (int)wide;
        return wide is >= int.MinValue and <= int.MaxValue;
    }

    /// <summary>Boolean.parseBoolean: "true" in any case is true, everything else false.</summary>
    public static bool ParseBoolean(string? text) => string.Equals(text, "true", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Java's String.trim, which is narrower than .NET's Trim.</summary>
internal static class JavaStrings
{
    /// <summary>
    /// Removes characters up to U+0020 from both ends and nothing else: a non-breaking space (U+00A0, common in
    /// text pasted from web pages) stays, so "2000\u00a0" is not a number in Apache and must not be here either.
    /// </summary>
    public static string JavaTrim(this string text)
    {
        int start = 0;
        int end = text.Length;
        while (start < end && text[start] <= ' ')
        {
            start++;
        }
        while (end > start && text[end - 1] <= ' ')
        {
            end--;
        }
        return text[start..end];
    }

    /// <summary>A note for messages when the text holds a non-breaking space.</summary>
    public static string NonBreakingSpaceNote(string text) =>
        text.Contains('\u00a0') ? " (it contains a non-breaking space, often pasted from a web page; retype it)" : "";
}
