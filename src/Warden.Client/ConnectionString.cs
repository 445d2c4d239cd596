using System.Globalization;
using Warden.Protocol;

namespace Warden.Client;

/// <summary>One server address from a connect string.</summary>
public readonly record struct HostAddress(string Host, int Port)
{
    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>
/// A parsed connect string: <c>host[:port][,host[:port]...][/chroot]</c>. IPv6 hosts go in brackets.
/// </summary>
public sealed class ConnectionString
{
    public const int DefaultPort = 2181;

    private ConnectionString(IReadOnlyList<HostAddress> hosts, string? chroot)
    {
        Hosts = hosts;
        Chroot = chroot;
    }

    public IReadOnlyList<HostAddress> Hosts { get; }

    /// <summary>The path every request is relative to, or null for the root.</summary>
    public string? Chroot { get; }

    public static ConnectionString Parse(string connectString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectString);
        string? chroot = null;
        string hostPart = connectString.Trim();
        int slash = hostPart.IndexOf('/');
        if (slash >= 0)
        {
            chroot = hostPart[slash..];
            hostPart = hostPart[..slash];
            // "/" alone means no chroot, as in the Java client.
            if (chroot == "/") chroot = null;
            else if (PathValidation.Validate(chroot) is { } reason)
            {
                throw new ArgumentException($"invalid chroot '{chroot}' in connect string: {reason}", nameof(connectString));
            }
        }
        var hosts = new List<HostAddress>();
        foreach (var raw in hostPart.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            hosts.Add(ParseHost(raw));
        }
        if (hosts.Count == 0) throw new ArgumentException($"no host in connect string '{connectString}'", nameof(connectString));
        return new ConnectionString(hosts, chroot);
    }

    private static HostAddress ParseHost(string raw)
    {
        string host = raw;
        string? port = null;
        if (raw.StartsWith('['))
        {
            int close = raw.IndexOf(']');
            if (close < 0) throw new ArgumentException($"unclosed '[' in host '{raw}'");
            host = raw[1..close];
            if (close + 1 < raw.Length)
            {
                if (raw[close + 1] != ':') throw new ArgumentException($"expected ':' after ']' in host '{raw}'");
                port = raw[(close + 2)..];
            }
        }
        else
        {
            int colon = raw.LastIndexOf(':');
            if (colon >= 0)
            {
                host = raw[..colon];
                port = raw[(colon + 1)..];
            }
        }
        if (host.Length == 0) throw new ArgumentException($"empty host name in '{raw}'");
        if (port is null) return new HostAddress(host, DefaultPort);
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number is < 1 or > 65535)
        {
            throw new ArgumentException($"invalid port '{port}' in host '{raw}'");
        }
        return new HostAddress(host, number);
    }

    /// <summary>The server path for a client path: the chroot prefixed.</summary>
    public string ToServerPath(string clientPath)
    {
        if (Chroot is null) return clientPath;
        return clientPath == "/" ? Chroot : Chroot + clientPath;
    }

    /// <summary>The client path for a server path: the chroot removed when the path lies under it.</summary>
    public string ToClientPath(string serverPath)
    {
        if (Chroot is null) return serverPath;
        if (serverPath == Chroot) return "/";
        if (serverPath.Length > Chroot.Length && serverPath.StartsWith(Chroot, StringComparison.Ordinal) && serverPath[Chroot.Length] == '/')
        {
            return serverPath[Chroot.Length..];
        }
        return serverPath;
    }
}
