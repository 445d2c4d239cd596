namespace Warden.Compat.Tests;

/// <summary>
/// The comparison machinery itself: a harness whose comparisons always pass would make every
/// other test here worthless, so its failure paths are pinned.
/// </summary>
public sealed class HarnessTests
{
    [Fact]
    public void DifferingTranscriptsFailWithAUnifiedDiff()
    {
        var failure = Assert.ThrowsAny<Exception>(() =>
            Transcripts.AssertSame("t", "Apache", "same\nold line\nsame again\n", "Warden", "same\nnew line\nsame again\n"));
        Assert.Contains("--- Apache\n+++ Warden\n same\n-old line\n+new line\n same again\n", failure.Message);
    }

    [Fact]
    public void EqualTranscriptsPass() =>
        Transcripts.AssertSame("t", "Apache", "a\nb\n", "Warden", "a\r\nb");

    [Fact]
    public void TraceComparisonNamesTheSeedAndFirstDifferingStep()
    {
        string[] apache = ["{\"step\":0}", "{\"step\":1,\"result\":null}", "{\"step\":2}"];
        Assert.Null(DifferentialTests.FirstDifference(apache, apache, 7, 3, "Warden"));

        var changed = DifferentialTests.FirstDifference(apache, ["{\"step\":0}", "{\"step\":1,\"result\":1}", "{\"step\":2}"], 7, 3, "Warden");
        Assert.NotNull(changed);
        Assert.Contains("WARDEN_DIFF_SEED=7", changed);
        Assert.Contains("first difference at trace line 2", changed);
        Assert.Contains("Warden : {\"step\":1,\"result\":1}", changed);

        Assert.Contains("ends after 1 of 3", DifferentialTests.FirstDifference(apache, apache[..1], 7, 3, "Warden"));
        Assert.Contains("1 extra lines", DifferentialTests.FirstDifference(apache, [.. apache, "{}"], 7, 3, "Warden"));
    }

    [Fact]
    public void ZkCliNormalisingRemovesOnlyNoise()
    {
        const string raw = "SLF4J: noise\nConnecting to 127.0.0.1:1\n\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n" +
                           "Created /a\nctime = Fri Nov 27 13:25:15 UTC 2026\ncZxid = 0x2\nephemeralOwner = 0x100000abc0000\n" +
                           "ephemeralOwner = 0x0\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/a\n";
        Assert.Equal(
            "Created /a\nctime = <time>\ncZxid = 0x2\nephemeralOwner = <session>\nephemeralOwner = 0x0\n" +
            "WatchedEvent state:SyncConnected type:NodeDataChanged path:/a\n",
            ZkCliTests.Normalise(raw));
    }

    [Fact]
    public void CClientNormalisingSortsChildrenButKeepsStats()
    {
        const string raw = "time = 5 msec\n/: rc = 0\n\tzookeeper\n\tc\n\tctime = Fri Nov 27 14:55:14 2026\n\tczxid=9\n" +
                           "Got a new session id: 0x1\n\tephemeralOwner = 10000042dc60000\n";
        Assert.Equal(
            "/: rc = 0\n\tc\n\tzookeeper\n\tctime = <time>\n\tczxid=9\n\tephemeralOwner = <session>\n",
            CClientTests.Normalise(raw, 2181));
    }
}
