using BenchmarkDotNet.Attributes;
using Warden.Protocol;

namespace Warden.MicroBench;

/// <summary>
/// The jute codec on one request record and one reply record, as a connection meets them: a create with 100
/// bytes of data and the open ACL, and a getData reply with 100 bytes and a stat.
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private readonly JuteWriter _writer = new(1024);
    private CreateRequest _create = null!;
    private GetDataResponse _reply = null!;
    private byte[] _createBytes = [];
    private byte[] _replyBytes = [];

    [GlobalSetup]
    public void Setup()
    {
        _create = new CreateRequest("/app/locks/lock-0000000042", new byte[100], [.. Acl.OpenUnsafe], 0);
        _reply = new GetDataResponse(new byte[100], new Stat(0x100000002, 0x100000007, 1765000000000, 1765000001000, 3, 0, 0, 0, 100, 0, 0x100000002));
        _createBytes = Encode(_create);
        _replyBytes = Encode(_reply);
    }

    private byte[] Encode(IJuteRecord record)
    {
        _writer.Reset();
        record.Write(_writer);
        return _writer.ToArray();
    }

    [Benchmark]
    public int EncodeCreateRequest()
    {
        _writer.Reset();
        _create.Write(_writer);
        return _writer.Length;
    }

    [Benchmark]
    public CreateRequest DecodeCreateRequest()
    {
        var reader = new JuteReader(_createBytes);
        return CreateRequest.Read(ref reader, withTtl: false);
    }

    [Benchmark]
    public int EncodeGetDataReply()
    {
        _writer.Reset();
        _reply.Write(_writer);
        return _writer.Length;
    }

    [Benchmark]
    public GetDataResponse DecodeGetDataReply()
    {
        var reader = new JuteReader(_replyBytes);
        return GetDataResponse.Read(ref reader);
    }
}
