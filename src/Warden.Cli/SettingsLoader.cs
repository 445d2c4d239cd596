using System.Net;
using Warden.Server;

namespace Warden.Cli;

/// <summary>Interim: turns a zoo.cfg into server settings until the configuration layer is wired in.</summary>
public static class SettingsLoader
{
    public sealed record Result(ServerSettings? Settings, IReadOnlyList<string> Warnings, IReadOnlyList<string> Errors);

    public static Result Load(string? path, IReadOnlyDictionary<string, string> properties)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (path is not null)
        {
            foreach (var line in File.ReadAllLines(path))
            {
                var trimmed = line.Trim();
                if (trimmed.Length == 0 || trimmed[0] is '#' or '!') continue;
                int equals = trimmed.IndexOf('=');
                if (equals > 0) values[trimmed[..equals].Trim()] = trimmed[(equals + 1)..].Trim();
            }
        }
        int tick = int.Parse(values.GetValueOrDefault("tickTime", "2000"));
        var address = values.TryGetValue("clientPortAddress", out var a) ? IPAddress.Parse(a) : IPAddress.Any;
        var whitelist = values.GetValueOrDefault("4lw.commands.whitelist", "srvr").Split(',', StringSplitOptions.TrimEntries).ToHashSet();
        var settings = new ServerSettings
        {
            TickTimeMs = tick,
            MinSessionTimeoutMs = tick * 2,
            MaxSessionTimeoutMs = tick * 20,
            ClientEndpoint = new IPEndPoint(address, int.Parse(values.GetValueOrDefault("clientPort", "2181"))),
            FourLetterWords = whitelist,
            MaxClientConnectionsPerHost = int.Parse(values.GetValueOrDefault("maxClientCnxns", "60")),
            DataDir = values.GetValueOrDefault("dataDir", "data"),
            DataLogDir = values.GetValueOrDefault("dataLogDir", values.GetValueOrDefault("dataDir", "data")),
            ExtendedTypesEnabled = values.GetValueOrDefault("extendedTypesEnabled", "false") == "true",
        };
        return new Result(settings, [], []);
    }
}
