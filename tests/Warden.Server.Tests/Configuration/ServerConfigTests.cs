using Warden.Server.Configuration;

namespace Warden.Server.Tests.Configuration;

/// <summary>Configurations that start a server, and what they mean.</summary>
public sealed class ServerConfigTests : IDisposable
{
    private readonly ConfigSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public void TheFoundingTutorialsStandaloneConfigParses()
    {
        ServerConfig config = _sandbox.LoadValid("tickTime=2000\ndataDir={root}/zookeeper\nclientPort=2181\n");

        Assert.Equal(2000, config.TickTimeMs);
        Assert.Equal(_sandbox.PathOf("zookeeper"), config.DataDir);
        Assert.Equal(config.DataDir, config.DataLogDir);
        Assert.Equal(2181, config.ClientPort);
        Assert.Equal(4000, config.MinSessionTimeoutMs);
        Assert.Equal(40000, config.MaxSessionTimeoutMs);
        Assert.False(config.IsDistributed);
        Assert.Null(config.MyId);
        Assert.Equal(60, config.MaxClientConnectionsPerIp);
        Assert.Equal(_sandbox.PathOf("zoo.cfg"), config.ConfigFilePath);
    }

    [Fact]
    public void ApacheDefaultsApplyToWhatTheFileLeavesOut()
    {
        ServerConfig config = _sandbox.LoadValid("dataDir=data\n");

        Assert.Equal(3000, config.TickTimeMs);
        Assert.Equal(6000, config.MinSessionTimeoutMs);
        Assert.Equal(60000, config.MaxSessionTimeoutMs);
        Assert.Null(config.ClientPort);
        Assert.Equal(3, config.SnapRetainCount);
        Assert.Equal(0, config.PurgeIntervalHours);
        Assert.Equal(100000, config.SnapCountTxns);
        Assert.Equal(65536, config.PreAllocSizeKb);
        Assert.True(config.ForceSync);
        Assert.Equal(1000, config.GlobalOutstandingLimitRequests);
        Assert.Equal(["srvr"], config.FourLetterWordWhitelist);
        Assert.True(config.AdminServerEnabled);
        Assert.Equal(8080, config.AdminServerPort);
        Assert.Equal(0xfffff, config.JuteMaxBufferBytes);
        Assert.Equal(60000, config.ContainerCheckIntervalMs);
        Assert.Equal(10000, config.ContainerMaxPerMinute);
        Assert.False(config.EnforceQuota);
        Assert.False(config.ExtendedTypesEnabled);
        Assert.Null(config.SuperDigest);
        Assert.True(config.StandaloneEnabled);
        Assert.False(config.ReconfigEnabled);
        Assert.False(config.LocalSessionsEnabled);
        // Apache resolves a relative dataDir against the process's working directory, not the zoo.cfg folder.
        Assert.Equal(_sandbox.PathOf("data"), config.DataDir);
    }

    [Fact]
    public void TheFoundingTutorialsWindowsPathsLoadMangledWithAWarningThatShowsTheFix()
    {
        // Seen on Apache ZooKeeper 3.8.0: dataDir=D:\kj\data starts a server whose data dir is ./D:kjdata.
        ConfigLoadResult result = _sandbox.Load(
            "tickTime=2000\ndataDir=D:\\kj\\ZooKeeper\\apache-zookeeper-3.7.0-bin\\data\n" +
            "dataLogDir=D:\\kj\\ZooKeeper\\apache-zookeeper-3.7.0-bin\\log\nclientPort=2181\n");

        Assert.True(result.Succeeded);
        Assert.Equal(
            "zoo.cfg line 2: dataDir=D:\\kj\\ZooKeeper\\apache-zookeeper-3.7.0-bin\\data is read as \"D:kjZooKeeperapache-zookeeper-3.7.0-bindata\" " +
            "because a single backslash is an escape in zoo.cfg; write dataDir=D:\\\\kj\\\\ZooKeeper\\\\apache-zookeeper-3.7.0-bin\\\\data " +
            "or dataDir=D:/kj/ZooKeeper/apache-zookeeper-3.7.0-bin/data",
            result.Warnings[0]);
        Assert.StartsWith("zoo.cfg line 3: dataLogDir=", result.Warnings[1]);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(_sandbox.PathOf("D:kjZooKeeperapache-zookeeper-3.7.0-bindata"), result.Config!.DataDir);
        }
    }

    [Fact]
    public void EscapesThatMakeControlCharactersAreShownVisibly()
    {
        ConfigLoadResult result = _sandbox.Load("dataDir=D:\\tmp\\new\n");

        Assert.Contains("is read as \"D:\\tmp\\new\" because", result.Warnings[0]);
        Assert.Contains("write dataDir=D:\\\\tmp\\\\new or dataDir=D:/tmp/new", result.Warnings[0]);
    }

    [Fact]
    public void DoubledBackslashesAndForwardSlashesGiveNoWarning()
    {
        ConfigLoadResult result = _sandbox.Load("dataDir=D:\\\\kj\\\\data\ndataLogDir=D:/kj/log\n");

        Assert.Empty(result.Warnings);
        Assert.EndsWith("D:\\kj\\data", result.Config!.DataDir);
    }

    [Fact]
    public void AByteOrderMarkHidesTheFirstKeyAsInJavaAndIsWarnedAbout()
    {
        string path = _sandbox.PathOf("zoo.cfg");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.ASCII.GetBytes("tickTime=2000\ndataDir=d\n")]);

        ConfigLoadResult result = ServerConfig.Load(path, null, _sandbox.Root);

        Assert.Equal(3000, result.Config!.TickTimeMs);
        Assert.Equal(
            "zoo.cfg starts with a UTF-8 byte-order mark, which Java reads as part of the first key (\"\u00ef\u00bb\u00bftickTime\"), so that line does nothing; save the file without a BOM",
            Assert.Single(result.Warnings));
    }

    [Fact]
    public void Utf8TextIsReadAsIso88591AsInJavaAndIsWarnedAbout()
    {
        string path = _sandbox.PathOf("zoo.cfg");
        File.WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes("dataDir=données\n"));

        ConfigLoadResult result = ServerConfig.Load(path, null, _sandbox.Root);

        Assert.Equal(_sandbox.PathOf("donn\u00c3\u00a9es"), result.Config!.DataDir);
        Assert.EndsWith("so UTF-8 text arrives garbled; write such characters as \\uXXXX escapes", Assert.Single(result.Warnings));
    }

    [Fact]
    public void TheFoundingTutorialsThreeServerConfigParsesWithAWarningAboutTheSharedQuorumPort()
    {
        // Seen on Apache ZooKeeper 3.8.0: these three servers on 127.0.0.1, all with quorum port 2888,
        // elect a leader and two followers, because only the leader listens on the quorum port.
        string dataDir = _sandbox.MakeDirectory("zk1/data");
        _sandbox.WriteMyId("zk1/data", "1\n");

        ConfigLoadResult result = _sandbox.Load(
            $"tickTime=2000\ndataDir={dataDir}\ndataLogDir={{root}}/zk1/log\nclientPort=2181\ninitLimit=5\nsyncLimit=2\n" +
            "server.1=localhost:2888:3888\nserver.2=localhost:2888:3889\nserver.3=localhost:2888:3890\n");

        ServerConfig config = result.Config!;
        Assert.True(config.IsDistributed);
        Assert.Equal(1, config.MyId);
        Assert.Equal(2181, config.ClientPort);
        Assert.Equal(5, config.InitLimitTicks);
        Assert.Equal(2, config.SyncLimitTicks);
        Assert.Equal(_sandbox.PathOf("zk1/log"), config.DataLogDir);
        Assert.Equal(
            [new QuorumServer(1, "localhost", 2888, 3888, PeerRole.Participant, null, null),
             new QuorumServer(2, "localhost", 2888, 3889, PeerRole.Participant, null, null),
             new QuorumServer(3, "localhost", 2888, 3890, PeerRole.Participant, null, null)],
            config.Servers);
        Assert.Equal(
            "zoo.cfg: server.1, server.2 and server.3 share quorum port 2888 on localhost; this runs only because just the leader listens on it, " +
            "and a new leader cannot start while the old one still holds the port; give each server its own ports, e.g. server.1=localhost:2888:3888, " +
            "server.2=localhost:2889:3889, server.3=localhost:2890:3890",
            Assert.Single(result.Warnings));
    }

    [Fact]
    public void TheTutorialsFixedPortsGiveNoWarning()
    {
        string dataDir = _sandbox.MakeDirectory("zk2/data");
        _sandbox.WriteMyId("zk2/data", "2");

        ConfigLoadResult result = _sandbox.Load(
            $"tickTime=2000\ndataDir={dataDir}\nclientPort=2182\ninitLimit=5\nsyncLimit=2\n" +
            "server.1=localhost:1100:1200\nserver.2=localhost:2100:2200\nserver.3=localhost:3100:3200\n");

        Assert.Empty(result.Warnings);
        Assert.Equal(2, result.Config!.MyId);
        Assert.Equal(2100, result.Config.Self!.QuorumPort);
    }

    [Fact]
    public void ServerLinesCarryRoleAndClientAddress()
    {
        string dataDir = _sandbox.MakeDirectory("d");
        _sandbox.WriteMyId("d", "3");

        ServerConfig config = _sandbox.LoadValid(
            $"dataDir={dataDir}\ninitLimit=10\nsyncLimit=5\npeerType=observer\n" +
            "server.1=10.0.0.1:2888:3888;2181\nserver.2=10.0.0.2:2888:3888:participant;10.0.0.2:2181\n" +
            "server.3=10.0.0.3:2888:3888:observer;0.0.0.0:2191\nserver.4=[fe80::1]:2888:3888\n");

        Assert.Equal(new QuorumServer(2, "10.0.0.2", 2888, 3888, PeerRole.Participant, "10.0.0.2", 2181), config.Servers[1]);
        Assert.Equal(PeerRole.Observer, config.Self!.Role);
        // As in Apache, server.N lines also end up among the system properties.
        Assert.Equal("10.0.0.1:2888:3888;2181", config.SystemProperties["zookeeper.server.1"]);
        Assert.Equal(PeerRole.Observer, config.PeerType);
        Assert.Equal("fe80::1", config.Servers[3].Host);
        Assert.Equal(3, config.ParticipantCount);
        // This server's client port comes from its own server.N line when zoo.cfg has no clientPort.
        Assert.Equal(2191, config.ClientPort);
    }

    [Fact]
    public void OneServerLineRunsStandaloneWithAWarning()
    {
        ConfigLoadResult result = _sandbox.Load("dataDir=d\nserver.1=localhost:2888:3888\n");

        Assert.False(result.Config!.IsDistributed);
        Assert.Contains(result.Warnings, w => w.Contains("only one server.N line, so this runs as a standalone server"));
    }

    [Fact]
    public void AStandaloneServerReadsMyIdWhenItExists()
    {
        string dataDir = _sandbox.MakeDirectory("d");
        _sandbox.WriteMyId("d", "7\r\n");

        Assert.Equal(7, _sandbox.LoadValid($"dataDir={dataDir}\n").MyId);
    }

    [Fact]
    public void SnapRetainCountBelowThreeBecomesThreeWithAWarning()
    {
        ConfigLoadResult result = _sandbox.Load("dataDir=d\nautopurge.snapRetainCount=1\nautopurge.purgeInterval=24\n");

        Assert.Equal(3, result.Config!.SnapRetainCount);
        Assert.Equal(24, result.Config.PurgeIntervalHours);
        Assert.Contains("autopurge.snapRetainCount 1 is below the minimum 3, so 3 is used", Assert.Single(result.Warnings));
    }

    [Fact]
    public void ExplicitSessionTimeoutsAndMinusOneMeaningDefault()
    {
        ServerConfig config = _sandbox.LoadValid("dataDir=d\ntickTime=1000\nminSessionTimeout=-1\nmaxSessionTimeout=90000\n");

        Assert.Equal(2000, config.MinSessionTimeoutMs);
        Assert.Equal(90000, config.MaxSessionTimeoutMs);
    }

    [Fact]
    public void TheEmbeddedDefaultsAreAStandaloneServerOnPort2181WithDataUnderTheWorkingDirectory()
    {
        ServerConfig config = ServerConfig.Embedded(_sandbox.Root);

        Assert.Equal(_sandbox.PathOf("data"), config.DataDir);
        Assert.Equal(config.DataDir, config.DataLogDir);
        Assert.Equal(2181, config.ClientPort);
        Assert.Equal(2000, config.TickTimeMs);
        Assert.Equal(4000, config.MinSessionTimeoutMs);
        Assert.Equal(40000, config.MaxSessionTimeoutMs);
        Assert.Equal(["srvr"], config.FourLetterWordWhitelist);
        Assert.False(config.IsDistributed);
        Assert.Null(config.ConfigFilePath);
    }

    [Fact]
    public void LoadEmbeddedAppliesCommandLineKnobsAndChecksTheDataDirectory()
    {
        ConfigLoadResult result = ServerConfig.LoadEmbedded(
            new Dictionary<string, string> { ["zookeeper.maxCnxns"] = "5" }, _sandbox.Root);

        Assert.Empty(result.Warnings);
        ServerConfig config = result.Config!;
        Assert.Equal(5, config.MaxConnections);
        Assert.Equal((2181, 2000, _sandbox.PathOf("data")), (config.ClientPort, config.TickTimeMs, config.DataDir));
        Assert.Equal((4000, 40000), (config.MinSessionTimeoutMs, config.MaxSessionTimeoutMs));

        File.WriteAllText(_sandbox.PathOf("data"), "not a folder");
        Assert.Contains("is a file, not a folder", Assert.Single(ServerConfig.LoadEmbedded(null, _sandbox.Root).Errors));
    }
}
