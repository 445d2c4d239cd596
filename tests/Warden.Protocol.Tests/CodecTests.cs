using System.Buffers;
using Warden.Protocol;

namespace Warden.Protocol.Tests;

public class CodecTests
{
    [Fact]
    public void NullBuffersStringsAndVectorsAreMinusOne()
    {
        using var writer = new JuteWriter();
        writer.WriteBuffer((byte[]?)null);
        writer.WriteString(null);
        writer.WriteStringVector(null);
        Assert.Equal(Convert.FromHexString("ffffffffffffffffffffffff"), writer.ToArray());
        var reader = new JuteReader(writer.WrittenSpan);
        Assert.Null(reader.ReadBuffer());
        Assert.Null(reader.ReadString());
        Assert.Null(reader.ReadStringVector());
    }

    [Fact]
    public void TruncatedRecordIsAJuteErrorNotACrash()
    {
        var bytes = Convert.FromHexString("0000000a6162");
        var error = Assert.Throws<JuteException>(() =>
        {
            var reader = new JuteReader(bytes);
            reader.ReadString();
        });
        Assert.Contains("ends early", error.Message);
    }

    [Fact]
    public void AVectorCountLargerThanTheRecordIsRejectedBeforeAllocating()
    {
        var bytes = Convert.FromHexString("7fffffff");
        Assert.Throws<JuteException>(() =>
        {
            var reader = new JuteReader(bytes);
            reader.ReadStringVector();
        });
    }

    [Fact]
    public void InvalidUtf8DecodesWithReplacementCharactersAsJavaDoes()
    {
        var bytes = Convert.FromHexString("00000002c328");
        var reader = new JuteReader(bytes);
        Assert.Equal("\ufffd(", reader.ReadString());
        Assert.False(PathValidation.IsValid("/a" + "\ufffd"));
    }

    [Fact]
    public void ConnectRequestWithoutReadOnlyFlagFromOldClientsIsAccepted()
    {
        var full = Convert.FromHexString("000000000000000000000000000075300000000000000000000000100000000000000000000000000000000000");
        var reader = new JuteReader(full.AsSpan(0, full.Length - 1));
        var request = ConnectRequest.Read(ref reader);
        Assert.False(request.ReadOnly);
        Assert.Equal(30000, request.TimeoutMs);
    }

    [Fact]
    public void FrameLengthIsPatchedAfterTheBody()
    {
        using var writer = new JuteWriter();
        writer.BeginFrame();
        new ReplyHeader(7, 0x10, 0).Write(writer);
        writer.EndFrame();
        Assert.Equal("00000010" + "00000007" + "0000000000000010" + "00000000", Convert.ToHexString(writer.WrittenSpan).ToLowerInvariant());
        Assert.Equal(20, writer.Length);
    }
}

public class FramingTests
{
    private static ReadOnlySequence<byte> Bytes(string hex) => new(Convert.FromHexString(hex));

    [Fact]
    public void CompleteFrameIsSlicedAndTheRestKept()
    {
        var buffer = Bytes("00000002abcd" + "0000");
        Assert.Equal(FrameStatus.Complete, Framing.TryReadFrame(ref buffer, 100, out var payload, out int length));
        Assert.Equal(2, length);
        Assert.Equal(new byte[] { 0xab, 0xcd }, payload.ToArray());
        Assert.Equal(2, buffer.Length);
        Assert.Equal(FrameStatus.Incomplete, Framing.TryReadFrame(ref buffer, 100, out _, out _));
    }

    [Fact]
    public void OversizedLengthIsInvalidBeforeTheBodyArrives()
    {
        var buffer = Bytes("00100000");
        Assert.Equal(FrameStatus.Invalid, Framing.TryReadFrame(ref buffer, Framing.DefaultMaxPacketBytes, out _, out int length));
        Assert.Equal(0x100000, length);
    }

    [Fact]
    public void NegativeLengthIsInvalid()
    {
        var buffer = Bytes("ffffffff");
        Assert.Equal(FrameStatus.Invalid, Framing.TryReadFrame(ref buffer, 100, out _, out _));
    }

    [Fact]
    public void AFrameSplitAcrossSegmentsIsReassembled()
    {
        var first = new Segment(Convert.FromHexString("0000"));
        var last = first.Append(Convert.FromHexString("000301"));
        var third = last.Append(Convert.FromHexString("0203"));
        var buffer = new ReadOnlySequence<byte>(first, 0, third, 2);
        Assert.Equal(FrameStatus.Complete, Framing.TryReadFrame(ref buffer, 100, out var payload, out _));
        Assert.Equal(new byte[] { 1, 2, 3 }, payload.ToArray());
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes) => Memory = bytes;

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}

public class PathValidationTests
{
    [Theory]
    [InlineData("/")]
    [InlineData("/a")]
    [InlineData("/a/b.c")]
    [InlineData("/a/..b")]
    [InlineData("/zookeeper/quota")]
    public void ValidPaths(string path) => Assert.Null(PathValidation.Validate(path));

    [Theory]
    [InlineData("", "Path length must be > 0")]
    [InlineData("a", "Path must start with / character")]
    [InlineData("/a/", "Path must not end with / character")]
    [InlineData("//a", "empty node name specified @1")]
    [InlineData("/a/./b", "relative paths not allowed @3")]
    [InlineData("/a/../b", "relative paths not allowed @4")]
    [InlineData("/a\u0001", "invalid character @2")]
    [InlineData("/a\u0000", "null character not allowed @2")]
    [InlineData("/\ud800x", "invalid character @1")]
    public void InvalidPathsGiveApachesReason(string path, string reason) => Assert.Equal(reason, PathValidation.Validate(path));

    [Fact]
    public void ASequentialCreateMayEndInASlash()
    {
        Assert.Null(PathValidation.Validate("/a/", isSequential: true));
    }

    [Fact]
    public void ZxidSplitsIntoEpochAndCounter()
    {
        var zxid = Zxid.From(3, 7);
        Assert.Equal(0x300000007L, zxid.Value);
        Assert.Equal(3, zxid.Epoch);
        Assert.Equal(7, zxid.Counter);
        Assert.Equal("0x300000007", zxid.ToString());
    }
}
