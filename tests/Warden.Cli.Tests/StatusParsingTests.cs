using Warden.Client;
using Warden.Protocol;

namespace Warden.Cli.Tests;

/// <summary>The parts of `warden status` that need no server: reading srvr, the lag, the server list, the table.</summary>
public sealed class StatusParsingTests
{
    // Captured from Apache ZooKeeper 3.8.0 (Debian's package) after some traffic.
    private const string ApacheSrvr =
        "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\nLatency min/avg/max: 0/1.402/26\n" +
        "Received: 309\nSent: 320\nConnections: 1\nOutstanding: 0\nZxid: 0x6e\nMode: standalone\nNode count: 21\n";

    [Fact]
    public void ApachesSrvrAnswerIsReadFieldByField()
    {
        var outcome = SrvrParser.Parse(ApacheSrvr);

        var report = Assert.IsType<SrvrReport>(outcome.Report);
        Assert.Null(outcome.Failure);
        Assert.Equal("standalone", report.Mode);
        Assert.Equal(new Zxid(0x6e), report.Zxid);
        Assert.Equal("0x6e", report.ZxidText);
        Assert.Equal(1, report.Connections);
        Assert.Equal(0, report.Outstanding);
        Assert.Equal(21, report.NodeCount);
        Assert.Equal("0/1.402/26", report.Latency);
        Assert.Equal("3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC", report.Version);
        Assert.Equal("3.8.0", report.ShortVersion);
    }

    [Fact]
    public void LeaderAndReadOnlyAnswersWithTheirExtraLinesAreRead()
    {
        // A leader adds a proposal-size line after the node count; a read-only server a banner after the version.
        var leader = SrvrParser.Parse(
            "Zookeeper version: 3.8.4-9e3c7f5e2a9c0b1a7e8d1f2c3b4a5d6e7f8a9b0c, built on 2024-02-12 22:16 UTC\n" +
            "Latency min/avg/max: 0/0.3/4\nReceived: 12\nSent: 12\nConnections: 3\nOutstanding: 2\nZxid: 0x300000012\n" +
            "Mode: leader\nNode count: 9\nProposal sizes last/min/max: 92/36/120\n").Report!;
        Assert.Equal("leader", leader.Mode);
        Assert.Equal(3, leader.Zxid.Epoch);
        Assert.Equal(0x12, leader.Zxid.Counter);
        Assert.Equal(2, leader.Outstanding);
        Assert.Equal("3.8.4", leader.ShortVersion);

        var readOnly = SrvrParser.Parse(
            "Zookeeper version: 3.8.0-warden, built on 2026-11-27 00:00 UTC\nREAD-ONLY mode; serving only read-only clients\n" +
            "Latency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 0\nConnections: 1\nOutstanding: 0\nZxid: 0x200000004\n" +
            "Mode: read-only\nNode count: 6\n").Report!;
        Assert.Equal("read-only", readOnly.Mode);
        Assert.Equal("3.8.0-warden", readOnly.ShortVersion);
    }

    [Fact]
    public void AZxidWithTheTopBitSetIsReadAsJavaPrintsIt()
    {
        Assert.True(SrvrParser.TryParseZxid("0xffffffff00000001", out var zxid));
        Assert.Equal(unchecked((long)0xffffffff00000001UL), zxid.Value);
        Assert.False(SrvrParser.TryParseZxid("6e", out _));
        Assert.False(SrvrParser.TryParseZxid("0xzz", out _));
    }

    [Theory]
    [InlineData("srvr is not executed because it is not in the whitelist.\n", FailureKind.NotWhitelisted)]
    [InlineData("This ZooKeeper instance is not currently serving requests\n", FailureKind.NotServing)]
    [InlineData("", FailureKind.NoAnswer)]
    [InlineData("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", FailureKind.NotZooKeeper)]
    [InlineData("Zookeeper version: 3.8.0\nMode: standalone\nZxid: nonsense\n", FailureKind.NotZooKeeper)]
    public void AnswersThatAreNotAReportGiveTheirReason(string answer, FailureKind expected)
    {
        var outcome = SrvrParser.Parse(answer);
        Assert.Null(outcome.Report);
        Assert.Equal(expected, outcome.Failure);
    }

    [Fact]
    public void ReasonsNameTheCauseAndTheFix()
    {
        Assert.Equal("connection refused; is a server running there? start one with \"warden server\"",
            ProbeOutcome.Failed(FailureKind.Refused).Reason);
        Assert.StartsWith("srvr is not in 4lw.commands.whitelist", SrvrParser.Parse("srvr is not executed because it is not in the whitelist.\n").Reason);
        Assert.Contains("(\"HTTP/1.1 400 Bad Request\")", SrvrParser.Parse("HTTP/1.1 400 Bad Request\r\n\r\n").Reason);
        Assert.StartsWith("timed out: no answer within 300 ms", ProbeOutcome.Failed(FailureKind.TimedOut, "300 ms").Reason);
    }

    [Fact]
    public void LagIsTheCounterDifferenceWithinAnEpochAndOnlyNamedAcrossEpochs()
    {
        var highest = new Zxid(0x1_0000_0007);
        Assert.Equal("0", Lag.Describe(highest, highest));
        Assert.Equal("4", Lag.Describe(new Zxid(0x1_0000_0003), highest));
        // Counters restart at an epoch change: 0x1000000ff is not 254 behind 0x200000001, it is an epoch behind.
        Assert.Equal("behind (older epoch)", Lag.Describe(new Zxid(0x1_0000_00ff), new Zxid(0x2_0000_0001)));
    }

    [Fact]
    public void TheHighestZxidIgnoresServersThatDidNotAnswer()
    {
        ServerStatus[] statuses =
        [
            Answered("a", 0x1_0000_0003, "follower"),
            new(new HostAddress("b", 2181), ProbeOutcome.Failed(FailureKind.Refused)),
            Answered("c", 0x1_0000_0009, "leader"),
        ];
        Assert.Equal(new Zxid(0x1_0000_0009), Lag.Highest(statuses));
        Assert.Null(Lag.Highest([statuses[1]]));
    }

    [Fact]
    public void ServersAreReadAsHostPortHostAloneBracketedIpv6OrCommaLists()
    {
        Assert.Equal([new HostAddress("127.0.0.1", 2181)], ServerList.Parse([]));
        Assert.Equal(
            [
                new HostAddress("zk1", 2181), new HostAddress("zk2", 2182), new HostAddress("::1", 2183),
                new HostAddress("::1", 2181), new HostAddress("10.0.0.4", 2181),
            ],
            ServerList.Parse(["zk1,zk2:2182", "[::1]:2183,[::1]/app/chroot", " 10.0.0.4 "]));
        Assert.Equal("[::1]:2183", new HostAddress("::1", 2183).ToString());
    }

    [Theory]
    [InlineData("::1", "put it in brackets")]
    [InlineData("zk1:0", "a port is a number from 1 to 65535")]
    [InlineData("zk1:two", "a port is a number from 1 to 65535")]
    [InlineData("[::1", "'[' without ']'")]
    [InlineData(":2181", "has no host name")]
    [InlineData(",", "no server in")]
    public void AServerThatIsNotHostPortIsRefusedWithTheReason(string argument, string reason)
    {
        var error = Assert.Throws<FormatException>(() => ServerList.Parse([argument]));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void TheTableAlignsColumnsAndPutsAFailedServersReasonAfterItsMode()
    {
        ServerStatus[] statuses =
        [
            Answered("10.0.0.1", 0x2_0000_0010, "leader"),
            new(new HostAddress("10.0.0.2", 2181), ProbeOutcome.Failed(FailureKind.Refused)),
            Answered("10.0.0.3", 0x2_0000_000c, "follower"),
            Answered("10.0.0.4", 0x1_0000_0030, "follower"),
        ];

        string table = StatusView.Table(statuses, colour: false);

        Assert.Equal(
            "SERVER         MODE      ZXID         LAG                   CONNECTIONS  NODES  VERSION\n" +
            "10.0.0.1:2181  leader    0x200000010  0                     2            7      3.8.0\n" +
            "10.0.0.2:2181  error     connection refused; is a server running there? start one with \"warden server\"\n" +
            "10.0.0.3:2181  follower  0x20000000c  4                     2            7      3.8.0\n" +
            "10.0.0.4:2181  follower  0x100000030  behind (older epoch)  2            7      3.8.0\n",
            table);
        Assert.DoesNotContain('\u001b', table);
    }

    [Fact]
    public void ColourMarksOnlyFailuresAndLagAndLeavesTheTextTheSame()
    {
        ServerStatus[] statuses =
        [
            Answered("10.0.0.1", 0x10, "standalone"),
            Answered("10.0.0.3", 0x0c, "standalone"),
            new(new HostAddress("10.0.0.2", 2181), ProbeOutcome.Failed(FailureKind.Refused)),
        ];

        string coloured = StatusView.Table(statuses, colour: true);

        Assert.Contains("\u001b[31m", coloured);
        Assert.Contains("\u001b[33m4", coloured);
        string stripped = System.Text.RegularExpressions.Regex.Replace(coloured, "\u001b\\[[0-9]+m", "");
        Assert.Equal(StatusView.Table(statuses, colour: false), stripped);
    }

    [Fact]
    public void OneServerIsShownAsZkServerStatusShowsItWithTheModeLine()
    {
        var report = SrvrParser.Parse(ApacheSrvr).Report!;
        string lines = StatusView.Lines(new HostAddress("127.0.0.1", 2181), report);
        Assert.Equal(
            "Server: 127.0.0.1:2181\nMode: standalone\nZxid: 0x6e\nConnections: 1\nOutstanding: 0\nNode count: 21\n" +
            "Latency min/avg/max: 0/1.402/26\nZookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n",
            lines);
    }

    private static ServerStatus Answered(string host, long zxid, string mode) =>
        new(new HostAddress(host, 2181), ProbeOutcome.Answered(new SrvrReport(
            "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC", mode, new Zxid(zxid), $"0x{zxid:x}", 2, 0, 7, "0/0.0/0")));
}
