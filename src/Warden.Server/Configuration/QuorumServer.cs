namespace Warden.Server.Configuration;

/// <summary>Whether a server votes (participant) or only follows (observer).</summary>
public enum PeerRole
{
    Participant,
    Observer,
}

/// <summary>
/// One <c>server.N</c> line: <c>host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort]</c>.
/// The quorum port is where a leader listens for followers; the election port is where every server
/// listens for election notifications.
/// </summary>
public sealed record QuorumServer(
    long Id,
    string Host,
    int QuorumPort,
    int ElectionPort,
    PeerRole Role,
    string? ClientHost,
    int? ClientPort)
{
    private const string Form =
        "write it as host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort], e.g. localhost:2888:3888";

    /// <summary>
    /// Parses a server.N value with Apache's rules: the value is split on ';', then the server part on ':'
    /// (IPv6 in brackets), trailing empty pieces dropped as Java's String.split does. Apache does not trim
    /// these pieces, so "3888 " is not a port there; we refuse it too, with a message that says so.
    /// </summary>
    internal static QuorumServer? TryParse(long id, string value, string where, List<string> errors)
    {
        string[] serverAndClient = JavaSplit(value, ';');
        if (serverAndClient.Length is 0 or > 2)
        {
            errors.Add($"{where}: \"{value}\" is not a server address; {Form}");
            return null;
        }
        if (serverAndClient[0].Contains('|'))
        {
            errors.Add($"{where}: several addresses separated by '|' need multiAddress.enabled, which Warden does not support; give one host:quorumPort:electionPort");
            return null;
        }
        string[]? parts = SplitHostAndPorts(serverAndClient[0]);
        if (parts is null || parts.Length < 3 || parts.Length > 4)
        {
            errors.Add($"{where}: \"{value}\" is not a server address; {Form}");
            return null;
        }
        string host = parts[0];
        int? quorumPort = ParsePort(parts[1], "quorum port", where, errors);
        int? electionPort = ParsePort(parts[2], "election port", where, errors);
        PeerRole role = PeerRole.Participant;
        if (parts.Length == 4)
        {
            switch (parts[3].JavaTrim().ToLowerInvariant())
            {
                case "participant": role = PeerRole.Participant; break;
                case "observer": role = PeerRole.Observer; break;
                default:
                    errors.Add($"{where}: role \"{parts[3]}\" is neither participant nor observer; end the line with :participant or :observer, or leave the role out");
                    return null;
            }
        }
        (string? clientHost, int? clientPort) = (null, null);
        if (serverAndClient.Length == 2 && !TryParseClient(serverAndClient[1], where, errors, out clientHost, out clientPort))
        {
            return null;
        }
        if (quorumPort is null || electionPort is null)
        {
            return null;
        }
        if (quorumPort == electionPort)
        {
            errors.Add($"{where}: quorum port and election port are both {quorumPort}; they must differ, e.g. {host}:2888:3888");
            return null;
        }
        return new QuorumServer(id, host, quorumPort.Value, electionPort.Value, role, clientHost, clientPort);
    }

    private static bool TryParseClient(string text, string where, List<string> errors, out string? host, out int? port)
    {
        host = null;
        port = null;
        string[]? clientParts = SplitHostAndPorts(text);
        if (clientParts is null || clientParts.Length is 0 or > 2)
        {
            errors.Add($"{where}: client address \"{text}\" should be a port or host:port, e.g. ;2181 or ;0.0.0.0:2181");
            return false;
        }
        host = clientParts.Length == 2 ? clientParts[0] : "0.0.0.0";
        port = ParsePort(clientParts[^1], "client port", where, errors);
        return port is not null;
    }

    private static int? ParsePort(string text, string what, string where, List<string> errors)
    {
        if (!JavaNumbers.TryParseInt(text, out int port))
        {
            string hint = text.Length > 0 && text.JavaTrim() != text ? " (remove the blanks around it)" : JavaStrings.NonBreakingSpaceNote(text);
            errors.Add($"{where}: {what} \"{text}\" is not a number{hint}; {Form}");
            return null;
        }
        if (port is < 0 or > 65535)
        {
            errors.Add($"{where}: {what} {port} is outside 0-65535; pick a free port such as 2888 or 3888");
            return null;
        }
        return port;
    }

    /// <summary>Apache's host:port splitting, which allows [IPv6]:port.</summary>
    private static string[]? SplitHostAndPorts(string text)
    {
        if (!text.StartsWith('['))
        {
            return JavaSplit(text, ':');
        }
        int close = text.IndexOf(']');
        if (close < 0 || close + 2 > text.Length || (close + 1 < text.Length && text[close + 1] != ':'))
        {
            return close + 1 == text.Length ? [text[1..close]] : null;
        }
        string[] rest = JavaSplit(text[(close + 2)..], ':');
        return [text[1..close], .. rest];
    }

    /// <summary>String.split as Java does it: trailing empty strings are removed.</summary>
    internal static string[] JavaSplit(string text, char separator)
    {
        string[] pieces = text.Split(separator);
        int count = pieces.Length;
        while (count > 0 && pieces[count - 1].Length == 0)
        {
            count--;
        }
        return count == 0 && text.Length == 0 ? [""] : pieces[..count];
    }

    /// <summary>The line as Apache writes it back (host:quorum:election:role[;clientHost:clientPort]).</summary>
    public override string ToString()
    {
        string role = Role == PeerRole.Observer ? "observer" : "participant";
        string client = ClientPort is null ? "" : $";{ClientHost}:{ClientPort}";
        return $"{Host}:{QuorumPort}:{ElectionPort}:{role}{client}";
    }
}
