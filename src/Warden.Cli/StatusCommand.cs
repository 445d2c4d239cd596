using System.CommandLine;
using System.Globalization;
using Warden.Client;

namespace Warden.Cli;

/// <summary>
/// `warden status [host:port,...]`: what zkServer.sh status tells about one server, for a whole list at once.
/// Each server is asked for `srvr` (the four-letter word Apache always allows) concurrently; the answers are
/// printed in the order given. One server gets zkServer.sh's "Mode: ..." lines, several get a table with
/// each server's lag behind the most advanced one. Exit code 0 when every server answered, 1 otherwise.
/// </summary>
public static class StatusCommand
{
    /// <summary>The same bound Apache's FourLetterWordMain (which zkServer.sh status runs) puts on a server.</summary>
    public const int DefaultTimeoutMs = 5000;

    public static Command Create()
    {
        var servers = new Argument<string[]>("servers")
        {
            Description = "Servers to ask, each host:port, host (port 2181) or [IPv6]:port, or a comma-separated list " +
                          "such as a connect string. Default: 127.0.0.1:2181.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var timeout = new Option<int>("--timeout")
        {
            Description = "How long to wait for each server, in milliseconds: name lookup, connect and answer together.",
            HelpName = "ms",
            DefaultValueFactory = _ => DefaultTimeoutMs,
        };
        var table = new Option<bool>("--table")
        {
            Description = "Print the table even for a single server.",
        };
        var command = new Command("status", "Show each server's mode, zxid, connections, node count and lag, like zkServer.sh status.")
        {
            servers, timeout, table,
        };
        command.SetAction((parse, cancellation) =>
            RunAsync(parse.GetValue(servers) ?? [], parse.GetValue(timeout), parse.GetValue(table), cancellation));
        return command;
    }

    private static async Task<int> RunAsync(string[] arguments, int timeoutMs, bool forceTable, CancellationToken cancellation)
    {
        IReadOnlyList<HostAddress> servers;
        try
        {
            servers = ServerList.Parse(arguments);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"warden: {e.Message}");
            return 1;
        }
        if (timeoutMs <= 0)
        {
            Console.Error.WriteLine($"warden: --timeout {timeoutMs} must be a positive number of milliseconds");
            return 1;
        }

        var statuses = await StatusProbe.QueryAllAsync(servers, TimeSpan.FromMilliseconds(timeoutMs), cancellation);
        if (statuses.Length == 1 && !forceTable)
        {
            var only = statuses[0];
            if (only.Outcome.Report is { } report) Console.Out.Write(StatusView.Lines(only.Address, report));
            else Console.Error.WriteLine($"warden: {only.Address}: {only.Outcome.Reason}");
        }
        else
        {
            Console.Out.Write(StatusView.Table(statuses, UseColour()));
        }
        return statuses.All(s => s.Answered) ? 0 : 1;
    }

    /// <summary>Colour only for a person at a terminal: never into a pipe or file, and never when NO_COLOR is set.</summary>
    internal static bool UseColour() =>
        !Console.IsOutputRedirected
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
        && Environment.GetEnvironmentVariable("TERM") != "dumb";
}

/// <summary>
/// The servers named on the command line. Each argument is host:port, a host alone (port 2181), [IPv6]:port,
/// or a comma-separated list of those; a connect string's /chroot is accepted and ignored, since status is
/// about servers, not paths.
/// </summary>
public static class ServerList
{
    public static readonly HostAddress Default = new("127.0.0.1", ConnectionString.DefaultPort);

    public static IReadOnlyList<HostAddress> Parse(IReadOnlyList<string> arguments)
    {
        if (arguments.Count == 0) return [Default];
        var servers = new List<HostAddress>();
        foreach (string argument in arguments)
        {
            string hosts = argument;
            // A chroot starts at the first '/', which no host name or address contains.
            int slash = hosts.IndexOf('/');
            if (slash >= 0) hosts = hosts[..slash];
            foreach (string part in hosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                servers.Add(ParseOne(part));
            }
        }
        if (servers.Count == 0) throw new FormatException($"no server in \"{string.Join(' ', arguments)}\"; give host:port, for example 127.0.0.1:2181");
        return servers;
    }

    private static HostAddress ParseOne(string text)
    {
        string host = text;
        string? port = null;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 0) throw new FormatException($"\"{text}\" has '[' without ']'; write an IPv6 address as [::1]:2181");
            host = text[1..close];
            string rest = text[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':') throw new FormatException($"\"{text}\": expected ':' and a port after ']', as in [::1]:2181");
                port = rest[1..];
            }
        }
        else
        {
            int colons = text.Count(c => c == ':');
            if (colons > 1) throw new FormatException($"\"{text}\" looks like an IPv6 address; put it in brackets, as in [{text}] or [::1]:2181");
            if (colons == 1)
            {
                int colon = text.IndexOf(':');
                host = text[..colon];
                port = text[(colon + 1)..];
            }
        }
        if (host.Length == 0) throw new FormatException($"\"{text}\" has no host name");
        if (port is null) return new HostAddress(host, ConnectionString.DefaultPort);
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number is < 1 or > 65535)
        {
            throw new FormatException($"\"{text}\" has port \"{port}\"; a port is a number from 1 to 65535");
        }
        return new HostAddress(host, number);
    }
}
