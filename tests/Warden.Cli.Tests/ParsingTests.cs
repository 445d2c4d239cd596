using Warden.Cli.Shell;
using Warden.Protocol;

namespace Warden.Cli.Tests;

/// <summary>The pieces of zkCli's behaviour that need no server: word splitting, option parsing, formats.</summary>
public sealed class ParsingTests
{
    [Theory]
    [InlineData("create /a b", new[] { "create", "/a", "b" })]
    [InlineData("  create   /a\tb  ", new[] { "create", "/a", "b" })]
    [InlineData("create /q \"quoted data here\"", new[] { "create", "/q", "quoted data here" })]
    [InlineData("create /q 'single quoted'", new[] { "create", "/q", "single quoted" })]
    [InlineData("create /sp 'a \"b\" c'", new[] { "create", "/sp", "a \"b\" c" })]
    [InlineData("set /a x\"y z\"", new[] { "set", "/a", "x\"y", "z\"" })]
    [InlineData("create /e2 \"unterminated", new[] { "create", "/e2", "unterminated" })]
    [InlineData("", new string[0])]
    public void SplitsWordsAsZkCliDoes(string line, string[] expected) => Assert.Equal(expected, Tokenizer.Split(line));

    private static readonly OptionParser Create = new(
        new("e", false, "ephemeral"), new("s", false, "sequential"), new("c", false, "container"), new("t", true, "ttl"));

    [Fact]
    public void OptionsMayComeAnywhereAndBundle()
    {
        var parsed = Create.Parse(["create", "/a", "-se", "data", "-t", "5"]);
        Assert.Equal(["create", "/a", "data"], parsed.Arguments);
        Assert.True(parsed.Has("s") && parsed.Has("e"));
        Assert.Equal("5", parsed.Value("t"));
        Assert.Equal("70", Create.Parse(["create", "-t70", "/a"]).Value("t"));
        Assert.Equal(["create", "/a", "-v"], Create.Parse(["create", "--", "/a", "-v"]).Arguments);
    }

    [Fact]
    public void ANegativeNumberIsAValueButNotAnArgument()
    {
        var version = new OptionParser(new OptionSpec("v", true, "version"));
        Assert.Equal("-1", version.Parse(["delete", "-v", "-1", "/a"]).Value("v"));
        var error = Assert.Throws<OptionParseException>(() => version.Parse(["set", "/a", "-1"]));
        Assert.Equal("org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -1", error.Message);
    }

    [Fact]
    public void ErrorsCarryCommonsCliMessages()
    {
        var version = new OptionParser(new OptionSpec("v", true, "version"));
        Assert.Equal("org.apache.commons.cli.MissingArgumentException: Missing argument for option: v",
            Assert.Throws<OptionParseException>(() => version.Parse(["delete", "-v"])).Message);
        Assert.Equal("org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x",
            Assert.Throws<OptionParseException>(() => Create.Parse(["create", "-x", "/a"])).Message);
        var quota = new OptionParser().WithGroup(new([new("n", true, "num soft quota"), new("N", true, "num hard quota")], Required: true));
        Assert.Equal("org.apache.commons.cli.AlreadySelectedException: The option 'N' was specified but an option from this group has already been selected: 'n'",
            Assert.Throws<OptionParseException>(() => quota.Parse(["setquota", "-n", "1", "-N", "2", "/a"])).Message);
        Assert.Equal("org.apache.commons.cli.MissingOptionException: Missing required option: [-n num soft quota, -N num hard quota]",
            Assert.Throws<OptionParseException>(() => quota.Parse(["setquota", "/a"])).Message);
    }

    [Fact]
    public void StatPrintsAsJavaDoes()
    {
        var stat = new Stat(Czxid: 2, Mzxid: 0x1b, Ctime: 1_700_000_000_000, Mtime: 1_700_000_000_000, Version: 1, Cversion: 2,
            Aversion: 0, EphemeralOwner: unchecked((long)0xff00000000000001UL), DataLength: 5, NumChildren: 2, Pzxid: 4);
        Assert.Equal(
            "cZxid = 0x2\nctime = Tue Nov 14 22:13:20 UTC 2023\nmZxid = 0x1b\nmtime = Tue Nov 14 22:13:20 UTC 2023\npZxid = 0x4\n" +
            "cversion = 2\ndataVersion = 1\naclVersion = 0\nephemeralOwner = 0xff00000000000001\ndataLength = 5\nnumChildren = 2\n",
            Formats.Stat(stat, TimeZoneInfo.Utc));
    }

    [Fact]
    public void DatesOutsideUtcCarryTheirOffset()
    {
        var zone = TimeZoneInfo.CreateCustomTimeZone("test+0530", TimeSpan.FromMinutes(330), "test", "test");
        Assert.Equal("Wed Nov 15 03:43:20 GMT+05:30 2023", Formats.JavaDate(1_700_000_000_000, zone));
    }

    [Fact]
    public void AclEntriesPrintAsJuteRecords()
    {
        Assert.Equal("'world,'anyone\n: cdrwa", Formats.AclEntry(new Acl(Perms.All, Id.Anyone)));
        Assert.Equal("'digest,'a%2Cb%25:x\n: rw", Formats.AclEntry(new Acl(Perms.Read | Perms.Write, new Id("digest", "a,b%:x"))));
    }

    [Theory]
    [InlineData("12", 12)]
    [InlineData("0x1f", 31)]
    [InlineData("#10", 16)]
    [InlineData("010", 8)]
    [InlineData("-3", -3)]
    [InlineData("0", 0)]
    public void RedoNumbersDecodeAsIntegerDecode(string text, int expected)
    {
        Assert.True(Formats.TryDecodeInt(text, out int value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("09")]
    [InlineData("99999999999")]
    public void BadRedoNumbersAreRefused(string text) => Assert.False(Formats.TryDecodeInt(text, out _));

    [Fact]
    public void ArgumentsStopAtTheFirstCommandWord()
    {
        Assert.True(ShellProgram.TryParse(["-server", "h:1", "-timeout", "500", "-r", "ls", "-R", "/"], TextWriter.Null, out var settings, out var command, out bool help));
        Assert.Equal(new ShellSettings("h:1", 500, ReadOnly: true), settings);
        Assert.Equal(["ls", "-R", "/"], command);
        Assert.False(help);
        var error = new StringWriter();
        Assert.False(ShellProgram.TryParse(["-server"], error, out _, out _, out _));
        Assert.Equal("Error: no argument found for option -server", error.ToString().Trim());
        Assert.False(ShellProgram.TryParse(["-timeout", "soon"], TextWriter.Null, out _, out _, out _));
    }

    [Fact]
    public void TheJaasClientSectionGivesTheSaslLogin()
    {
        string directory = Directory.CreateTempSubdirectory("warden-cli-jaas-").FullName;
        try
        {
            string path = Path.Combine(directory, "jaas.conf");
            File.WriteAllText(path, "Client {\n org.apache.zookeeper.server.auth.DigestLoginModule required\n username=\"bob\"\n password=\"bobsecret\";\n};\n" +
                "Other { org.apache.zookeeper.server.auth.DigestLoginModule required username=\"amy\" password=\"x\"; };\n");
            Assert.True(ShellProgram.TryParse([$"-Djava.security.auth.login.config={path}", "-server", "h:1", "ls", "/"], TextWriter.Null, out var settings, out var command, out _));
            Assert.Equal(new Warden.Client.SaslLogin("bob", "bobsecret"), settings.Sasl);
            Assert.Equal(["ls", "/"], command);

            Assert.True(ShellProgram.TryParse([$"-Djava.security.auth.login.config={path}", "-Dzookeeper.sasl.clientconfig=Other"], TextWriter.Null, out var other, out _, out _));
            Assert.Equal("amy", other.Sasl?.Username);
            Assert.True(ShellProgram.TryParse([$"-Djava.security.auth.login.config={path}", "-Dzookeeper.sasl.client=false"], TextWriter.Null, out var off, out _, out _));
            Assert.Null(off.Sasl);

            var error = new StringWriter();
            Assert.False(ShellProgram.TryParse([$"-Djava.security.auth.login.config={path}", "-Dzookeeper.sasl.clientconfig=Missing"], error, out _, out _, out _));
            Assert.Contains("no 'Missing' section", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Checked against Apache's ConfigUtils.getClientConfigStr on the same text (JDK 17).</summary>
    [Fact]
    public void ConfigMinusCListsClientAddressesInJavaPropertiesOrder() =>
        Assert.Equal("100000000 0.0.0.0:3,0.0.0.0:4,c:2182,0.0.0.0:2181,", ShellSession.ClientConnectString(
            "server.1=a:2888:3888;2181\nserver.2=b:2888:3888;c:2182\nserver.3=d:1:2\nversion=100000000\n" +
            "server.10=e:1:2;3\nserver.11=f:1:2;0.0.0.0:4\n"));
}
