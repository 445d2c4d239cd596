using Xunit.Abstractions;
using System.Buffers.Binary;
using System.Net.Sockets;
using Warden.Protocol;

namespace Warden.Server.Tests.Network.Hardening;

/// <summary>
/// Tens of thousands of frames, valid ones mutated from a seed, over many connections: each bad frame may cost
/// its connection, never the server, never another session, and never a stack trace in the log. A failure
/// prints the seed; set WARDEN_MUTATOR_SEED to replay it.
/// </summary>
[Collection(HardeningCollection.Name)]
public sealed class FrameMutatorTests(ITestOutputHelper output)
{
    private const int Connections = 600, FramesPerConnection = 100, Parallel = 10;

    [Fact]
    public async Task MutatedFramesCostOnlyTheirOwnConnection()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("WARDEN_MUTATOR_SEED"), out var given) ? given : 20261207;
        output.WriteLine($"seed {seed} (replay with WARDEN_MUTATOR_SEED={seed})");
        await using var server = await HardeningServer.StartAsync(s => s with { MaxClientConnectionsPerHost = 0, SessionlessConnectionTimeoutMs = 2000 });
        await using var bystander = await Bystander.StartAsync(server.EndPoint);

        // Each connection's bytes come from its own generator, so the run is the same whatever the scheduling.
        var streams = Enumerable.Range(0, Connections).Select(i => BuildStream(new Random(HashCode.Combine(seed, i)))).ToList();
        int next = -1;
        var workers = Enumerable.Range(0, Parallel).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < streams.Count) await PlayAsync(server, streams[index]);
        }));
        await Task.WhenAll(workers);

        long decoded = await server.Server.Core.QueryAsync(() => server.Server.Core.Stats.PacketsReceived);
        output.WriteLine($"{streams.Sum(s => s.Length)} bytes in {Connections * FramesPerConnection} frames sent; {decoded} requests reached the loop");
        var faults = server.Log.Faults();
        Assert.True(faults.Count == 0, $"seed {seed}: the server logged faults:\n" + string.Join("\n", faults.Take(5)));
        using var after = await WireClient.OpenSessionAsync(server.EndPoint, 10_000);
        Assert.Equal(ErrorCode.Ok, (await after.CallAsync(OpCode.Exists, new PathWatchRequest("/", false))).Error);
        await bystander.AssertHealthyAsync(maxLatencyMs: 5000);
    }

    private static async Task PlayAsync(HardeningServer server, byte[] stream)
    {
        using var client = await WireClient.OpenAsync(server.EndPoint);
        try
        {
            await client.SendAsync(stream);
            client.Socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // The server closed the connection at a bad frame before all of it went out.
        }
        Assert.True(await client.WaitForCloseAsync(TimeSpan.FromSeconds(20)), "the server kept a finished connection open");
    }

    /// <summary>A connect request and requests of every common kind, some of them mutated.</summary>
    private static byte[] BuildStream(Random random)
    {
        var frames = new List<byte[]> { WireClient.ConnectFrame(10_000) };
        for (int i = 1; i < FramesPerConnection; i++) frames.Add(ValidRequest(random, i));
        var output = new List<byte>();
        foreach (var frame in frames) output.AddRange(random.Next(20) == 0 ? Mutate(frame, random) : frame);
        return [.. output];
    }

    private static byte[] ValidRequest(Random random, int xid)
    {
        string path = "/m" + random.Next(20) + (random.Next(3) == 0 ? "/c" + random.Next(5) : "");
        var acl = new List<Acl>(Acl.OpenUnsafe);
        return random.Next(9) switch
        {
            0 => WireClient.RequestFrame(xid, OpCode.Create, new CreateRequest(path, new byte[random.Next(64)], acl, random.Next(4))),
            1 => WireClient.RequestFrame(xid, OpCode.Create2, new CreateRequest(path, [], acl, 0)),
            2 => WireClient.RequestFrame(xid, OpCode.GetData, new PathWatchRequest(path, random.Next(2) == 0)),
            3 => WireClient.RequestFrame(xid, OpCode.GetChildren2, new PathWatchRequest(path, random.Next(2) == 0)),
            4 => WireClient.RequestFrame(xid, OpCode.SetData, new SetDataRequest(path, new byte[random.Next(32)], -1)),
            5 => WireClient.RequestFrame(xid, OpCode.Delete, new DeleteRequest(path, -1)),
            6 => WireClient.MultiCreateFrame(xid, [path, path + "/x"], CreateMode.Persistent),
            7 => WireClient.RequestFrame(Xids.Ping, OpCode.Ping, null),
            _ => WireClient.RequestFrame(xid, OpCode.Exists, new PathWatchRequest(path, true)),
        };
    }

    private static byte[] Mutate(byte[] frame, Random random)
    {
        var bytes = frame.ToList();
        switch (random.Next(7))
        {
            case 0:
                bytes[random.Next(bytes.Count)] ^= (byte)(1 << random.Next(8));
                break;
            case 1:
                bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                break;
            case 2:
                bytes.RemoveRange(random.Next(bytes.Count), 1);
                break;
            case 3:
                bytes.InsertRange(random.Next(bytes.Count), RandomBytes(random, random.Next(1, 9)));
                break;
            case 4:
                // A length field anywhere, made huge, negative or zero.
                int at = random.Next(Math.Max(1, bytes.Count - 4));
                var value = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(value, random.Next(3) switch { 0 => int.MaxValue, 1 => -random.Next(1, 100), _ => 0 });
                for (int i = 0; i < 4 && at + i < bytes.Count; i++) bytes[at + i] = value[i];
                break;
            case 5:
                int cut = random.Next(4, bytes.Count);
                bytes.RemoveRange(cut, bytes.Count - cut);
                break;
            default:
                // A body byte changed and the frame length left alone, so the mutation reaches the decoder.
                bytes[4 + random.Next(bytes.Count - 4)] = (byte)random.Next(256);
                break;
        }
        return [.. bytes];
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
