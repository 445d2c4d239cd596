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
    /// <param name="owner">Whose line names the host, e.g. "server.1", for the message when it does not resolve.</param>
    public static IPEndPoint BindEndpoint(string host, int port, bool allInterfaces, string owner = "this server")
    {
        if (allInterfaces) return new IPEndPoint(IPAddress.IPv6Any, port);
        try
        {
            return new IPEndPoint(Resolve(host), port);
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException(
                $"{owner}'s host {host} does not resolve ({e.Message}); fix the host in the {owner} line, or myid if this machine is not {owner}", e);
        }
    }

    public static IPAddress Resolve(string host)
    {
        if (IPAddress.TryParse(host, out var literal)) return literal;
        var addresses = Dns.GetHostAddresses(host);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>Opens a listening socket, with a message that names the port, its role and the cause when it cannot.</summary>
    /// <param name="owner">Whose server.N line gives the port, e.g. "server.1".</param>
    public static Socket Listen(IPEndPoint endpoint, string role, string owner = "this server")
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
            string message = e.SocketErrorCode == SocketError.AddressNotAvailable
                ? $"{owner}'s {role} address {endpoint} is not an address of this machine, yet myid says this is {owner}; " +
                  $"write this machine's own number into myid, or this machine's address into the {owner} line " +
                  "(or set quorumListenOnAllIPs=true)"
                : $"Cannot listen on {owner}'s {role} port {endpoint}: {e.Message}. Another process (or another server " +
                  $"of this ensemble on the same machine) holds it; stop it or change that port in the {owner} line.";
            throw new InvalidOperationException(message, e);
        }
    }
}
