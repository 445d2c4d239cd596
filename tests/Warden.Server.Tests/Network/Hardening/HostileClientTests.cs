using Xunit.Abstractions;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Warden.Protocol;

namespace Warden.Server.Tests.Network.Hardening;

/// <summary>
/// Clients that misbehave or ask for a lot must cost their own connection, never the other sessions: each
/// test runs a healthy bystander session beside the hostile client and requires that it sees no error, no
/// expiry and no long wait.
/// </summary>
[Collection(HardeningCollection.Name)]
public sealed class HostileClientTests(ITestOutputHelper output)
{
    private static long ResidentBytes()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    [Fact]
    public async Task AClientThatNeverReadsItsRepliesDoesNotGrowTheServer()
    {
        await using var server = await HardeningServer.StartAsync();
        using (var setup = await WireClient.OpenSessionAsync(server.EndPoint, 10_000))
        {
            var (created, _) = await setup.CallAsync(OpCode.Create,
                new CreateRequest("/big512", new byte[512 * 1024], [.. Acl.OpenUnsafe], (int)CreateMode.Persistent));
            Assert.Equal(ErrorCode.Ok, created);
        }
        await using var bystander = await Bystander.StartAsync(server.EndPoint);
        using var slow = await WireClient.OpenSessionAsync(server.EndPoint, 10_000, receiveBufferBytes: 4096);
        GC.Collect();
        long before = ResidentBytes();

        // Pipeline reads of the large node and never read a reply. Without back-pressure every request queues
        // a reply in the server (half a megabyte each, without sharing); with it the server stops reading this
        // socket and the sends below stall in the kernel.
        var getData = WireClient.RequestFrame(1, OpCode.GetData, new PathWatchRequest("/big512", false));
        var burst = new byte[getData.Length * 100];
        for (int i = 0; i < 100; i++) getData.CopyTo(burst, i * getData.Length);
        using var flood = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        long sentRequests = 0;
        try
        {
            while (true)
            {
                await slow.SendAsync(burst, flood.Token);
                sentRequests += 100;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
        }
        long grownBytes = ResidentBytes() - before;
        var queued = await server.Server.Core.QueryAsync(() => server.Server.Core.Connections
            .OfType<Warden.Server.Network.ClientConnection>()
            .Where(c => c.State.Session?.Id == slow.SessionId)
            .Select(c => (c.QueuedBytes, c.QueuedFrames)).Single());
        output.WriteLine($"the slow connection holds {queued.QueuedFrames} replies, {queued.QueuedBytes / 1024} KiB on the wire");

        output.WriteLine($"{sentRequests} requests sent; resident memory grew by {grownBytes / 1024} KiB; bystander's slowest answer {bystander.MaxLatencyMs} ms");
        await bystander.AssertHealthyAsync(maxLatencyMs: 5000);
        Assert.True(sentRequests >= 1000, $"only {sentRequests} requests went out; the flood did not reach the server's limits");
        // The server stopped reading: at most the replies to requests it had taken (the per-connection limit,
        // 1,000) wait for the client, not one per request it sent.
        Assert.True(queued.QueuedFrames <= 1000, $"{queued.QueuedFrames} replies wait for a client that reads none");
        Assert.True(grownBytes < 150L * 1024 * 1024,
            $"resident memory grew by {grownBytes / (1024 * 1024)} MiB under {sentRequests} unread reads of a 512 KiB node");
    }

    [Fact]
    public async Task ClosingASessionWith200kEphemeralsIsQuickAndLeavesOthersServed()
    {
        const int Nodes = 200_000, PerMulti = 1000, InFlight = 4;
        await using var server = await HardeningServer.StartAsync();
        using var owner = await WireClient.OpenSessionAsync(server.EndPoint, 20_000);
        var (created, _) = await owner.CallAsync(OpCode.Create, new CreateRequest("/fan", [], [.. Acl.OpenUnsafe], 0));
        Assert.Equal(ErrorCode.Ok, created);
        int sent = 0, answered = 0;
        while (answered < Nodes / PerMulti)
        {
            while (sent - answered < InFlight && sent < Nodes / PerMulti)
            {
                int first = sent * PerMulti;
                var paths = Enumerable.Range(first, PerMulti).Select(i => $"/fan/e{i}");
                await owner.SendAsync(WireClient.MultiCreateFrame(owner.NextXid(), paths, CreateMode.Ephemeral));
                sent++;
            }
            var reply = await owner.ReadFrameAsync() ?? throw new IOException("the server closed the owner's connection");
            Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(reply.AsSpan(12)));
            answered++;
        }
        Assert.Equal(Nodes, await server.Server.Core.QueryAsync(() => server.Server.Core.Tree.GetNode("/fan")!.ChildCount));

        // A short session timeout: if the loop stalled for long, or the server failed to count the pings it
        // heard meanwhile, this session would expire.
        await using var bystander = await Bystander.StartAsync(server.EndPoint, sessionTimeoutMs: 6000);
        var clock = Stopwatch.StartNew();
        var (closed, _) = await owner.CallAsync(OpCode.CloseSession, null);
        long closeMs = clock.ElapsedMilliseconds;

        output.WriteLine($"closeSession of {Nodes} ephemerals took {closeMs} ms; bystander's slowest answer {bystander.MaxLatencyMs} ms");
        Assert.Equal(ErrorCode.Ok, closed);
        Assert.Equal(0, await server.Server.Core.QueryAsync(() => server.Server.Core.Tree.GetNode("/fan")!.ChildCount));
        // Apache takes about 1.2 s; the bound leaves room for a loaded two-core CI machine, and the quadratic
        // removal this guards against took minutes.
        Assert.True(closeMs < 8000, $"closing a session with {Nodes} ephemerals took {closeMs} ms");
        await bystander.AssertHealthyAsync(maxLatencyMs: 5000);
    }

    [Fact]
    public async Task ACreateWhosePathIsNotUtf8IsRefusedWithBadArguments()
    {
        await using var server = await HardeningServer.StartAsync();
        using var client = await WireClient.OpenSessionAsync(server.EndPoint, 10_000);
        var frame = WireClient.Frame(w =>
        {
            w.WriteInt(1);
            w.WriteInt((int)OpCode.Create);
            w.WriteBuffer([(byte)'/', (byte)'a', 0xC3, 0x28]);
            w.WriteBuffer([]);
            w.WriteInt(1);
            Acl.OpenUnsafe[0].Write(w);
            w.WriteInt(0);
        });
        await client.SendAsync(frame);
        var reply = await client.ReadFrameAsync() ?? throw new IOException("the server closed the connection");
        Assert.Equal((int)ErrorCode.BadArguments, BinaryPrimitives.ReadInt32BigEndian(reply.AsSpan(12)));
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HardeningCollection
{
    public const string Name = "hardening";
}
