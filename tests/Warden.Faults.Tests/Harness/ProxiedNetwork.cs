using System.Globalization;
using System.Text;
using Warden.Testing;

namespace Warden.Faults.Tests.Harness;

/// <summary>
/// The links between ensemble members, each through a <see cref="LinkProxy"/>: for every ordered pair
/// (i, j) one proxy for j's quorum port and one for its election port, and member i's zoo.cfg names those
/// proxies in its server.j line (its own server.i line keeps the real ports, which it binds). Clients still
/// reach every member directly, as in Jepsen's tests: a member cut off from its peers keeps its clients.
/// A partition is a set of directed (from, to) pairs whose bytes are stalled.
/// </summary>
public sealed class ProxiedNetwork : IAsyncDisposable
{
    private readonly List<LinkProxy> proxies = [];
    private readonly Lock gate = new();
    private HashSet<(int From, int To)> blocked = [];

    private ProxiedNetwork()
    {
    }

    /// <summary>The directed pairs currently stalled.</summary>
    public IReadOnlySet<(int From, int To)> Blocked
    {
        get { lock (gate) return blocked.ToHashSet(); }
    }

    /// <summary>
    /// Starts the proxies and rewrites every member's server lines to use them. Call before any member starts.
    /// </summary>
    public static ProxiedNetwork Install(EnsembleProcess ensemble)
    {
        var network = new ProxiedNetwork();
        foreach (var member in ensemble.Members)
        {
            var lines = File.ReadAllLines(member.ConfigPath).ToList();
            var rewritten = new StringBuilder();
            foreach (var line in lines)
            {
                var peer = ensemble.Members.FirstOrDefault(p => p.Id != member.Id &&
                    line.StartsWith($"server.{p.Id.ToString(CultureInfo.InvariantCulture)}=", StringComparison.Ordinal));
                if (peer is null)
                {
                    rewritten.Append(line).Append('\n');
                    continue;
                }
                var quorum = new LinkProxy(member.Id, peer.Id, "quorum", peer.QuorumPort);
                var election = new LinkProxy(member.Id, peer.Id, "election", peer.ElectionPort);
                network.proxies.Add(quorum);
                network.proxies.Add(election);
                rewritten.Append(CultureInfo.InvariantCulture, $"server.{peer.Id}=127.0.0.1:{quorum.Port}:{election.Port}\n");
            }
            File.WriteAllText(member.ConfigPath, rewritten.ToString());
        }
        return network;
    }

    /// <summary>Stalls exactly the given directed pairs (bytes sent by From to To), opening every other link.</summary>
    public void Apply(IEnumerable<(int From, int To)> pairs)
    {
        lock (gate)
        {
            blocked = pairs.ToHashSet();
            foreach (var proxy in proxies)
            {
                proxy.Set(blocked.Contains((proxy.From, proxy.To)), blocked.Contains((proxy.To, proxy.From)));
            }
        }
    }

    /// <summary>Opens every link.</summary>
    public void Heal() => Apply([]);

    /// <summary>Both directions between every member of <paramref name="side"/> and every other member.</summary>
    public static IEnumerable<(int, int)> Isolate(IReadOnlyCollection<int> side, IEnumerable<int> all)
    {
        var others = all.Except(side).ToList();
        return side.SelectMany(a => others.SelectMany(b => new[] { (a, b), (b, a) }));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var proxy in proxies)
        {
            await proxy.DisposeAsync();
        }
    }
}
