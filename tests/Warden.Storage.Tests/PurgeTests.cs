using Warden.Data;
using Warden.Storage;

namespace Warden.Storage.Tests;

public sealed class PurgeTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private void Touch(string name) => File.WriteAllBytes(Path.Combine(_dir.VersionDir, name), []);

    private void Snapshot(long zxid) =>
        SnapshotStore.Write(_dir.VersionDir, new DataTree(), new Dictionary<long, int>(), zxid);

    private string[] Remaining() => Directory.GetFiles(_dir.VersionDir).Select(f => Path.GetFileName(f)!).Order().ToArray();

    [Fact]
    public void Keeps_the_newest_snapshots_and_the_logs_they_need()
    {
        Directory.CreateDirectory(_dir.VersionDir);
        foreach (long zxid in new long[] { 0x10, 0x20, 0x30, 0x40, 0x50 }) Snapshot(zxid);
        foreach (string log in new[] { "log.1", "log.15", "log.25", "log.35", "log.45" }) Touch(log);

        var result = Purger.Purge(_dir.VersionDir, _dir.VersionDir, 3);

        // snapshot.30 is the oldest kept; log.25 may hold the txns right after it, so it stays.
        Assert.Equal(0x30, result.OldestKeptZxid);
        Assert.Equal(["log.25", "log.35", "log.45", "snapshot.30", "snapshot.40", "snapshot.50"], Remaining());
        Assert.Equal(4, result.Deleted.Count);
    }

    [Fact]
    public void A_snapshot_cut_short_does_not_count_among_those_kept()
    {
        Directory.CreateDirectory(_dir.VersionDir);
        foreach (long zxid in new long[] { 0x10, 0x20, 0x30 }) Snapshot(zxid);
        Touch("snapshot.40");
        Purger.Purge(_dir.VersionDir, _dir.VersionDir, 3);
        Assert.Equal(["snapshot.10", "snapshot.20", "snapshot.30", "snapshot.40"], Remaining());
    }

    [Fact]
    public void Fewer_than_three_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Purger.Purge(_dir.VersionDir, _dir.VersionDir, 2));
    }
}
