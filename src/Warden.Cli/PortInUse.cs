using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Warden.Cli;

/// <summary>Explains a client port that is already taken, and says whether a ZooKeeper-compatible server holds it.</summary>
public static class PortInUse
{
    public static async Task<string> DescribeAsync(IPEndPoint endpoint)
    {
        var probe = endpoint.Address.Equals(IPAddress.Any) || endpoint.Address.Equals(IPAddress.IPv6Any)
            ? new IPEndPoint(IPAddress.Loopback, endpoint.Port)
            : endpoint;
        string holder = await AsksRuokAsync(probe)
            ? "another ZooKeeper or Warden server is already running there"
            : "another program is using it";
        return $"client port {endpoint.Port} on {endpoint.Address} is already in use: {holder}; stop it, or set a free clientPort in zoo.cfg";
    }

    private static async Task<bool> AsksRuokAsync(IPEndPoint endpoint)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(endpoint, timeout.Token);
            await socket.SendAsync(Encoding.ASCII.GetBytes("ruok"), SocketFlags.None, timeout.Token);
            var buffer = new byte[16];
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, read) == "imok";
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }
}
