using System.Runtime.InteropServices;
using Warden.Server.Configuration;

namespace Warden.Server.Tests.Configuration;

/// <summary>
/// Configurations Apache ZooKeeper refuses (at parse time or at start), and the line a person sees.
/// Seen on Apache ZooKeeper 3.8.0: 31 zoo.cfg variants (the bad values below, a missing or empty or file dataDir,
/// malformed server lines, myid problems, an ensemble without initLimit, typos, bad knobs) were each started with
/// QuorumPeerMain and also loaded here. Apache exited on exactly the ones we refuse and kept running on the ones we
/// accept, with one deliberate difference: group.N/weight.N (hierarchical quorums), which Apache runs and Warden
/// refuses as not supported yet. tickTime=-5 is refused there too (its session timeouts come out min above max).
/// </summary>
public sealed class ServerConfigErrorTests : IDisposable
{
    private const string Ensemble =
        "initLimit=5\nsyncLimit=2\nserver.1=localhost:2888:3888\nserver.2=localhost:2889:3889\nserver.3=localhost:2890:3890\n";

    private readonly ConfigSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private string Error(string zooCfg)
    {
        ConfigLoadResult result = _sandbox.Load(zooCfg);
        Assert.False(result.Succeeded);
        Assert.Null(result.Config);
        return Assert.Single(result.Errors);
    }

    [Fact]
    public void ANumberThatIsNotANumberNamesTheLineAndTheUnit()
    {
        // Seen on Apache ZooKeeper 3.8.0: tickTime=2ooo prints only "Invalid config, exiting abnormally".
        Assert.Equal(
            "zoo.cfg line 1: tickTime \"2ooo\" is not a whole number; write it in milliseconds, e.g. tickTime=2000",
            Error("tickTime=2ooo\ndataDir=d\n"));
    }

    [Theory]
    [InlineData("initLimit=ten", "zoo.cfg line 2: initLimit \"ten\" is not a whole number; write it in ticks, e.g. initLimit=10")]
    [InlineData("clientPort=99999999999", "zoo.cfg line 2: clientPort \"99999999999\" is too large; write e.g. clientPort=2181")]
    [InlineData("clientPort=70000", "zoo.cfg line 2: clientPort 70000 is outside 0-65535; write e.g. clientPort=2181")]
    [InlineData("maxClientCnxns=1 000", "zoo.cfg line 2: maxClientCnxns \"1 000\" is not a whole number; write e.g. maxClientCnxns=60 (0 means no limit)")]
    [InlineData("standaloneEnabled=yes", "zoo.cfg line 2: standaloneEnabled \"yes\" is not true or false; write standaloneEnabled=true or standaloneEnabled=false")]
    [InlineData("electionAlg=1", "zoo.cfg line 2: electionAlg 1 is not supported, only fast leader election (3) is; write electionAlg=3 or remove the line")]
    [InlineData("peerType=voter", "zoo.cfg line 2: peerType \"voter\" is neither participant nor observer; write peerType=participant or peerType=observer")]
    [InlineData("clientPortAddress=127.0.0.1", "zoo.cfg: clientPortAddress is set but clientPort is not; add clientPort=2181 (or the port you want), or remove clientPortAddress")]
    [InlineData("tickTime=0", "zoo.cfg: tickTime is 0; it must be a positive number of milliseconds, e.g. tickTime=2000")]
    [InlineData("bad=\\u00zz", "zoo.cfg line 2: \"\\u00zz\" is not a valid \\uXXXX escape (Java refuses the whole file); write a backslash as \\\\ or a character as \\u followed by four hex digits")]
    public void EachBadValueGetsOneLineThatNamesTheFix(string line, string expected)
    {
        Assert.Equal(expected, Error($"dataDir=d\n{line}\n"));
    }

    [Fact]
    public void ANonBreakingSpaceIsNotTrimmedAsInJavaAndTheMessageSaysSo()
    {
        // Java's String.trim stops at U+0020, so a value pasted with a trailing U+00A0 is not a number there.
        Assert.Equal(
            "zoo.cfg line 1: tickTime \"2000\\u00a0\" is not a whole number (it contains a non-breaking space, often pasted from a web page; retype it); write it in milliseconds, e.g. tickTime=2000",
            Error("tickTime=2000\u00a0\ndataDir=d\n"));
    }

    [Fact]
    public void MinSessionTimeoutAboveMaxSessionTimeout()
    {
        Assert.Equal(
            "zoo.cfg: minSessionTimeout (40000 ms) is above maxSessionTimeout (20000 ms); lower minSessionTimeout or raise maxSessionTimeout",
            Error("dataDir=d\nminSessionTimeout=40000\nmaxSessionTimeout=20000\n"));
    }

    [Fact]
    public void MinSessionTimeoutAboveTheDefaultMaximumSaysWhereTheMaximumCameFrom()
    {
        Assert.Equal(
            "zoo.cfg: minSessionTimeout (50000 ms) is above maxSessionTimeout (40000 ms, 20 × tickTime 2000 since it is not set); lower minSessionTimeout or raise maxSessionTimeout",
            Error("dataDir=d\ntickTime=2000\nminSessionTimeout=50000\n"));
    }

    [Fact]
    public void DataDirMissingFromTheFile()
    {
        Assert.Equal(
            "zoo.cfg: dataDir is not set; add a line such as dataDir=/var/lib/zookeeper (the folder that holds snapshots and myid)",
            Error("tickTime=2000\nclientPort=2181\n"));
    }

    [Fact]
    public void DataDirThatIsAFile()
    {
        File.WriteAllText(_sandbox.PathOf("taken"), "x");

        Assert.Equal(
            $"zoo.cfg line 1: dataDir {_sandbox.PathOf("taken")} is a file, not a folder; point dataDir at a folder, or move the file away",
            Error("dataDir=taken\n"));
    }

    [Fact]
    public void DataDirUnderAFileCannotBeCreated()
    {
        File.WriteAllText(_sandbox.PathOf("taken"), "x");

        Assert.Contains($"cannot be created because {_sandbox.PathOf("taken")} is a file", Error("dataDir=taken/sub/data\n"));
    }

    [Fact]
    public void DataDirThatExistsButIsNotWritable()
    {
        string directory = UnwritableDirectory();

        string error = Error($"dataDir={directory}\n");

        Assert.Matches(
            $"^zoo.cfg line 1: dataDir {System.Text.RegularExpressions.Regex.Escape(directory)} exists but is not writable " +
            @"\((permission denied|read-only file system|a test file could not be created there)\); " +
            "give the user running the server write access, or choose another folder$",
            error);
    }

    [Fact]
    public void AMissingDataDirIsFineBecauseTheServerCreatesIt()
    {
        Assert.True(_sandbox.Load("dataDir=new/data\n").Succeeded);
        Assert.False(Directory.Exists(_sandbox.PathOf("new")), "checking a config must not create folders");
    }

    [Fact]
    public void AMissingDataDirIsAnErrorWhenAutocreateIsOff()
    {
        Assert.Contains(
            "does not exist and zookeeper.datadir.autocreate is false; create the folder",
            Error("dataDir=new\ndatadir.autocreate=false\n"));
    }

    [Fact]
    public void QuorumAndElectionPortsThatAreEqual()
    {
        Assert.Equal(
            "zoo.cfg line 2 (server.1): quorum port and election port are both 2888; they must differ, e.g. localhost:2888:3888",
            Error("dataDir=d\nserver.1=localhost:2888:2888\n"));
    }

    [Theory]
    [InlineData("server.1=localhost:2888", "zoo.cfg line 2 (server.1): \"localhost:2888\" is not a server address; write it as host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort], e.g. localhost:2888:3888")]
    // Seen on Apache ZooKeeper 3.8.0: a blank after the election port gives "Invalid config, exiting abnormally",
    // while the same config without it starts.
    [InlineData("server.1=localhost:2888:3888 ", "zoo.cfg line 2 (server.1): election port \"3888 \" is not a number (remove the blanks around it); write it as host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort], e.g. localhost:2888:3888")]
    [InlineData("server.1=localhost:2888:3888:voter", "zoo.cfg line 2 (server.1): role \"voter\" is neither participant nor observer; end the line with :participant or :observer, or leave the role out")]
    [InlineData("server.one=localhost:2888:3888", "zoo.cfg line 2: \"server.one\" needs a number after \"server.\"; write e.g. server.1=localhost:2888:3888")]
    public void MalformedServerLines(string line, string expected)
    {
        Assert.Equal(expected, Error($"dataDir=d\n{line}\n"));
    }

    [Fact]
    public void ServersOnOneHostSharingAnElectionPort()
    {
        // Seen on Apache ZooKeeper 3.8.0: of two servers on 127.0.0.1 given the same election port, the one
        // started second exits within seconds (it cannot bind the port) while the first keeps running.
        string dataDir = DataDirWithMyId("1");

        Assert.Equal(
            "zoo.cfg: server.1 and server.3 both use election port 3888 on localhost, so only one of them can run; give each server its own ports, " +
            "e.g. server.1=localhost:2888:3888, server.2=127.0.0.1:2889:3889, server.3=localhost:2890:3890",
            Error($"dataDir={dataDir}\ninitLimit=5\nsyncLimit=2\nserver.1=localhost:2888:3888\nserver.2=127.0.0.1:2889:3889\nserver.3=localhost:2890:3888\n"));
    }

    [Fact]
    public void AQuorumPortThatIsAnotherServersElectionPortOnTheSameHost()
    {
        string dataDir = DataDirWithMyId("1");

        Assert.StartsWith(
            "zoo.cfg: server.2's quorum port 3888 is server.1's election port on localhost, so server.2 cannot lead;",
            Error($"dataDir={dataDir}\ninitLimit=5\nsyncLimit=2\nserver.1=localhost:2888:3888\nserver.2=localhost:3888:3889\nserver.3=localhost:2890:3890\n"));
    }

    [Fact]
    public void SamePortsOnDifferentHostsAreFine()
    {
        string dataDir = DataDirWithMyId("2");

        ConfigLoadResult result = _sandbox.Load(
            $"dataDir={dataDir}\ninitLimit=5\nsyncLimit=2\nserver.1=zk1:2888:3888\nserver.2=zk2:2888:3888\nserver.3=zk3:2888:3888\n");

        Assert.True(result.Succeeded);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void AClientPortThatIsAlsoAQuorumOrElectionPort()
    {
        string dataDir = DataDirWithMyId("1");

        Assert.Equal(
            "zoo.cfg: clientPort 3889 is also server.2's election port on localhost; pick a client port no server.N line uses, e.g. clientPort=2181",
            Error($"dataDir={dataDir}\nclientPort=3889\n{Ensemble}"));
    }

    [Fact]
    public void AnEnsembleWithoutInitLimitAndSyncLimit()
    {
        string dataDir = DataDirWithMyId("1");

        ConfigLoadResult result = _sandbox.Load(
            $"dataDir={dataDir}\nserver.1=localhost:2888:3888\nserver.2=localhost:2889:3889\nserver.3=localhost:2890:3890\n");

        Assert.Equal(
            ["zoo.cfg: initLimit is not set and an ensemble needs it; add initLimit=10 (ticks a follower may take to connect and sync with the leader)",
             "zoo.cfg: syncLimit is not set and an ensemble needs it; add syncLimit=5 (ticks a follower may lag behind the leader)"],
            result.Errors);
    }

    [Fact]
    public void AnEnsembleMemberWithoutMyId()
    {
        string dataDir = _sandbox.MakeDirectory("zk1/data");

        Assert.Equal(
            $"{Path.Combine(dataDir, "myid")} is missing; a server in an ensemble needs it: create it holding only this server's number N from its server.N line, e.g. 1",
            Error($"dataDir={dataDir}\n{Ensemble}"));
    }

    [Fact]
    public void TheFoundingTutorialsTrapMyIdNotFoundBecauseTheWindowsPathLostItsBackslashes()
    {
        ConfigLoadResult result = _sandbox.Load($"tickTime=2000\ndataDir=D:\\kj\\ZooKeeper\\zk1\\data\nclientPort=2181\n{Ensemble}");

        string error = Assert.Single(result.Errors);
        Assert.Contains("myid is missing", error);
        Assert.EndsWith("(dataDir was read as \"D:kjZooKeeperzk1data\" because of single backslashes; see the warning about that line)", error);
        Assert.StartsWith("zoo.cfg line 2: dataDir=D:\\kj\\ZooKeeper\\zk1\\data is read as \"D:kjZooKeeperzk1data\"", result.Warnings[0]);
    }

    [Theory]
    [InlineData("1 \r\n", "\"1 \" (remove the blanks around the number)")]
    [InlineData("", "\"\" (the file is empty)")]
    [InlineData("one", "\"one\"")]
    [InlineData("\u00ef\u00bb\u00bf1", "\"\u00ef\u00bb\u00bf1\" (it starts with a byte-order mark; save it as plain ASCII)")]
    public void AMalformedMyIdSaysWhatItHoldsAndWhatToWrite(string content, string shown)
    {
        // Apache reads the first line with Long.parseLong, so "1 " (Windows' "echo 1 > myid") is refused there too:
        // seen on Apache ZooKeeper 3.8.0, a quorum config with myid "1 " prints "Invalid config, exiting abnormally".
        string dataDir = DataDirWithMyId(content);

        Assert.Equal(
            $"{Path.Combine(dataDir, "myid")} holds {shown}, not a number; write only this server's number N from its server.N line, e.g. 1",
            Error($"dataDir={dataDir}\n{Ensemble}"));
    }

    [Fact]
    public void AMalformedMyIdStopsEvenAStandaloneServerAsInApache()
    {
        string dataDir = DataDirWithMyId("x");

        Assert.Contains("holds \"x\", not a number", Error($"dataDir={dataDir}\n"));
    }

    [Fact]
    public void AMyIdThatNamesNoServerLine()
    {
        string dataDir = DataDirWithMyId("4");

        Assert.Equal(
            $"{Path.Combine(dataDir, "myid")}: says 4, but zoo.cfg has no server.4 line; write this server's own number (1, 2, 3) into it, or add server.4",
            Error($"dataDir={dataDir}\n{Ensemble}"));
    }

    [Fact]
    public void ABrokenServerLineIsReportedAloneNotWithWhatItCauses()
    {
        // Its own server.1 line is broken, so "myid says 1 but there is no server.1" and "2 voting servers tolerate
        // no failure" would only be consequences of the one mistake.
        string dataDir = DataDirWithMyId("1");

        ConfigLoadResult result = _sandbox.Load(
            $"dataDir={dataDir}\ninitLimit=5\nsyncLimit=2\nserver.1=localhost:2888:2888\nserver.2=localhost:2889:3889\nserver.3=localhost:2890:3890\n");

        Assert.Equal(
            "zoo.cfg line 4 (server.1): quorum port and election port are both 2888; they must differ, e.g. localhost:2888:3888",
            Assert.Single(result.Errors));
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void ConflictingClientPortsBetweenClientPortAndTheServerLine()
    {
        string dataDir = DataDirWithMyId("1");

        Assert.Equal(
            "zoo.cfg: clientPort=2181 but server.1 gives client port 2182; make them the same or remove one",
            Error($"dataDir={dataDir}\nclientPort=2181\ninitLimit=5\nsyncLimit=2\nserver.1=localhost:2888:3888;2182\nserver.2=localhost:2889:3889\nserver.3=localhost:2890:3890\n"));
    }

    [Fact]
    public void ObserversWithoutAQuorum()
    {
        Assert.StartsWith(
            "zoo.cfg: observers need a quorum, but there is one participant;",
            Error("dataDir=d\nserver.1=localhost:2888:3888\nserver.2=localhost:2889:3889:observer\n"));
    }

    [Fact]
    public void ManyProblemsAreReportedTogether()
    {
        ConfigLoadResult result = _sandbox.Load("tickTime=fast\ninitLimit=x\nclientPort=port\n");

        Assert.Equal(4, result.Errors.Count);
        Assert.Contains(result.Errors, e => e.StartsWith("zoo.cfg: dataDir is not set", StringComparison.Ordinal));
    }

    [Fact]
    public void TheCliGetsAnExceptionCarryingEveryLine()
    {
        ConfigLoadResult result = _sandbox.Load("tickTime=fast\n");

        ConfigErrorException error = Assert.Throws<ConfigErrorException>(() => result.GetConfigOrThrow());

        Assert.Equal(result.Errors, error.Errors);
        Assert.Equal(string.Join(Environment.NewLine, result.Errors), error.Message);
    }

    [Fact]
    public void AMissingConfigFile()
    {
        ConfigLoadResult result = ServerConfig.Load(_sandbox.PathOf("nope.cfg"));

        Assert.Equal(
            $"{_sandbox.PathOf("nope.cfg")} does not exist; give the path of your zoo.cfg, or run without one for a standalone server on port 2181",
            Assert.Single(result.Errors));
    }

    private string DataDirWithMyId(string content)
    {
        string dataDir = _sandbox.MakeDirectory("data-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllBytes(Path.Combine(dataDir, "myid"), System.Text.Encoding.Latin1.GetBytes(content));
        return dataDir;
    }

    /// <summary>
    /// A folder this process cannot write into. Permission bits stop an ordinary user; root ignores them, so as
    /// root we use /proc/self, which exists and refuses new files for everyone.
    /// </summary>
    private string UnwritableDirectory()
    {
        if (OperatingSystem.IsWindows())
        {
            return Environment.GetFolderPath(Environment.SpecialFolder.Windows);
        }
        string directory = _sandbox.MakeDirectory("readonly");
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            File.WriteAllText(Path.Combine(directory, "probe"), "");
            File.Delete(Path.Combine(directory, "probe"));
            Assert.True(RuntimeInformation.IsOSPlatform(OSPlatform.Linux), "running as a user that ignores permissions on a system without /proc");
            return "/proc/self";
        }
        catch (UnauthorizedAccessException)
        {
            return directory;
        }
    }
}
