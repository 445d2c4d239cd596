using System.Reflection;

namespace Warden.Server;

/// <summary>
/// Warden's version, set in one place (Version and WardenReleaseDate in Directory.Build.props) and shown the
/// way ZooKeeper tools expect: "3.8.0-warden-0.1.0, built on 2026-12-07 00:00 UTC" in srvr, stat, envi and
/// mntr, where monitoring scripts read the ZooKeeper version Warden speaks before the dash.
/// </summary>
public static class WardenVersion
{
    /// <summary>The Apache ZooKeeper release whose protocol, files and answers Warden follows.</summary>
    public const string ZooKeeperCompatible = "3.8.0";

    /// <summary>Warden's own version, e.g. "0.1.0" (the informational version without its source revision).</summary>
    public static string Number { get; } = ReadNumber();

    /// <summary>The day this version was released, "yyyy-MM-dd".</summary>
    public static string ReleaseDate { get; } =
        typeof(WardenVersion).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "WardenReleaseDate")?.Value ?? "unknown";

    /// <summary>What srvr prints after "Zookeeper version: ".</summary>
    public static string ForZooKeeperTools { get; } = $"{ZooKeeperCompatible}-warden-{Number}, built on {ReleaseDate} 00:00 UTC";

    private static string ReadNumber()
    {
        string informational = typeof(WardenVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = informational.IndexOf('+');
        return plus < 0 ? informational : informational[..plus];
    }
}
