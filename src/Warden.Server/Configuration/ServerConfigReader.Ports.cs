namespace Warden.Server.Configuration;

/// <summary>
/// Ports of servers that share a host. Every server listens on its election port all the time and on its
/// quorum port only while it leads. So on one host two servers with the same election port cannot both run
/// (Apache exits with "unable to bind quorum port"), and a quorum port equal to another server's election or
/// client port breaks the day that server leads. Two servers on one host sharing a quorum port is accepted
/// by Apache and works, because only the leader listens on it (seen on Apache ZooKeeper 3.8.0 with the founding
/// tutorial's server.1..3=localhost:2888:3888/3889/3890: one leader, two followers); we warn about it.
/// </summary>
internal sealed partial class ServerConfigReader
{
    private void CheckPortClashes()
    {
        foreach (IGrouping<string, QuorumServer> host in _config.Servers.GroupBy(s => HostKey(s.Host)))
        {
            List<QuorumServer> servers = host.ToList();
            if (servers.Count < 2)
            {
                continue;
            }
            string hostName = servers[0].Host;
            foreach (IGrouping<int, QuorumServer> clash in servers.GroupBy(s => s.ElectionPort).Where(g => g.Count() > 1))
            {
                _errors.Add($"{_source.Name}: {Names(clash)} {(clash.Count() == 2 ? "both" : "all")} use election port {clash.Key} on {hostName}, so only one of them can run; give each server its own ports, e.g. {Suggest(servers)}");
            }
            foreach (IGrouping<int, QuorumServer> clash in servers.GroupBy(s => s.QuorumPort).Where(g => g.Count() > 1))
            {
                _warnings.Add($"{_source.Name}: {Names(clash)} share quorum port {clash.Key} on {hostName}; this runs only because just the leader listens on it, and a new leader cannot start while the old one still holds the port; give each server its own ports, e.g. {Suggest(servers)}");
            }
            CheckQuorumAgainstElectionPorts(servers, hostName);
        }
        CheckClientPortAgainstPeers();
    }

    private void CheckQuorumAgainstElectionPorts(List<QuorumServer> servers, string hostName)
    {
        foreach (QuorumServer leader in servers)
        {
            QuorumServer? other = servers.FirstOrDefault(s => s.Id != leader.Id && s.ElectionPort == leader.QuorumPort);
            if (other is not null)
            {
                _errors.Add($"{_source.Name}: server.{leader.Id}'s quorum port {leader.QuorumPort} is server.{other.Id}'s election port on {hostName}, so server.{leader.Id} cannot lead; give each server its own ports, e.g. {Suggest(servers)}");
            }
        }
    }

    private void CheckClientPortAgainstPeers()
    {
        QuorumServer? self = _config.Self;
        if (self is null || _config.ClientPort is not int clientPort)
        {
            return;
        }
        string selfHost = HostKey(self.Host);
        foreach (QuorumServer server in _config.Servers.Where(s => HostKey(s.Host) == selfHost))
        {
            string? which = clientPort == server.QuorumPort ? "quorum" : clientPort == server.ElectionPort ? "election" : null;
            if (which is not null)
            {
                _errors.Add($"{_source.Name}: clientPort {clientPort} is also server.{server.Id}'s {which} port on {server.Host}; pick a client port no server.N line uses, e.g. clientPort={FreeClientPort()}");
            }
        }
    }

    private int FreeClientPort()
    {
        var used = _config.Servers.SelectMany(s => new[] { s.QuorumPort, s.ElectionPort }).ToHashSet();
        int port = 2181;
        while (used.Contains(port))
        {
            port++;
        }
        return port;
    }

    /// <summary>Loopback spellings are one host; other names are compared as written (no DNS at config time).</summary>
    private static string HostKey(string host)
    {
        string h = host.Trim().Trim('[', ']').ToLowerInvariant();
        return h is "localhost" or "::1" or "0:0:0:0:0:0:0:1" || h.StartsWith("127.", StringComparison.Ordinal) ? "loopback" : h;
    }

    private static string Names(IEnumerable<QuorumServer> servers)
    {
        List<string> names = servers.Select(s => $"server.{s.Id}").ToList();
        return names.Count == 2 ? $"{names[0]} and {names[1]}" : $"{string.Join(", ", names[..^1])} and {names[^1]}";
    }

    /// <summary>Distinct pairs in the usual style: 2888/3888, 2889/3889, 2890/3890 ...</summary>
    private static string Suggest(List<QuorumServer> servers) =>
        string.Join(", ", servers.Select((s, i) => $"server.{s.Id}={s.Host}:{2888 + i}:{3888 + i}"));
}
