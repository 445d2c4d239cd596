using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using static Warden.Client.Tests.Bounds;

namespace Warden.Client.Tests;

public sealed class ConnectionAttemptTests
{
    [Fact]
    public async Task Each_failed_attempt_is_reported_with_its_server_and_reason()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var failures = new TaskCompletionSource<ConnectionAttemptFailure>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = new ZooKeeperClient(Options.Create(new ZooKeeperClientOptions { ConnectString = $"127.0.0.1:{port}" }));
        client.ConnectionAttemptFailed += (_, failure) => failures.TrySetResult(failure);
        var first = await failures.Task.Bounded();
        Assert.Equal(new HostAddress("127.0.0.1", port), first.Server);
        Assert.Equal(1, first.FailedInARow);
        var socket = first.Error as SocketException ?? first.Error.InnerException as SocketException;
        Assert.Equal(SocketError.ConnectionRefused, socket?.SocketErrorCode);
        Assert.Equal(ConnectionState.Connecting, client.State);
    }
}
