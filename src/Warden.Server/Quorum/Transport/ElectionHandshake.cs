using System.Buffers.Binary;
using System.Text;
using Warden.Consensus;

namespace Warden.Server.Quorum.Transport;

/// <summary>What the dialler of an election connection said about itself.</summary>
/// <param name="Sid">Its server id.</param>
/// <param name="Addresses">The election addresses it advertised (host, port); empty for a pre-3.5 peer.</param>
internal sealed record ElectionHello(ServerId Sid, IReadOnlyList<(string Host, int Port)> Addresses);

/// <summary>Thrown when the first bytes of an election connection are not a handshake we accept.</summary>
internal sealed class ElectionHandshakeException(string message) : Exception(message);

/// <summary>
/// The initial message of an election connection (Apache's QuorumCnxManager), sent only by the dialler:
/// <code>
/// long protocolVersion   -65536 (V1: one address) or -65535 (V2: addresses joined with '|')
/// long sid
/// int  length            0 &lt; length &lt;= 2048
/// byte[length]           the dialler's own election address(es), host:port
/// </code>
/// A first long that is not negative comes from a pre-3.5 peer: it is that peer's sid and nothing follows.
/// </summary>
internal static class ElectionHandshake
{
    public const long ProtocolVersion1 = -65536;
    public const long ProtocolVersion2 = -65535;
    public const int MaxAddressBytes = 2048;

    /// <summary>Apache's OBSERVER_ID: a dialler that does not know its own sid.</summary>
    public const long ObserverId = long.MaxValue;

    public static byte[] Encode(ServerId self, string address)
    {
        var addressBytes = Encoding.UTF8.GetBytes(address);
        var bytes = new byte[20 + addressBytes.Length];
        BinaryPrimitives.WriteInt64BigEndian(bytes, ProtocolVersion1);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(8), self.Value);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), addressBytes.Length);
        addressBytes.CopyTo(bytes.AsSpan(20));
        return bytes;
    }

    /// <summary>Reads the dialler's initial message; throws <see cref="ElectionHandshakeException"/> on anything Apache rejects.</summary>
    public static async Task<ElectionHello> ReadAsync(Stream stream, CancellationToken cancellation)
    {
        var header = new byte[8];
        await stream.ReadExactlyAsync(header, cancellation).ConfigureAwait(false);
        long first = BinaryPrimitives.ReadInt64BigEndian(header);
        if (first >= 0) return new ElectionHello(new ServerId(first), []);
        if (first is not (ProtocolVersion1 or ProtocolVersion2))
        {
            throw new ElectionHandshakeException($"unknown election protocol version {first} (expected {ProtocolVersion1} or {ProtocolVersion2})");
        }
        var rest = new byte[12];
        await stream.ReadExactlyAsync(rest, cancellation).ConfigureAwait(false);
        long sid = BinaryPrimitives.ReadInt64BigEndian(rest);
        int length = BinaryPrimitives.ReadInt32BigEndian(rest.AsSpan(8));
        if (length <= 0 || length > MaxAddressBytes)
        {
            throw new ElectionHandshakeException($"address length {length} is outside 1..{MaxAddressBytes}");
        }
        var addressBytes = new byte[length];
        await stream.ReadExactlyAsync(addressBytes, cancellation).ConfigureAwait(false);
        return new ElectionHello(new ServerId(sid), ParseAddresses(Encoding.UTF8.GetString(addressBytes), first == ProtocolVersion2));
    }

    /// <summary>Parses the advertised address list; wildcard addresses are dropped as Apache drops them.</summary>
    public static IReadOnlyList<(string Host, int Port)> ParseAddresses(string text, bool several)
    {
        var parts = several ? text.Split('|') : [text];
        var result = new List<(string, int)>(parts.Length);
        foreach (var part in parts)
        {
            if (!HostPort.TryParse(part.Trim(), out var host, out int port))
            {
                throw new ElectionHandshakeException($"advertised election address '{part}' is not host:port");
            }
            if (host is "0.0.0.0" or "::" or "0:0:0:0:0:0:0:0") continue;
            result.Add((host, port));
        }
        return result;
    }
}
