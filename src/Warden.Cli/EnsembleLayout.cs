using System.Globalization;
using System.Text;

namespace Warden.Cli;

/// <summary>One server of a pseudo-cluster: its number, role, ports and folders.</summary>
public sealed record EnsembleServer(int Id, bool IsObserver, int ClientPort, int QuorumPort, int ElectionPort, int AdminPort, string Directory)
{
    public string ConfigPath => Path.Combine(Directory, "zoo.cfg");

    public string DataDir => Path.Combine(Directory, "data");

    public string DataLogDir => Path.Combine(Directory, "log");

    public string Name => $"zk{Id}";
}

/// <summary>
/// The files of a pseudo-cluster on one machine, laid out as the ZooKeeper guide's three servers:
/// <c>DIR/zkN/zoo.cfg</c>, <c>DIR/zkN/data/myid</c> and <c>DIR/zkN/log</c>, with client ports from the base port
/// up, quorum ports from base+707 (2888 for 2181), election ports from base+1707 (3888) and AdminServer ports from
/// base+5899 (8080), so that every port and every folder is the server's own.
/// </summary>
public sealed class EnsembleLayout
{
    public const int DefaultBasePort = 2181;
    private const int QuorumPortOffset = 2888 - DefaultBasePort;
    private const int ElectionPortOffset = 3888 - DefaultBasePort;
    private const int AdminPortOffset = 8080 - DefaultBasePort;

    private EnsembleLayout(string directory, IReadOnlyList<EnsembleServer> servers)
    {
        Directory = directory;
        Servers = servers;
    }

    public string Directory { get; }

    public IReadOnlyList<EnsembleServer> Servers { get; }

    /// <summary>Every server's client address, as a client's connect string.</summary>
    public string ConnectString => string.Join(',', Servers.Select(s => $"127.0.0.1:{s.ClientPort}"));

    /// <summary>Plans the layout; null with a message when the numbers cannot make an ensemble.</summary>
    public static EnsembleLayout? Plan(string directory, int participants, int observers, int basePort, out string? problem)
    {
        problem = participants < 1 ? $"--servers {participants}: an ensemble needs at least one voting server (3 is the usual)"
            : observers < 0 ? $"--observers {observers} cannot be negative"
            : observers > 0 && participants < 2 ? "observers need a quorum to follow; use --servers 3 (or more) with --observers"
            : basePort < 1 || basePort + AdminPortOffset + participants + observers - 1 > 65535
                ? $"--base-port {basePort} leaves no room for the ports (client ports from it, quorum ports from +{QuorumPortOffset}, election ports from +{ElectionPortOffset}, admin ports from +{AdminPortOffset}); use e.g. --base-port 2181"
            : null;
        if (problem is not null) return null;
        string root = Path.GetFullPath(directory);
        var servers = Enumerable.Range(0, participants + observers)
            .Select(i => new EnsembleServer(i + 1, i >= participants, basePort + i, basePort + QuorumPortOffset + i,
                basePort + ElectionPortOffset + i, basePort + AdminPortOffset + i, Path.Combine(root, $"zk{i + 1}")))
            .ToList();
        return new EnsembleLayout(root, servers);
    }

    /// <summary>The servers whose zoo.cfg is already there.</summary>
    public IReadOnlyList<EnsembleServer> Existing => Servers.Where(s => File.Exists(s.ConfigPath)).ToList();

    /// <summary>Writes every server's zoo.cfg and myid and creates its folders; data already there is kept.</summary>
    public void Write()
    {
        foreach (var server in Servers)
        {
            System.IO.Directory.CreateDirectory(server.DataDir);
            System.IO.Directory.CreateDirectory(server.DataLogDir);
            File.WriteAllText(server.ConfigPath, ZooConfig(server), new UTF8Encoding(false));
            File.WriteAllText(Path.Combine(server.DataDir, "myid"), server.Id.ToString(CultureInfo.InvariantCulture) + "\n", new UTF8Encoding(false));
        }
    }

    /// <summary>A zoo.cfg with Apache's meaning for every key, so that Apache ZooKeeper runs it unchanged too.</summary>
    public string ZooConfig(EnsembleServer server)
    {
        var text = new StringBuilder();
        text.Append("# server.").Append(server.Id).Append(" of a pseudo-cluster written by `warden ensemble init`.\n");
        text.Append("tickTime=2000\n");
        text.Append("initLimit=10\n");
        text.Append("syncLimit=5\n");
        // Forward slashes: zoo.cfg is a Java properties file, where a backslash is an escape, and Windows accepts them.
        text.Append("dataDir=").Append(ForwardSlashes(server.DataDir)).Append('\n');
        text.Append("dataLogDir=").Append(ForwardSlashes(server.DataLogDir)).Append('\n');
        text.Append("clientPort=").Append(server.ClientPort).Append('\n');
        text.Append("clientPortAddress=127.0.0.1\n");
        text.Append("4lw.commands.whitelist=*\n");
        // Every server's AdminServer (and web console) would take port 8080 on this one machine: each gets its own.
        text.Append("admin.serverAddress=127.0.0.1\n");
        text.Append("admin.serverPort=").Append(server.AdminPort).Append('\n');
        foreach (var peer in Servers)
        {
            text.Append("server.").Append(peer.Id).Append("=127.0.0.1:").Append(peer.QuorumPort).Append(':').Append(peer.ElectionPort);
            if (peer.IsObserver) text.Append(":observer");
            text.Append('\n');
        }
        if (server.IsObserver) text.Append("peerType=observer\n");
        return text.ToString();
    }

    private static string ForwardSlashes(string path) => path.Replace('\\', '/');
}
