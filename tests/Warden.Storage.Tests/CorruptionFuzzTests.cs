using Warden.Storage;

namespace Warden.Storage.Tests;

/// <summary>
/// Random damage to real files must end in one of the outcomes the recovery rules name, never in a stray
/// exception or a silent partial read. Each case prints its seed so a failure can be replayed.
/// </summary>
public sealed class CorruptionFuzzTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Damaged_logs_read_whole_or_cut_a_tail_or_name_the_damage()
    {
        var pristine = WriteLog();
        int total = Txns.History().Count;
        for (int seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var bytes = (byte[])pristine.Clone();
            int flips = random.Next(1, 4);
            for (int i = 0; i < flips; i++) bytes[random.Next(16, 1400)] ^= (byte)random.Next(1, 256);
            string file = Path.Combine(_dir.VersionDir, "log.1");
            File.WriteAllBytes(file, bytes);
            var reader = new TxnLogReader(_dir.VersionDir);
            try
            {
                int read = reader.ReadFrom(0).Count();
                // Whatever was not read must be accounted for by a reported tail.
                Assert.True(read == total || reader.TornTails.Count == 1, $"seed {seed}: read {read} of {total} with no report");
            }
            catch (TxnLogCorruptException e)
            {
                Assert.True(e.File == file && e.Offset >= 0, $"seed {seed}: {e.Message}");
            }
        }
    }

    [Fact]
    public void Damaged_snapshots_read_equal_or_are_rejected_as_invalid()
    {
        var tree = Txns.Apply(Txns.History());
        string file = SnapshotStore.Write(_dir.VersionDir, tree, new Dictionary<long, int> { [Txns.Session] = 1 }, 16);
        var pristine = File.ReadAllBytes(file);
        var expected = Txns.Describe(tree);
        for (int seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var bytes = (byte[])pristine.Clone();
            bytes[random.Next(bytes.Length)] ^= (byte)random.Next(1, 256);
            File.WriteAllBytes(file, bytes);
            try
            {
                var snapshot = SnapshotFile.Read(file);
                // Only the ignored seal path strings may change without the checksum noticing.
                Assert.True(expected.SequenceEqual(Txns.Describe(snapshot.Tree)), $"seed {seed}: a damaged snapshot read as a different tree");
            }
            catch (InvalidDataException)
            {
            }
        }
    }

    private byte[] WriteLog()
    {
        using (var writer = new TxnLogWriter(_dir.VersionDir, new TxnLogOptions { PreallocateBytes = 4096, ForceSync = false }))
        {
            foreach (var entry in Txns.History()) writer.Append(entry);
            writer.Flush();
        }
        return File.ReadAllBytes(Path.Combine(_dir.VersionDir, "log.1"));
    }
}
