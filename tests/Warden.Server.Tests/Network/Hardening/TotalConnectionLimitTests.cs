using System.Net.Sockets;
using Warden.Protocol;

namespace Warden.Server.Tests.Network.Hardening;

/// <summary>
/// zookeeper.maxCnxns: once that many connections are open, Apache's NIOServerCnxnFactory closes each new one on
/// accept ("Too many connections N - max is M"), whatever address it comes from; the open ones carry on.
/// </summary>
[Collection(HardeningCollection.Name)]
public sealed class TotalConnectionLimitTests
{
    [Fact]
    public async Task ConnectionsBeyondMaxCnxnsAreClosedOnAcceptAndTheOthersCarryOn()
    {
        // A handshake deadline far beyond the wait, so only the limit can close the extra connection.
        await using var server = await HardeningServer.StartAsync(s => s with { MaxConnections = 2, MaxClientConnectionsPerHost = 0, SessionlessConnectionTimeoutMs = 60_000 });
        using var first = await WireClient.OpenSessionAsync(server.EndPoint, 10_000);
        using var second = await WireClient.OpenSessionAsync(server.EndPoint, 10_000);

        WireClient? third = null;
        try
        {
            third = await WireClient.OpenAsync(server.EndPoint);
            Assert.True(await third.WaitForCloseAsync(TimeSpan.FromSeconds(5)), "the connection beyond maxCnxns stayed open");
        }
        catch (SocketException)
        {
            // Closed before the connect call returned: refused all the same.
        }
        finally
        {
            third?.Dispose();
        }

        var (error, _) = await second.CallAsync(OpCode.GetChildren, new PathWatchRequest("/", false));
        Assert.Equal(ErrorCode.Ok, error);
        Assert.Equal(1, server.Log.Count("Too many connections 2 - max is 2"));
    }
}
