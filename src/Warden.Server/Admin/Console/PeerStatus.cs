using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Warden.Server.Admin.Console;

/// <summary>Another member's mode and last zxid, from its answer to <c>srvr</c>; or why it could not be asked.</summary>
internal sealed record PeerStatus(string? Mode, long? Zxid, string? Error)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(2);
    private const int MaxAnswerBytes = 64 * 1024;

    /// <param name="clientAddress">host:port from voting_view; empty when the member's server line names no client port.</param>
    /// <param name="serverHost">The host of its quorum address, used when the client address is a wildcard.</param>
    public static async Task<PeerStatus> AskAsync(string clientAddress, string? serverHost, CancellationToken cancellation)
    {
        int colon = clientAddress.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(clientAddress[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port))
        {
            return new PeerStatus(null, null, "its server line names no client port");
        }
        string host = clientAddress[..colon].Trim('[', ']');
        if (host is "0.0.0.0" or "::") host = serverHost ?? host;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        bounded.CancelAfter(AskTimeout);
        try
        {
            using var socket = new TcpClient();
            await socket.ConnectAsync(host, port, bounded.Token).ConfigureAwait(false);
            var stream = socket.GetStream();
            await stream.WriteAsync("srvr"u8.ToArray(), bounded.Token).ConfigureAwait(false);
            var answer = new MemoryStream();
            var buffer = new byte[4096];
            int read;
            while (answer.Length < MaxAnswerBytes && (read = await stream.ReadAsync(buffer, bounded.Token).ConfigureAwait(false)) > 0)
            {
                answer.Write(buffer, 0, read);
            }
            return Parse(Encoding.UTF8.GetString(answer.GetBuffer(), 0, (int)answer.Length));
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return new PeerStatus(null, null, e is OperationCanceledException ? $"no answer to srvr within {AskTimeout.TotalSeconds:0} s" : e.Message);
        }
    }

    /// <summary>srvr's lines "Mode: follower" and "Zxid: 0x100000003".</summary>
    internal static PeerStatus Parse(string answer)
    {
        string? mode = null;
        long? zxid = null;
        foreach (var line in answer.Split('\n'))
        {
            if (line.StartsWith("Mode: ", StringComparison.Ordinal)) mode = line["Mode: ".Length..].Trim();
            else if (line.StartsWith("Zxid: 0x", StringComparison.Ordinal)
                && long.TryParse(line["Zxid: 0x".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long value))
            {
                zxid = value;
            }
        }
        return mode is null ? new PeerStatus(null, null, answer.Trim() is { Length: > 0 } text ? text : "empty answer to srvr") : new PeerStatus(mode, zxid, null);
    }
}
