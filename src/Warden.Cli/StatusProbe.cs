using System.Net;
using System.Net.Sockets;
using System.Text;
using Warden.Client;

namespace Warden.Cli;

/// <summary>Why a server gave no report.</summary>
public enum FailureKind
{
    Refused,
    TimedOut,
    NameNotResolved,
    NotWhitelisted,
    NotServing,
    NoAnswer,
    NotZooKeeper,
    Network,
}

/// <summary>Either a server's srvr report or the reason there is none, in words a person can act on.</summary>
public sealed record ProbeOutcome(SrvrReport? Report, FailureKind? Failure, string? Detail)
{
    public static ProbeOutcome Answered(SrvrReport report) => new(report, null, null);

    public static ProbeOutcome Failed(FailureKind failure, string? detail = null) => new(null, failure, detail);

    public string Reason => Failure switch
    {
        null => "",
        FailureKind.Refused => "connection refused; is a server running there? start one with \"warden server\"",
        FailureKind.TimedOut => $"timed out: no answer within {Detail}; the host may be down, a firewall may be dropping the packets, or the server is stuck",
        FailureKind.NameNotResolved => $"name not resolved: no address for \"{Detail}\"; check the spelling",
        FailureKind.NotWhitelisted => "srvr is not in 4lw.commands.whitelist; add srvr to that line of the server's zoo.cfg",
        FailureKind.NotServing => "running but not serving requests: still starting, or cut off from its ensemble's quorum",
        FailureKind.NoAnswer => "closed the connection without answering srvr; is this a ZooKeeper client port (not a TLS-only secureClientPort)?",
        FailureKind.NotZooKeeper => $"answered, but not with a srvr report (\"{Detail}\"); is this a ZooKeeper client port?",
        _ => Detail ?? "network error",
    };
}

/// <summary>One server of the list and what it said.</summary>
public sealed record ServerStatus(HostAddress Address, ProbeOutcome Outcome)
{
    public bool Answered => Outcome.Report is not null;
}

/// <summary>
/// Asks servers for `srvr` over plain TCP, the way zkServer.sh status does: send the four bytes, read until
/// the server closes the connection. srvr is the one word Apache ZooKeeper always answers, whatever
/// 4lw.commands.whitelist says, so it works against any server of the ensemble with its default settings.
/// </summary>
public static class StatusProbe
{
    /// <summary>srvr's answer is under 1 KiB; anything far bigger is not a ZooKeeper server talking.</summary>
    private const int MaxAnswerBytes = 64 * 1024;

    /// <summary>Asks every server at once and returns their answers in the order given.</summary>
    public static Task<ServerStatus[]> QueryAllAsync(IEnumerable<HostAddress> servers, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.WhenAll(servers.Select(server => QueryAsync(server, timeout, cancellationToken)));

    /// <summary>
    /// Asks one server, within <paramref name="timeout"/> for the whole exchange: name lookup, connect and
    /// answer. Never throws for a server that is down or wrong; that is the answer.
    /// </summary>
    public static async Task<ServerStatus> QueryAsync(HostAddress server, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        ProbeOutcome outcome;
        try
        {
            outcome = await AskAsync(server, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            outcome = ProbeOutcome.Failed(FailureKind.TimedOut, $"{timeout.TotalMilliseconds:0} ms");
        }
        return new ServerStatus(server, outcome);
    }

    private static async Task<ProbeOutcome> AskAsync(HostAddress server, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(server.Host, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(server.Host, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain)
            {
                return ProbeOutcome.Failed(FailureKind.NameNotResolved, server.Host);
            }
            if (addresses.Length == 0) return ProbeOutcome.Failed(FailureKind.NameNotResolved, server.Host);
        }

        // A name such as localhost may give ::1 and 127.0.0.1 while the server listens on one of them only,
        // so each address is tried in turn, as the ZooKeeper clients do; the last refusal is the answer.
        SocketException? lastFailure = null;
        foreach (var address in addresses)
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, server.Port), cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                lastFailure = e;
                continue;
            }
            string answer;
            try
            {
                answer = await SendSrvrAsync(socket, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                return FromSocketError(e);
            }
            return SrvrParser.Parse(answer);
        }
        return FromSocketError(lastFailure!);
    }

    private static async Task<string> SendSrvrAsync(Socket socket, CancellationToken cancellationToken)
    {
        await socket.SendAsync("srvr"u8.ToArray(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var answer = new MemoryStream();
        var buffer = new byte[4096];
        while (answer.Length < MaxAnswerBytes)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                // A server that resets instead of closing has still said what it had to say.
                break;
            }
            if (read == 0) break;
            answer.Write(buffer, 0, read);
        }
        return Encoding.UTF8.GetString(answer.GetBuffer(), 0, (int)Math.Min(answer.Length, MaxAnswerBytes));
    }

    private static ProbeOutcome FromSocketError(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => ProbeOutcome.Failed(FailureKind.Refused),
        SocketError.TimedOut => ProbeOutcome.Failed(FailureKind.TimedOut, "the operating system's connect timeout"),
        SocketError.ConnectionReset => ProbeOutcome.Failed(FailureKind.NoAnswer),
        SocketError.HostUnreachable => ProbeOutcome.Failed(FailureKind.Network, "host unreachable; is the host up, and the address right?"),
        SocketError.NetworkUnreachable => ProbeOutcome.Failed(FailureKind.Network, "network unreachable; check the address and this machine's routes"),
        _ => ProbeOutcome.Failed(FailureKind.Network, e.Message),
    };
}
