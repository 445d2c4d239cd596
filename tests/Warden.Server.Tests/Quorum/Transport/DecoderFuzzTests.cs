using System.Buffers;
using Warden.Consensus;
using Warden.Consensus.Wire;
using Warden.Protocol;
using Warden.Server.Quorum.Transport;

namespace Warden.Server.Tests.Quorum.Transport;

/// <summary>
/// The stream decoders of both ports against packets split at every kind of boundary and against random bytes,
/// from printed seeds: they must find exactly the packets written, and never throw on garbage.
/// </summary>
public sealed class DecoderFuzzTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Packets_split_across_segments_come_out_whole_and_in_order(int seed)
    {
        var random = new Random(seed);
        var packets = Enumerable.Range(0, 200).Select(_ => RandomPacket(random)).ToList();
        var stream = packets.SelectMany(p => p.Encode()).ToArray();
        var buffer = Segmented(stream, random);

        var decoded = new List<QuorumPacket>();
        while (true)
        {
            var status = QuorumPacketFramer.TryRead(ref buffer, 1 << 20, out var packet, out var problem);
            if (status == FrameStatus.Incomplete) break;
            Assert.True(status == FrameStatus.Complete, $"seed {seed}: {problem}");
            decoded.Add(packet!);
        }
        Assert.Equal(0, buffer.Length);
        Assert.Equal(packets.Count, decoded.Count);
        for (int i = 0; i < packets.Count; i++)
        {
            Assert.Equal(packets[i].Encode(), decoded[i].Encode());
        }
    }

    [Fact]
    public void A_packet_is_incomplete_until_its_last_byte_arrives()
    {
        var bytes = new QuorumPacket(PacketType.Proposal, Zxid.From(1, 2), new byte[33], [new Id("digest", "a:b")]).Encode();
        for (int length = 0; length < bytes.Length; length++)
        {
            var prefix = new ReadOnlySequence<byte>(bytes, 0, length);
            Assert.Equal(FrameStatus.Incomplete, QuorumPacketFramer.TryRead(ref prefix, 1 << 20, out _, out _));
        }
        var whole = new ReadOnlySequence<byte>(bytes);
        Assert.Equal(FrameStatus.Complete, QuorumPacketFramer.TryRead(ref whole, 1 << 20, out _, out _));
    }

    [Fact]
    public void A_packet_over_the_limit_is_rejected_before_its_body_arrives()
    {
        var header = new QuorumPacket(PacketType.Proposal, Zxid.From(1, 2), new byte[5000]).Encode().AsSpan(0, 16).ToArray();
        var buffer = new ReadOnlySequence<byte>(header);
        Assert.Equal(FrameStatus.Invalid, QuorumPacketFramer.TryRead(ref buffer, 4096, out _, out var problem));
        Assert.Contains("5000", problem);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void Random_bytes_never_throw_from_either_decoder(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < 20_000; i++)
        {
            var bytes = new byte[random.Next(0, 80)];
            random.NextBytes(bytes);
            // Small lengths make the walk reach the later fields now and then.
            if (bytes.Length >= 16 && random.Next(2) == 0) bytes[12] = bytes[13] = bytes[14] = 0;
            var buffer = new ReadOnlySequence<byte>(bytes);
            QuorumPacketFramer.TryRead(ref buffer, 1 << 16, out _, out _);
            NotificationCodec.TryDecode(bytes, out _);
        }
    }

    [Fact]
    public void Notifications_of_every_accepted_length_decode()
    {
        var full = new Notification(PeerState.Leading, new ServerId(3), Zxid.From(2, 9), 5, 2, 2, "version=0"u8.ToArray()).Encode();
        var decoded = NotificationCodec.TryDecode(full, out _)!;
        Assert.Equal("version=0"u8.ToArray(), decoded.Config);
        Assert.Equal(2, decoded.PeerEpoch);

        var forty = NotificationCodec.TryDecode(full.AsSpan(0, 40), out _)!;
        Assert.Equal(2, forty.PeerEpoch);
        Assert.Equal(0, forty.Version);
        Assert.Null(NotificationCodec.TryDecode(full.AsSpan(0, 27), out var problem));
        Assert.Contains("27 bytes", problem);
        var badState = full.ToArray();
        badState[3] = 9;
        Assert.Null(NotificationCodec.TryDecode(badState, out _));
    }

    private static QuorumPacket RandomPacket(Random random)
    {
        var type = (PacketType)random.Next(1, 20);
        byte[]? data = random.Next(4) == 0 ? null : new byte[random.Next(0, 3000)];
        if (data is not null) random.NextBytes(data);
        List<Id>? auth = random.Next(3) switch
        {
            0 => null,
            1 => [],
            _ => [new Id("digest", "user:" + random.Next()), new Id("ip", "127.0.0.1")],
        };
        return new QuorumPacket(type, new Zxid(random.NextInt64()), data, auth);
    }

    /// <summary>The bytes as a sequence of random-sized segments, as a socket delivers them.</summary>
    private static ReadOnlySequence<byte> Segmented(byte[] bytes, Random random)
    {
        Segment? first = null;
        Segment? last = null;
        int offset = 0;
        while (offset < bytes.Length)
        {
            int size = Math.Min(bytes.Length - offset, random.Next(1, 700));
            var segment = new Segment(bytes.AsMemory(offset, size), last?.RunningIndex + last?.Memory.Length ?? 0);
            if (last is null) first = segment;
            else last.SetNext(segment);
            last = segment;
            offset += size;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
