using System.Net;
using Warden.Client;

namespace Warden.Cli;

/// <summary>Explains a client port that is already taken, and says whether a ZooKeeper-compatible server holds it.</summary>
public static class PortInUse
{
    public static async Task<string> DescribeAsync(IPEndPoint endpoint, TimeSpan? probeTimeout = null)
    {
        var probe = endpoint.Address.Equals(IPAddress.Any) || endpoint.Address.Equals(IPAddress.IPv6Any)
            ? IPAddress.Loopback
            : endpoint.Address;
        // srvr, not ruok: Apache answers srvr whatever 4lw.commands.whitelist says, and its default whitelist refuses ruok.
        var status = await StatusProbe.QueryAsync(new HostAddress(probe.ToString(), endpoint.Port), probeTimeout ?? TimeSpan.FromSeconds(2),
            CancellationToken.None);
        return $"client port {endpoint.Port} on {endpoint.Address} is already in use: {Holder(status.Outcome)}; " +
               "stop it, or set a free clientPort in zoo.cfg";
    }

    /// <summary>Who holds the port, from what it answered to srvr.</summary>
    public static string Holder(ProbeOutcome outcome)
    {
        if (outcome.Report is { } report)
        {
            string kind = report.Version.Contains("warden", StringComparison.OrdinalIgnoreCase) ? "a Warden server" : "a ZooKeeper server";
            return $"{kind} ({report.ShortVersion}, {report.Mode}) is already running there";
        }
        return outcome.Failure switch
        {
            FailureKind.NotServing => "a ZooKeeper or Warden server is already running there (not serving yet: starting, or waiting for its quorum)",
            FailureKind.NotWhitelisted => "a ZooKeeper or Warden server is already running there",
            _ => "another program is using it",
        };
    }
}
