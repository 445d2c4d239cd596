using System.Net;
using System.Net.Sockets;

namespace Warden.Server.Quorum.Transport;

/// <summary>Formats, parses and resolves the host:port strings of the election handshake and of zoo.cfg.</summary>
internal static class HostPort
{
    public static string Format(string host, int port) =>
        host.Contains(':') && !host.StartsWith('[') ? $"[{host}]:{port}" : $"{host}:{port}";

    /// <summary>Splits host:port ([v6]:port for IPv6); false when either part is missing or the port is out of range.</summary>
    public static bool TryParse(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) return false;
        host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        if (host.Length == 0) return false;
        return int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;
    }

    /// <summary>The address to bind for a configured host: every interface when asked, else the host's first address.</summary>
    public static IPEndPoint BindEndpoint(string host, int port, bool allInterfaces)
    {
        if (allInterfaces) return new IPEndPoint(IPAddress.IPv6Any, port);
        return new IPEndPoint(Resolve(host), port);
    }

    public static IPAddress Resolve(string host)
    {
        if (IPAddress.TryParse(host, out var literal)) return literal;
        var addresses = Dns.GetHostAddresses(host);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>Opens a listening socket, with a message that names the port and its role when the port is taken.</summary>
    public static Socket Listen(IPEndPoint endpoint, string role)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
            socket.Bind(endpoint);
            socket.Listen(128);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new InvalidOperationException(
                $"Cannot listen on the {role} port {endpoint}: {e.Message}. Another process (or another server of this " +
                "ensemble on the same machine) holds it; stop it or change that port in the server.N line.", e);
        }
    }
}
