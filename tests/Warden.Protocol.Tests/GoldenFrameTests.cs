using Warden.Protocol;

namespace Warden.Protocol.Tests;

/// <summary>
/// Frames captured from Apache ZooKeeper 3.8.0 (Debian's package) with a raw socket: a connect handshake, a
/// create2 of /golden with data "hi", a getData of it and a getData of a missing node. Decoding them must give
/// the fields Apache meant, and encoding those fields must give Apache's bytes back.
/// </summary>
public class GoldenFrameTests
{
    private const string ConnectRequest = "000000000000000000000000000075300000000000000000000000100000000000000000000000000000000000";
    private const string ConnectResponse = "00000000000075300100000ae4320004000000104801370359ff178d0fba37ea99b6d07900";
    private const string Create2Request = "000000010000000f000000072f676f6c64656e000000026869000000010000001f00000005776f726c6400000006616e796f6e6500000000";
    private const string Create2Response = "00000001000000000000002300000000000000072f676f6c64656e00000000000000230000000000000023000001a21d8c20c0000001a21d8c20c0000000000000000000000000000000000000000000000002000000000000000000000023";
    private const string GetDataResponse = "0000000200000000000000230000000000000002686900000000000000230000000000000023000001a21d8c20c0000001a21d8c20c0000000000000000000000000000000000000000000000002000000000000000000000023";
    private const string GetDataMissingResponse = "000000030000000000000023ffffff9b";

    private static byte[] Hex(string hex) => Convert.FromHexString(hex);

    private static string Encode(Action<JuteWriter> write)
    {
        using var writer = new JuteWriter();
        write(writer);
        return Convert.ToHexString(writer.WrittenSpan).ToLowerInvariant();
    }

    [Fact]
    public void ConnectRequestDecodesAndEncodesAsApacheSent()
    {
        var reader = new JuteReader(Hex(ConnectRequest));
        var request = Protocol.ConnectRequest.Read(ref reader);
        Assert.Equal(0, request.ProtocolVersion);
        Assert.Equal(30000, request.TimeoutMs);
        Assert.Equal(0, request.SessionId);
        Assert.Equal(new byte[16], request.Password);
        Assert.True(reader.End);
        Assert.Equal(ConnectRequest, Encode(request.Write));
    }

    [Fact]
    public void ConnectResponseIsThirtySevenBytesWithTheNegotiatedTimeout()
    {
        var bytes = Hex(ConnectResponse);
        Assert.Equal(37, bytes.Length);
        var reader = new JuteReader(bytes);
        var response = Protocol.ConnectResponse.Read(ref reader);
        Assert.Equal(30000, response.TimeoutMs);
        Assert.Equal(0x0100000ae4320004L, response.SessionId);
        Assert.Equal(16, response.Password.Length);
        Assert.False(response.ReadOnly);
        Assert.Equal(ConnectResponse, Encode(response.Write));
    }

    [Fact]
    public void Create2RoundTrips()
    {
        var reader = new JuteReader(Hex(Create2Request));
        var header = RequestHeader.Read(ref reader);
        Assert.Equal(new RequestHeader(1, (int)OpCode.Create2), header);
        var request = CreateRequest.Read(ref reader, withTtl: false);
        Assert.Equal("/golden", request.Path);
        Assert.Equal("hi"u8.ToArray(), request.Data);
        Assert.Equal([new Acl(Perms.All, Id.Anyone)], request.Acl);
        Assert.Equal(0, request.Flags);
        Assert.Equal(Create2Request, Encode(w => { header.Write(w); request.Write(w); }));
    }

    [Fact]
    public void Create2ResponseCarriesTheNewNodesStat()
    {
        var reader = new JuteReader(Hex(Create2Response));
        var header = ReplyHeader.Read(ref reader);
        Assert.Equal(new ReplyHeader(1, 0x23, 0), header);
        var response = Protocol.Create2Response.Read(ref reader);
        Assert.Equal("/golden", response.Path);
        var stat = response.Stat;
        Assert.Equal(0x23, stat.Czxid);
        Assert.Equal(0x23, stat.Mzxid);
        Assert.Equal(0x23, stat.Pzxid);
        Assert.Equal(2, stat.DataLength);
        Assert.Equal(0, stat.NumChildren);
        Assert.Equal(stat.Ctime, stat.Mtime);
        Assert.True(reader.End);
        Assert.Equal(Create2Response, Encode(w => { header.Write(w); response.Write(w); }));
    }

    [Fact]
    public void GetDataResponseAndTheMissingNodeError()
    {
        var reader = new JuteReader(Hex(GetDataResponse));
        var header = ReplyHeader.Read(ref reader);
        var response = Protocol.GetDataResponse.Read(ref reader);
        Assert.Equal(0, header.Err);
        Assert.Equal("hi"u8.ToArray(), response.Data);
        Assert.Equal(GetDataResponse, Encode(w => { header.Write(w); response.Write(w); }));

        var missing = new JuteReader(Hex(GetDataMissingResponse));
        var error = ReplyHeader.Read(ref missing);
        Assert.Equal((int)ErrorCode.NoNode, error.Err);
        Assert.True(missing.End);
    }
}
