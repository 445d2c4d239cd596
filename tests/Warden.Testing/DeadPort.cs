using System.Net;
using System.Net.Sockets;

namespace Warden.Testing;

/// <summary>
/// A loopback port where nothing answers, held for as long as the test needs it: a socket is bound to it but does not
/// listen, so a connection is refused, and no server that another test starts meanwhile can take the port (a port
/// that was merely free a moment ago can be, when test assemblies run side by side).
/// </summary>
public sealed class DeadPort : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public DeadPort()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    public void Dispose() => _socket.Dispose();
}
