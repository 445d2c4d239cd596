using System.Text;
using Warden.Data;
using Warden.Protocol;
using Warden.Storage;

namespace Warden.Storage.Tests;

public sealed class SnapStreamTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly Dictionary<long, int> Sessions = new() { [Txns.Session] = 30000, [0x2000000000001] = 4000 };

    private static readonly byte[] SignatureField = [0, 0, 0, 10, .. Encoding.ASCII.GetBytes("BenWasHere")];

    private static SnapshotImage Image() => SnapshotImage.Capture(Txns.Apply(Txns.History()), Sessions, 16);

    [Fact]
    public void The_stream_is_the_snapshot_file_body_followed_by_the_signature()
    {
        var image = Image();
        byte[] stream = SnapStream.ToBytes(image);
        byte[] file = File.ReadAllBytes(SnapshotStore.Write(_dir.VersionDir, image));

        // The file: 16-byte header, the body, then the seal (long adler32, ustring "/" = 13 bytes).
        byte[] body = file[StorageFiles.HeaderSize..^13];
        Assert.Equal([.. body, .. SignatureField], stream);
        Assert.Equal([0, 0, 0, 1, (byte)'/'], file[^5..]);
    }

    [Fact]
    public void Writing_from_the_tree_and_from_an_image_gives_the_same_bytes()
    {
        var tree = Txns.Apply(Txns.History());
        using var fromTree = new MemoryStream();
        SnapStream.Write(fromTree, tree, Sessions);
        Assert.Equal(SnapStream.ToBytes(SnapshotImage.Capture(tree, Sessions, 16)), fromTree.ToArray());
    }

    [Fact]
    public void A_stream_reads_back_as_the_same_tree_and_sessions_at_the_packet_zxid()
    {
        var tree = Txns.Apply(Txns.History());
        var snapshot = SnapStream.Read(SnapStream.ToBytes(SnapshotImage.Capture(tree, Sessions, 16)), zxid: 0x100000010);
        Assert.Equal(Txns.Describe(tree), Txns.Describe(snapshot.Tree));
        Assert.Equal(Sessions, snapshot.SessionTimeoutsMs);
        Assert.Equal(0x100000010, snapshot.Zxid);
        Assert.Equal(0x100000010, snapshot.Tree.LastProcessedZxid);
        Assert.Equal(tree.EphemeralsOf(Txns.Session), snapshot.Tree.EphemeralsOf(Txns.Session));
        Assert.Null(snapshot.Digest);
    }

    [Fact]
    public void An_empty_tree_makes_a_stream_that_reads_back()
    {
        var tree = new DataTree();
        var snapshot = SnapStream.Read(SnapStream.ToBytes(SnapshotImage.Capture(tree, new Dictionary<long, int>(), 0)), 0);
        Assert.Equal(Txns.Describe(tree), Txns.Describe(snapshot.Tree));
        Assert.Empty(snapshot.SessionTimeoutsMs);
    }

    [Fact]
    public void A_wrong_signature_or_trailing_bytes_are_rejected()
    {
        byte[] good = SnapStream.ToBytes(Image());
        byte[] wrongSignature = [.. good];
        wrongSignature[^1] = (byte)'X';
        Assert.Contains("BenWasHere", Assert.Throws<InvalidDataException>(() => SnapStream.Read(wrongSignature, 16)).Message);
        Assert.Throws<InvalidDataException>(() => SnapStream.Read([.. good, 0], 16));
        Assert.Throws<InvalidDataException>(() => SnapStream.Read(good[..^3], 16));
    }

    [Fact]
    public async Task The_raw_reader_takes_exactly_one_stream_and_leaves_the_next_packet_unread()
    {
        byte[] snap = SnapStream.ToBytes(Image());
        byte[] nextPacket = [0, 0, 0, 4, 1, 2, 3, 4];
        using var network = new MemoryStream([.. snap, .. nextPacket]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        byte[] raw = await SnapStream.ReadRawAsync(network, 1 << 20, timeout.Token);
        Assert.Equal(snap, raw);
        Assert.Equal(snap.Length, network.Position);
    }

    [Fact]
    public async Task The_raw_reader_handles_data_larger_than_its_chunks_and_one_byte_reads()
    {
        var big = new byte[200_000];
        new Random(7).NextBytes(big);
        var history = Txns.History();
        history.Add(Txns.Entry(17, new CreateTxn("/big", big, Txns.Open, false, 3)));
        var tree = Txns.Apply(history);
        byte[] snap = SnapStream.ToBytes(SnapshotImage.Capture(tree, Sessions, 17));
        using var network = new TrickleStream([.. snap, 9, 9, 9]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        byte[] raw = await SnapStream.ReadRawAsync(network, 1 << 20, timeout.Token);
        Assert.Equal(snap, raw);
        Assert.Equal(big, SnapStream.Read(raw, 17).Tree.GetNode("/big")!.Data);
    }

    [Fact]
    public async Task The_raw_reader_rejects_an_oversize_field_before_buffering_it()
    {
        var history = Txns.History();
        history.Add(Txns.Entry(17, new CreateTxn("/big", new byte[5000], Txns.Open, false, 3)));
        byte[] snap = SnapStream.ToBytes(SnapshotImage.Capture(Txns.Apply(history), Sessions, 17));
        using var network = new MemoryStream(snap);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => SnapStream.ReadRawAsync(network, 4096, timeout.Token));
        Assert.Contains("node data length of 5000", error.Message);
    }

    [Fact]
    public async Task A_garbled_session_count_is_refused_before_buffering_its_sessions()
    {
        byte[] snap = SnapStream.ToBytes(Image());
        snap[0] = 0x7f;
        using var network = new MemoryStream(snap);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<InvalidDataException>(
            () => SnapStream.ReadRawAsync(network, 1 << 20, maxStreamBytes: 1 << 20, timeout.Token));
        Assert.Contains("would pass 1048576 bytes", error.Message);
        Assert.Equal(4, network.Position);
    }

    [Fact]
    public async Task A_stream_longer_than_allowed_is_refused()
    {
        byte[] snap = SnapStream.ToBytes(Image());
        using var network = new MemoryStream(snap);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Assert.ThrowsAsync<InvalidDataException>(
            () => SnapStream.ReadRawAsync(network, 1 << 20, maxStreamBytes: snap.Length - 1, timeout.Token));
        network.Position = 0;
        Assert.Equal(snap, await SnapStream.ReadRawAsync(network, 1 << 20, maxStreamBytes: snap.Length, timeout.Token));
    }

    [Fact]
    public async Task A_connection_that_ends_inside_the_stream_is_an_end_of_stream()
    {
        byte[] snap = SnapStream.ToBytes(Image());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        for (int cut = 0; cut < snap.Length; cut += 37)
        {
            using var network = new MemoryStream(snap[..cut]);
            await Assert.ThrowsAsync<EndOfStreamException>(() => SnapStream.ReadRawAsync(network, 1 << 20, timeout.Token));
        }
    }

    [Fact]
    public async Task The_raw_reader_rejects_a_wrong_signature()
    {
        byte[] snap = SnapStream.ToBytes(Image());
        snap[^2] = (byte)'?';
        using var network = new MemoryStream(snap);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Assert.ThrowsAsync<InvalidDataException>(() => SnapStream.ReadRawAsync(network, 1 << 20, timeout.Token));
    }

    [Fact]
    public void Garbled_streams_never_crash_the_decoder()
    {
        byte[] snap = SnapStream.ToBytes(Image());
        var random = new Random(11);
        for (int round = 0; round < 300; round++)
        {
            byte[] garbled = [.. snap];
            for (int flips = 0; flips < 3; flips++) garbled[random.Next(garbled.Length)] = (byte)random.Next(256);
            try
            {
                SnapStream.Read(garbled, 16, maxFieldBytes: 1 << 20);
            }
            catch (InvalidDataException)
            {
            }
        }
    }

    [Fact]
    public async Task Garbled_streams_end_the_raw_reader_only_with_a_data_or_end_of_stream_error()
    {
        byte[] snap = SnapStream.ToBytes(Image());
        var random = new Random(12);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        for (int round = 0; round < 300; round++)
        {
            byte[] garbled = [.. snap];
            for (int flips = 0; flips < 3; flips++) garbled[random.Next(garbled.Length)] = (byte)random.Next(256);
            using var network = new MemoryStream(garbled);
            try
            {
                byte[] raw = await SnapStream.ReadRawAsync(network, 1 << 16, timeout.Token);
                // Whatever it took must be exactly what it read, so the next packet starts where it stopped.
                Assert.Equal(garbled[..raw.Length], raw);
                Assert.Equal(raw.Length, network.Position);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
            {
            }
        }
    }

    [Fact]
    public async Task The_raw_reader_stops_when_cancelled_while_the_leader_is_silent()
    {
        byte[] snap = SnapStream.ToBytes(Image());
        using var network = new StallingStream(snap[..100]);
        using var cancel = new CancellationTokenSource();
        var reading = SnapStream.ReadRawAsync(network, 1 << 20, cancel.Token);
        await network.Stalled.WaitAsync(TimeSpan.FromSeconds(30));
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Delivers its bytes, then waits for more that never come, as a stalled connection does.</summary>
    private sealed class StallingStream(byte[] bytes) : MemoryStream(bytes)
    {
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Stalled => _stalled.Task;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int got = await base.ReadAsync(buffer, cancellationToken);
            if (got > 0) return got;
            _stalled.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }
    }

    /// <summary>Hands out one byte per read, the worst a network can do.</summary>
    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);
    }
}
