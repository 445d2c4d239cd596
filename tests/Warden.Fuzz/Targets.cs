using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Warden.Consensus;
using Warden.Consensus.Wire;
using Warden.Data;
using Txn = Warden.Data.Txn;
using Warden.Protocol;
using Warden.Protocol.Sasl;
using Warden.Server;
using Warden.Server.Processing;
using Warden.Server.Quorum.Transport;
using Warden.Server.Replication;
using Warden.Storage;

namespace Warden.Fuzz;

/// <summary>Every decoder Warden runs on bytes from outside: clients, peers, and the files of a data directory.</summary>
public static class Targets
{
    private static readonly Type[] Jute = [typeof(JuteException)];

    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("frame", Frame, () => [Framed([0, 0, 0, 1, 0, 0, 0, 4]), Framed(new byte[40]), [0, 0, 0, 0]], []),
        new("connect", Connect, () => [Encode(new ConnectRequest(0, 0, 30000, 0, new byte[16], false)),
            Encode(new ConnectRequest(0, 0x100000001, 4000, 0x1000abc, Enumerable.Range(0, 16).Select(i => (byte)i).ToArray(), true))], Jute),
        new("request", RequestRecord, RequestSeeds, Jute),
        new("server-request", ServerRequest, RequestSeeds, [], AllocationBase: 4 * 1024 * 1024, AllocationPerInputByte: 4096),
        new("txn", TxnEntry, TxnSeeds, Jute),
        new("quorum-packet", QuorumPacketBytes, QuorumSeeds, Jute),
        new("notification", NotificationFrame, NotificationSeeds, []),
        new("election-handshake", Handshake, HandshakeSeeds, [typeof(ElectionHandshakeException), typeof(EndOfStreamException)]),
        // A snapshot restores into a new tree, whose node store takes its first chunk of slots (about half a MiB) at once.
        new("snapshot", bytes => SnapStream.Read(bytes, 0x100000005), SnapshotSeeds, [typeof(InvalidDataException)],
            AllocationBase: 1024 * 1024, AllocationPerInputByte: 256),
        new("sasl-digest", bytes => DigestMd5.ParseDirectives(bytes, out _), () =>
            [Encoding.UTF8.GetBytes("username=\"bob\",realm=\"zk-sasl-md5\",nonce=\"abc\",nc=00000001,cnonce=\"xyz\",digest-uri=\"zookeeper/zk-sasl-md5\",response=0123456789abcdef0123456789abcdef,qop=auth,charset=utf-8")],
            [typeof(SaslException)]),
    ];

    public static FuzzTarget Named(string name) => All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"no fuzz target '{name}'; targets: {string.Join(", ", All.Select(t => t.Name))}");

    private static void Connect(byte[] bytes)
    {
        var reader = new JuteReader(bytes);
        ConnectRequest.Read(ref reader);
    }

    private static byte[] Encode(IJuteRecord record)
    {
        using var writer = new JuteWriter();
        record.Write(writer);
        return writer.ToArray();
    }

    private static byte[] Framed(byte[] payload)
    {
        var bytes = new byte[4 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes, payload.Length);
        payload.CopyTo(bytes, 4);
        return bytes;
    }

    /// <summary>The client framer over the input cut into segments where its first byte says, as sockets deliver it.</summary>
    private static void Frame(byte[] bytes)
    {
        int cut = bytes.Length == 0 ? 0 : bytes[0] % (bytes.Length + 1);
        var sequence = Segments.Of(bytes.AsMemory(0, cut), bytes.AsMemory(cut));
        int frames = 0;
        while (Framing.TryReadFrame(ref sequence, 64 * 1024, out var payload, out int declared) == FrameStatus.Complete)
        {
            if (payload.Length != declared) throw new InvalidOperationException($"payload {payload.Length} bytes, declared {declared}");
            if (++frames > bytes.Length) throw new InvalidOperationException("more frames than bytes");
        }
    }

    // The first byte picks the opcode, the rest is the body, decoded as the server decodes that opcode's record.
    private static readonly OpCode[] RequestTypes =
    [
        OpCode.Create, OpCode.Create2, OpCode.CreateContainer, OpCode.CreateTtl, OpCode.Delete, OpCode.Exists, OpCode.GetData,
        OpCode.SetData, OpCode.GetAcl, OpCode.SetAcl, OpCode.GetChildren, OpCode.GetChildren2, OpCode.Sync, OpCode.Check,
        OpCode.Multi, OpCode.MultiRead, OpCode.Auth, OpCode.SetWatches, OpCode.SetWatches2, OpCode.Sasl, OpCode.Reconfig,
        OpCode.CheckWatches, OpCode.RemoveWatches, OpCode.AddWatch, OpCode.GetEphemerals, OpCode.GetAllChildrenNumber,
        OpCode.WhoAmI, OpCode.CloseSession, OpCode.Ping,
    ];

    private static OpCode TypeOf(byte[] bytes) => RequestTypes[bytes.Length == 0 ? 0 : bytes[0] % RequestTypes.Length];

    private static void RequestRecord(byte[] bytes)
    {
        if (bytes.Length == 0) return;
        var reader = new JuteReader(bytes.AsSpan(1));
        switch (TypeOf(bytes))
        {
            case OpCode.Create or OpCode.Create2 or OpCode.CreateContainer: CreateRequest.Read(ref reader, withTtl: false); break;
            case OpCode.CreateTtl: CreateRequest.Read(ref reader, withTtl: true); break;
            case OpCode.Delete: DeleteRequest.Read(ref reader); break;
            case OpCode.Exists or OpCode.GetData or OpCode.GetChildren or OpCode.GetChildren2: PathWatchRequest.Read(ref reader); break;
            case OpCode.GetAcl or OpCode.Sync or OpCode.GetEphemerals or OpCode.GetAllChildrenNumber: PathRequest.Read(ref reader); break;
            case OpCode.SetData: SetDataRequest.Read(ref reader); break;
            case OpCode.SetAcl: SetAclRequest.Read(ref reader); break;
            case OpCode.Check: CheckVersionRequest.Read(ref reader); break;
            case OpCode.Multi or OpCode.MultiRead: MultiOperation.Read(ref reader); break;
            case OpCode.Auth: AuthPacket.Read(ref reader); break;
            case OpCode.SetWatches: SetWatchesRequest.Read(ref reader, version2: false); break;
            case OpCode.SetWatches2: SetWatchesRequest.Read(ref reader, version2: true); break;
            case OpCode.Sasl: SaslRequest.Read(ref reader); break;
            case OpCode.Reconfig: ReconfigRequest.Read(ref reader); break;
            case OpCode.CheckWatches or OpCode.RemoveWatches: WatchesRequest.Read(ref reader); break;
            case OpCode.AddWatch: AddWatchRequest.Read(ref reader); break;
        }
    }

    private static IReadOnlyList<byte[]> RequestSeeds()
    {
        byte Op(OpCode type) => (byte)Array.IndexOf(RequestTypes, type);
        byte[] With(OpCode type, IJuteRecord? record) => [Op(type), .. record is null ? [] : Encode(record)];
        var acl = new List<Acl>(Acl.OpenUnsafe);
        using var multi = new JuteWriter();
        new MultiHeader((int)OpCode.Create, false, -1).Write(multi);
        new CreateRequest("/m", [1, 2], acl, 0).Write(multi);
        new MultiHeader((int)OpCode.Check, false, -1).Write(multi);
        new CheckVersionRequest("/m", 0).Write(multi);
        new MultiHeader(-1, true, -1).Write(multi);
        return
        [
            With(OpCode.Create, new CreateRequest("/a", Encoding.UTF8.GetBytes("hello"), acl, 0)),
            With(OpCode.CreateTtl, new CreateRequest("/t", [1], acl, 5, 1000)),
            With(OpCode.Create2, new CreateRequest("/a/s-", [], acl, 3)),
            With(OpCode.Delete, new DeleteRequest("/a", -1)),
            With(OpCode.GetData, new PathWatchRequest("/a", true)),
            With(OpCode.GetChildren2, new PathWatchRequest("/", false)),
            With(OpCode.SetData, new SetDataRequest("/a", [9, 9], 0)),
            With(OpCode.SetAcl, new SetAclRequest("/a", [new Acl(Perms.All, new Id("digest", "u:abc="))], -1)),
            With(OpCode.Check, new CheckVersionRequest("/a", 1)),
            [Op(OpCode.Multi), .. multi.ToArray()],
            With(OpCode.Auth, new AuthPacket(0, "digest", Encoding.UTF8.GetBytes("u:p"))),
            With(OpCode.SetWatches2, new SetWatchesRequest(5, ["/a"], ["/b"], ["/"], ["/p"], ["/r"]) { IsVersion2 = true }),
            With(OpCode.Reconfig, new ReconfigRequest("server.4=127.0.0.1:2891:3891;2184", null, null, -1)),
            With(OpCode.AddWatch, new AddWatchRequest("/a", 1)),
            With(OpCode.RemoveWatches, new WatchesRequest("/a", 3)),
            With(OpCode.Sync, new PathRequest("/")),
            With(OpCode.WhoAmI, null),
        ];
    }

    /// <summary>
    /// A whole request through a real server loop (in memory): the record decoded as the server decodes it and acted
    /// on against a small tree. Bad input must be answered with an error code or close the connection with a clear
    /// reason, never with the loop's "unexpected server error" (a stack trace in the log).
    /// </summary>
    private static void ServerRequest(byte[] bytes)
    {
        var server = ServerLoop.Current;
        server.Send(TypeOf(bytes), bytes.Length == 0 ? [] : bytes[1..]);
    }

    private static void TxnEntry(byte[] bytes) => TxnLogEntry.Parse(bytes);

    private static IReadOnlyList<byte[]> TxnSeeds()
    {
        byte[] Entry(OpCode type, Txn? txn, long zxid = 0x100000002)
        {
            using var writer = new JuteWriter();
            new TxnLogEntry(new TxnHeader(0x1000abc, 3, zxid, 1_700_000_000_000, (int)type), txn).WriteBuffer(writer);
            return writer.ToArray();
        }
        var acl = new List<Acl>(Acl.OpenUnsafe);
        return
        [
            Entry(OpCode.Create, new CreateTxn("/a", [1, 2, 3], acl, false, 1)),
            Entry(OpCode.SetData, new SetDataTxn("/a", [4], 2, OpCode.SetData)),
            Entry(OpCode.Delete, new DeleteTxn("/a", OpCode.Delete)),
            Entry(OpCode.CreateSession, new CreateSessionTxn(30000)),
            Entry(OpCode.CloseSession, new CloseSessionTxn(["/e1", "/e2"])),
            Entry(OpCode.Error, new ErrorTxn(ErrorCode.NoNode)),
            Entry(OpCode.Multi, new MultiTxn([new CreateTxn("/m", [], acl, true, 0), new CheckVersionTxn("/m", 0)])),
        ];
    }

    private static void QuorumPacketBytes(byte[] bytes)
    {
        var packet = QuorumPacket.Decode(bytes);
        if (packet.Type is PacketType.FollowerInfo or PacketType.ObserverInfo && packet.Data is { } info) LearnerInfo.Decode(info);
        if (packet.Type is PacketType.LeaderInfo or PacketType.AckEpoch) packet.ReadIntPayload();
        if (packet.Type is PacketType.Proposal or PacketType.Inform && packet.Data is { } txn) TxnLogEntry.Parse(txn);
    }

    private static IReadOnlyList<byte[]> QuorumSeeds() =>
    [
        new QuorumPacket(PacketType.FollowerInfo, new Zxid(0x100000000), new LearnerInfo(new ServerId(2), 0x10000, 0).Encode()).Encode(),
        new QuorumPacket(PacketType.LeaderInfo, new Zxid(0x200000000), QuorumPacket.IntPayload(0x10000)).Encode(),
        new QuorumPacket(PacketType.Proposal, new Zxid(0x100000002), TxnSeeds()[0]).Encode(),
        new QuorumPacket(PacketType.Ping, new Zxid(0x100000002), null, [new Id("digest", "u:x=")]).Encode(),
        new QuorumPacket(PacketType.Commit, new Zxid(0x100000002)).Encode(),
    ];

    private static void NotificationFrame(byte[] bytes) => NotificationCodec.TryDecode(bytes, out _);

    private static IReadOnlyList<byte[]> NotificationSeeds() =>
    [
        Notification.From(PeerState.Looking, new Vote(new ServerId(1), new Zxid(0x100000003), 2, 1), 2,
            Encoding.UTF8.GetBytes("server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=0")).Encode(),
        Notification.From(PeerState.Leading, new Vote(new ServerId(3), new Zxid(0), 1, 1), 1).Encode(),
    ];

    private static void Handshake(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        ElectionHandshake.ReadAsync(stream, CancellationToken.None).GetAwaiter().GetResult();
    }

    private static IReadOnlyList<byte[]> HandshakeSeeds() =>
    [
        ElectionHandshake.Encode(new ServerId(2), "127.0.0.1:3888"),
        ElectionHandshake.Encode(new ServerId(7), "[::1]:3890"),
        [0, 0, 0, 0, 0, 0, 0, 3],
    ];

    private static IReadOnlyList<byte[]> SnapshotSeeds()
    {
        var tree = new DataTree();
        var acl = new List<Acl>(Acl.OpenUnsafe);
        tree.Apply(new TxnHeader(0x1000abc, 1, 0x100000001, 1_700_000_000_000, (int)OpCode.Create), new CreateTxn("/a", [1, 2], acl, false, 1));
        tree.Apply(new TxnHeader(0x1000abc, 2, 0x100000002, 1_700_000_000_000, (int)OpCode.Create), new CreateTxn("/a/b", [], acl, true, 1));
        var image = SnapshotImage.Capture(tree, new Dictionary<long, int> { [0x1000abc] = 30000 }, tree.LastProcessedZxid);
        return [SnapStream.ToBytes(image)];
    }
}

/// <summary>A read-only sequence over two pieces, as a socket's pipe hands them over.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory) => Memory = memory;

    public static ReadOnlySequence<byte> Of(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second)
    {
        var head = new Segments(first);
        var tail = new Segments(second) { RunningIndex = first.Length };
        head.Next = tail;
        return new ReadOnlySequence<byte>(head, 0, tail, second.Length);
    }
}
