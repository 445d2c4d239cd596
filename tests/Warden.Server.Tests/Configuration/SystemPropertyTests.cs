using Warden.Server.Configuration;

namespace Warden.Server.Tests.Configuration;

/// <summary>-D options, unknown zoo.cfg keys, and the knobs Apache reads as Java system properties.</summary>
public sealed class SystemPropertyTests : IDisposable
{
    private readonly ConfigSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private static Dictionary<string, string> D(params (string Name, string Value)[] options) =>
        options.ToDictionary(o => o.Name, o => o.Value);

    [Fact]
    public void CommandLineKnobsUseApachesPropertyNames()
    {
        ServerConfig config = _sandbox.LoadValid("dataDir=d\n", D(
            ("zookeeper.maxCnxns", "5"), ("zookeeper.snapCount", "5000"), ("zookeeper.preAllocSize", "1024"),
            ("zookeeper.forceSync", "no"), ("zookeeper.globalOutstandingLimit", "50"), ("jute.maxbuffer", "4194304"),
            ("zookeeper.extendedTypesEnabled", "TRUE"), ("znode.container.checkIntervalMs", "1000"),
            ("znode.container.maxPerMinute", "7"), ("zookeeper.enforceQuota", "true"),
            ("zookeeper.DigestAuthenticationProvider.superDigest", "super:abc="), ("zookeeper.admin.serverPort", "9090"),
            ("zookeeper.admin.enableServer", "false"), ("zookeeper.skipACL", "yes")));

        Assert.Equal(5, config.MaxConnections);
        Assert.Equal(5000, config.SnapCountTxns);
        Assert.Equal(1024, config.PreAllocSizeKb);
        Assert.False(config.ForceSync);
        Assert.Equal(50, config.GlobalOutstandingLimitRequests);
        Assert.Equal(4194304, config.JuteMaxBufferBytes);
        Assert.True(config.ExtendedTypesEnabled);
        Assert.Equal(1000, config.ContainerCheckIntervalMs);
        Assert.Equal(7, config.ContainerMaxPerMinute);
        Assert.True(config.EnforceQuota);
        Assert.Equal("super:abc=", config.SuperDigest);
        Assert.Equal(9090, config.AdminServerPort);
        Assert.False(config.AdminServerEnabled);
        Assert.True(config.SkipAcl);
        Assert.Equal("5", config.SystemProperties["zookeeper.maxCnxns"]);
    }

    [Fact]
    public void UnknownZooCfgKeysBecomeZookeeperPrefixedSystemPropertiesAndSetTheSameKnobs()
    {
        ServerConfig config = _sandbox.LoadValid(
            "dataDir=d\nmaxCnxns=9\nsnapCount = 20000 \n4lw.commands.whitelist=ruok, stat ,mntr\nenforceQuota=true\n" +
            "DigestAuthenticationProvider.superDigest=super:xyz=\nadmin.serverPort=8181\nsomeFutureKnob=on\n");

        Assert.Equal(9, config.MaxConnections);
        Assert.Equal(20000, config.SnapCountTxns);
        Assert.Equal(new HashSet<string> { "ruok", "stat", "mntr", "srvr" }, config.FourLetterWordWhitelist);
        Assert.True(config.EnforceQuota);
        Assert.Equal("super:xyz=", config.SuperDigest);
        Assert.Equal(8181, config.AdminServerPort);
        Assert.Equal("on", config.SystemProperties["zookeeper.someFutureKnob"]);
        Assert.Equal("20000", config.SystemProperties["zookeeper.snapCount"]);
        Assert.False(config.SystemProperties.ContainsKey("zookeeper.dataDir"));
    }

    [Fact]
    public void AZooCfgEntryReplacesTheSameMinusDAsInApache()
    {
        // Seen on Apache ZooKeeper 3.8.0: -Dzookeeper.foo=fromD and foo=fromcfg in zoo.cfg;
        // GET /commands/system_properties then shows zookeeper.foo = fromcfg.
        ConfigLoadResult result = _sandbox.Load("dataDir=d\nsnapCount=10\n", D(("zookeeper.snapCount", "5"), ("zookeeper.bar", "onlyD")));

        Assert.Equal(10, result.Config!.SnapCountTxns);
        Assert.Equal("onlyD", result.Config.SystemProperties["zookeeper.bar"]);
        Assert.Equal(
            "zoo.cfg line 2: snapCount=10 replaces -Dzookeeper.snapCount=5, as in Apache ZooKeeper (zoo.cfg is applied after -D options); remove one of the two",
            Assert.Single(result.Warnings));
    }

    [Fact]
    public void JuteMaxBufferInZooCfgIsHonouredWithANoteThatApacheIgnoresIt()
    {
        // Seen on Apache ZooKeeper 3.8.0: jute.maxbuffer=12345 in zoo.cfg becomes the system property
        // zookeeper.jute.maxbuffer, while Apache's buffer limit reads only jute.maxbuffer.
        ConfigLoadResult result = _sandbox.Load("dataDir=d\njute.maxbuffer=4194304\n");

        Assert.Equal(4194304, result.Config!.JuteMaxBufferBytes);
        Assert.Equal(
            "zoo.cfg line 2: Warden honours jute.maxbuffer=4194304 from zoo.cfg, but Apache ZooKeeper ignores it there (it reads only -Djute.maxbuffer); pass -Djute.maxbuffer=4194304 as well if Apache servers share this file",
            Assert.Single(result.Warnings));
    }

    [Fact]
    public void MinusDJuteMaxBufferWinsOverZooCfg()
    {
        ServerConfig config = _sandbox.LoadValid("dataDir=d\njute.maxbuffer=4194304\n", D(("jute.maxbuffer", "2097152")));

        Assert.Equal(2097152, config.JuteMaxBufferBytes);
    }

    [Theory]
    [InlineData("0x10", 16)]
    [InlineData("#20", 32)]
    [InlineData("010", 8)]
    [InlineData("-5", 2)]
    public void IntegerKnobsAreReadWithIntegerDecodeAsInApache(string value, int expected)
    {
        ConfigLoadResult result = _sandbox.Load($"dataDir=d\nsnapCount={value}\n");

        Assert.Equal(expected, result.Config!.SnapCountTxns);
    }

    [Fact]
    public void ABadIntegerKnobKeepsTheDefaultAndSaysSo()
    {
        ConfigLoadResult result = _sandbox.Load("dataDir=d\nglobalOutstandingLimit=lots\n");

        Assert.Equal(1000, result.Config!.GlobalOutstandingLimitRequests);
        Assert.Equal(
            "zoo.cfg line 2: globalOutstandingLimit \"lots\" is not a whole number, so the default 1000 is used (as in Apache ZooKeeper); write e.g. globalOutstandingLimit=1000",
            Assert.Single(result.Warnings));
    }

    [Theory]
    [InlineData("no", false)]
    [InlineData("No", true)]
    [InlineData("false", true)]
    [InlineData("yes", true)]
    public void OnlyTheExactWordNoTurnsForceSyncOff(string value, bool forceSync)
    {
        Assert.Equal(forceSync, _sandbox.LoadValid($"dataDir=d\nforceSync={value}\n").ForceSync);
    }

    [Fact]
    public void AStarWhitelistsEveryFourLetterWord()
    {
        ServerConfig config = _sandbox.LoadValid("dataDir=d\n4lw.commands.whitelist=*\n");

        Assert.Equal(18, config.FourLetterWordWhitelist.Count);
        Assert.Contains("mntr", config.FourLetterWordWhitelist);
        Assert.Contains("hash", config.FourLetterWordWhitelist);
    }

    [Fact]
    public void ReadOnlyModeAddsIsroButOnlyUnderItsUnprefixedName()
    {
        Assert.Contains("isro", _sandbox.LoadValid("dataDir=d\n", D(("readonlymode.enabled", "true"))).FourLetterWordWhitelist);
        Assert.DoesNotContain("isro", _sandbox.LoadValid("dataDir=d\nreadonlymode.enabled=true\n").FourLetterWordWhitelist);
    }

    [Fact]
    public void AnUnknownFourLetterWordIsWarnedAbout()
    {
        ConfigLoadResult result = _sandbox.Load("dataDir=d\n4lw.commands.whitelist=ruok,stats\n");

        Assert.StartsWith("zoo.cfg line 2: \"stats\" in 4lw.commands.whitelist is not a four-letter word;", Assert.Single(result.Warnings));
    }

    [Fact]
    public void AMisspeltKeyIsWarnedAboutBecauseItSilentlyBecomesASystemProperty()
    {
        // Seen on Apache ZooKeeper 3.8.0: with ticktime=1000, /commands/configuration reports tick_time 3000
        // and /commands/system_properties lists zookeeper.ticktime = 1000.
        ConfigLoadResult result = _sandbox.Load("dataDir=d\nticktime=2000\n");

        Assert.Equal(3000, result.Config!.TickTimeMs);
        Assert.Equal(
            "zoo.cfg line 2: unknown key \"ticktime\", so it only sets the system property zookeeper.ticktime; keys are case-sensitive, did you mean tickTime?",
            Assert.Single(result.Warnings));
    }

    [Theory]
    [InlineData("tickTme=2000", "tickTme", "tickTime")]
    [InlineData("sycnLimit=5", "sycnLimit", "syncLimit")]
    [InlineData("dataLogDri=logs", "dataLogDri", "dataLogDir")]
    [InlineData("autopurge.purgeIntervall=1", "autopurge.purgeIntervall", "autopurge.purgeInterval")]
    public void AKeyOneOrTwoSlipsFromAKnownKeyNamesTheKeyMeant(string line, string key, string meant)
    {
        ConfigLoadResult result = _sandbox.Load($"dataDir=d\n{line}\n");

        Assert.Equal(
            $"zoo.cfg line 2: unknown key \"{key}\", so it only sets the system property zookeeper.{key}; a known key is spelt differently, did you mean {meant}?",
            Assert.Single(result.Warnings));
    }

    [Theory]
    [InlineData("ssl.keyStore.location=/etc/zk/keystore.p12")]
    [InlineData("authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider")]
    [InlineData("myOwnSetting=1")]
    public void AKeyFarFromEveryKnownKeyIsTakenSilentlyAsApacheTakesIt(string line)
    {
        ConfigLoadResult result = _sandbox.Load($"dataDir=d\n{line}\n");

        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void MinusDOptionsThatApacheWouldNotReadAreWarnedAbout()
    {
        ConfigLoadResult result = _sandbox.Load("dataDir=d\n", D(("snapCount", "5"), ("zookeeper.tickTime", "100")));

        Assert.Equal(100000, result.Config!.SnapCountTxns);
        Assert.Equal(3000, result.Config.TickTimeMs);
        Assert.Equal(
            ["-DsnapCount has no effect: Apache ZooKeeper reads this knob as -Dzookeeper.snapCount; use that name, or write snapCount=... in zoo.cfg",
             "-Dzookeeper.tickTime has no effect: tickTime is read only from zoo.cfg; put tickTime=... in zoo.cfg instead"],
            result.Warnings);
    }

    [Fact]
    public void ApacheKeysWardenDoesNotImplementAreAcceptedWithAWarning()
    {
        ConfigLoadResult result = _sandbox.Load("dataDir=d\nquorum.auth.enableSasl=false\nmetricsProvider.httpPort=7000\n");

        Assert.True(result.Succeeded);
        Assert.Equal(2, result.Warnings.Count);
        Assert.Contains("quorum.auth.enableSasl is not supported by Warden yet and is ignored", result.Warnings[0]);
    }

    [Fact]
    public void CommandLineArgumentsSplitIntoPropertiesAndTheRest()
    {
        IReadOnlyDictionary<string, string> properties = SystemPropertyArguments.Extract(
            ["-Dzookeeper.maxCnxns=5", "conf/zoo.cfg", "-Djute.maxbuffer=1=2", "-Dflag", "-D", "-Dzookeeper.maxCnxns=6"],
            out IReadOnlyList<string> rest);

        Assert.Equal("6", properties["zookeeper.maxCnxns"]);
        Assert.Equal("1=2", properties["jute.maxbuffer"]);
        Assert.Equal("", properties["flag"]);
        Assert.Equal(["conf/zoo.cfg", "-D"], rest);
    }

    /// <summary>zookeeper.snapshotSizeFactor as Apache's ZKDatabase takes it: from zoo.cfg or -D; unparsable or above 1 is 0.33.</summary>
    [Theory]
    [InlineData(null, 0.33)]
    [InlineData("0.5", 0.5)]
    [InlineData("0", 0)]
    [InlineData("-1", -1)]
    [InlineData("1.5", 0.33)]
    [InlineData("lots", 0.33)]
    public void SnapshotSizeFactorIsReadAsApacheReadsIt(string? value, double expected)
    {
        string dataDir = _sandbox.MakeDirectory("zk1/data");
        _sandbox.WriteMyId("zk1/data", "1\n");
        string zooCfg = $"dataDir={dataDir}\ninitLimit=10\nsyncLimit=5\nserver.1=localhost:2888:3888\nserver.2=localhost:2889:3889\n" +
            (value is null ? "" : $"snapshotSizeFactor={value}\n");
        var settings = ServerSettings.From(_sandbox.LoadValid(zooCfg));
        Assert.Equal(expected, settings.Ensemble!.SnapshotSizeFactor);
    }
}
