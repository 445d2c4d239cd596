using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Warden.Server.Security;

namespace Warden.Server.Quorum.Transport;

/// <summary>
/// What a connection on the election or quorum port runs under, as Apache 3.8 decides it: with sslQuorum=true a
/// member dials TLS and, without portUnification, accepts TLS only; with portUnification=true it accepts both, telling
/// them apart by the first five bytes (a TLS record header, as Apache's UnifiedServerSocket looks for), whatever it
/// dials with. That is the rolling switch Apache documents: every member first takes portUnification=true, then
/// sslQuorum=true one by one, then portUnification=false again.
/// Both sides of a TLS connection show this server's key store certificate and check the other's against the
/// ssl.quorum trust store and, with hostnameVerification, against the address of the connection.
/// A refusal is logged once per distinct reason (then at debug level), so a member with a bad certificate that
/// dials every few seconds gives one clear line, not a flood.
/// </summary>
public sealed class QuorumChannelSecurity
{
    /// <summary>Plain TCP both ways: neither sslQuorum nor portUnification.</summary>
    public static QuorumChannelSecurity Plaintext { get; } = new(false, false, null, null, 5000);

    private const int MaxRememberedRefusals = 1000;

    /// <summary>
    /// The least time a TLS handshake is given. Apache bounds each read of a handshake by syncLimit ticks, not the
    /// whole of it, and a Java peer's first handshake after start can take seconds on a busy machine.
    /// </summary>
    private const int MinHandshakeMs = 10_000;
    private readonly TlsServerContext? _context;
    private readonly ILogger? _log;
    private readonly int _detectionTimeoutMs;
    private readonly ConcurrentDictionary<string, byte> _said = new();

    private QuorumChannelSecurity(bool dialTls, bool portUnification, TlsServerContext? context, ILogger? log, int detectionTimeoutMs)
    {
        DialsTls = dialTls;
        PortUnification = portUnification;
        _context = context;
        _log = log;
        _detectionTimeoutMs = detectionTimeoutMs;
    }

    /// <summary>sslQuorum: connections this server opens are TLS.</summary>
    public bool DialsTls { get; }

    /// <summary>portUnification: accepted connections may be TLS or plaintext.</summary>
    public bool PortUnification { get; }

    /// <summary>Whether accepted connections may be TLS (sslQuorum or portUnification).</summary>
    public bool AcceptsTls => DialsTls || PortUnification;

    /// <summary>Whether accepted connections may be plaintext (no sslQuorum, or portUnification).</summary>
    public bool AcceptsPlaintext => !DialsTls || PortUnification;

    /// <summary>
    /// The security of a member's quorum ports from its settings; <paramref name="tls"/> (the ssl.quorum.* keys) is
    /// required when either switch is on. Reads the stores now, so a bad one stops the server at start.
    /// </summary>
    public static QuorumChannelSecurity Create(bool sslQuorum, bool portUnification, TlsSettings? tls, int detectionTimeoutMs, ILogger log)
    {
        if (!sslQuorum && !portUnification) return Plaintext;
        ArgumentNullException.ThrowIfNull(tls);
        var context = new TlsServerContext(tls, log, verifyPeerAddress: true);
        return new QuorumChannelSecurity(sslQuorum, portUnification, context, log, detectionTimeoutMs);
    }

    /// <summary>Describes the mode for the start-up log line.</summary>
    public string Describe() =>
        !AcceptsTls ? "plaintext"
        : $"{(DialsTls ? "TLS" : "plaintext")} when dialling, {(PortUnification ? "TLS or plaintext" : "TLS only")} when accepting " +
          $"({_context!.Settings.SettingPrefix}clientAuth={_context.Settings.ClientAuth.ToString().ToLowerInvariant()}, " +
          $"protocols {_context.Settings.ProtocolNames}, hostnameVerification={_context.Settings.HostnameVerification.ToString().ToLowerInvariant()})";

    /// <summary>
    /// The stream of a connection this server accepted on the <paramref name="port"/> port ("election" or "quorum"):
    /// plaintext, or TLS after a handshake within <paramref name="handshakeTimeoutMs"/>. Null when the connection was
    /// refused or failed; it is then logged and closed.
    /// </summary>
    internal async Task<Stream?> AcceptAsync(Socket socket, string port, int handshakeTimeoutMs, bool ownsSocket, CancellationToken cancellation)
    {
        var remote = socket.RemoteEndPoint as IPEndPoint;
        Stream network = new NetworkStream(socket, ownsSocket);
        if (!AcceptsTls) return network;
        try
        {
            // Apache reads up to five bytes within ssl.quorum.handshakeDetectionTimeoutMillis and takes a connection
            // that sent fewer, or nothing, as plaintext. Neither side's first plaintext bytes (an election header's
            // negative protocol version, a QuorumPacket's small type) can look like a TLS record.
            var litmus = new byte[5];
            int read = 0;
            using (var detection = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
            {
                detection.CancelAfter(_detectionTimeoutMs);
                try
                {
                    while (read < litmus.Length)
                    {
                        int got = await network.ReadAsync(litmus.AsMemory(read), detection.Token).ConfigureAwait(false);
                        if (got == 0) break;
                        read += got;
                    }
                }
                catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
                {
                }
            }
            var prefixed = new PrefixedStream(litmus.AsMemory(0, read), network);
            if (read == litmus.Length && IsTlsRecord(litmus))
            {
                return await ServerHandshakeAsync(prefixed, remote, port, handshakeTimeoutMs, cancellation).ConfigureAwait(false);
            }
            if (AcceptsPlaintext) return prefixed;
            Say($"plaintext {port} {remote?.Address}",
                $"Refused a plaintext connection on the {port} port from {remote}: sslQuorum=true and portUnification=false, so this " +
                "port takes TLS only (give that server sslQuorum=true and the ssl.quorum.* keys, or set portUnification=true here while switching)");
            await prefixed.DisposeAsync().ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            if (!cancellation.IsCancellationRequested) _log?.LogDebug("A connection on the {Port} port from {Remote} ended before it was set up: {Reason}", port, remote, e.Message);
            await network.DisposeAsync().ConfigureAwait(false);
            return null;
        }
    }

    private async Task<Stream?> ServerHandshakeAsync(Stream inner, IPEndPoint? remote, string port, int handshakeTimeoutMs, CancellationToken cancellation)
    {
        var tls = new SslStream(inner, leaveInnerStreamOpen: false);
        string? refusal = null;
        handshakeTimeoutMs = Math.Max(handshakeTimeoutMs, MinHandshakeMs);
        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            bound.CancelAfter(handshakeTimeoutMs);
            await tls.AuthenticateAsServerAsync(_context!.OptionsForHandshake(r => refusal = r, remote?.Address), bound.Token).ConfigureAwait(false);
            _log?.LogDebug("Accepted a TLS connection on the {Port} port from {Remote} ({Protocol}, {Cipher})", port, remote, tls.SslProtocol, tls.NegotiatedCipherSuite);
            return tls;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException
                                      or System.Security.Authentication.AuthenticationException)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            if (cancellation.IsCancellationRequested) return null;
            if (refusal is not null)
            {
                Say(SameCertificate(refusal), $"Refused a TLS connection on the {port} port from {remote}: {refusal}");
            }
            else
            {
                string reason = e is OperationCanceledException ? $"no TLS handshake within {handshakeTimeoutMs} ms" : Innermost(e);
                Say($"accept {port} {remote?.Address} {reason}", $"A TLS handshake on the {port} port from {remote} did not finish: {reason}");
            }
            return null;
        }
    }

    /// <summary>
    /// The stream of a connection this server dialled to <paramref name="peer"/> at <paramref name="host"/>: plaintext,
    /// or TLS after a handshake bounded by <paramref name="cancellation"/>. On failure the stream is null and the
    /// problem says why (also logged once per distinct reason).
    /// </summary>
    internal async Task<(Stream? Stream, string? Problem)> DialAsync(Socket socket, string host, string port, string peer, bool ownsSocket, CancellationToken cancellation)
    {
        Stream network = new NetworkStream(socket, ownsSocket);
        if (!DialsTls) return (network, null);
        var remote = (socket.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
        var tls = new SslStream(network, leaveInnerStreamOpen: false);
        string? refusal = null;
        try
        {
            await tls.AuthenticateAsClientAsync(_context!.OptionsForDial(host, remote, r => refusal = r), cancellation).ConfigureAwait(false);
            return (tls, null);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException
                                      or System.Security.Authentication.AuthenticationException)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            string problem = refusal is not null
                ? $"refused its certificate: {refusal}"
                : $"the TLS handshake failed ({Innermost(e)}; is its certificate trusted, does it trust this one, and does it run sslQuorum or portUnification?)";
            Say(refusal is null ? $"dial {port} {peer} {problem}" : SameCertificate(refusal), $"TLS to {peer} at {host} on the {port} port: {problem}");
            return (null, problem);
        }
    }

    /// <summary>
    /// One key for a certificate refused for one reason, whether it came with a connection accepted or dialled (a
    /// member dials and is dialled on both ports), so that a bad certificate is one warning, not one per direction.
    /// </summary>
    private static string SameCertificate(string refusal) =>
        "certificate " + refusal.Replace("the client certificate", "the certificate", StringComparison.Ordinal)
            .Replace("the server certificate", "the certificate", StringComparison.Ordinal);

    /// <summary>A TLS record header: content type 20-23 (handshake is 22), major version 3, and a sane length.</summary>
    private static bool IsTlsRecord(ReadOnlySpan<byte> header)
    {
        if (header[0] is < 20 or > 23 || header[1] != 3) return false;
        int length = (header[3] << 8) | header[4];
        return length is > 0 and <= 18432;
    }

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message.TrimEnd('.');
    }

    /// <summary>Logs a refusal as a warning the first time its reason is seen, then at debug level.</summary>
    private void Say(string key, string line)
    {
        if (_log is null) return;
        if (_said.Count >= MaxRememberedRefusals) _said.Clear();
        if (_said.TryAdd(key, 0)) _log.LogWarning("{Line}", line);
        else _log.LogDebug("{Line}", line);
    }
}
