using System.Text;
using Warden.Client;
using Warden.Protocol;
using Warden.Testing;

namespace Warden.Ensemble.Tests;

/// <summary>Warden.Client sessions on ensemble members, and reading a member's whole tree to compare members.</summary>
internal static class Clients
{
    /// <summary>How long any one client step may take before the test fails rather than hangs.</summary>
    public static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The session timeout the tests ask for: the most a 500 ms tick allows (maxSessionTimeout is 20 ticks),
    /// so that an election and a reconnection fit well inside it.
    /// </summary>
    public static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(10);

    /// <summary>A session on the given servers (one member's connect string, or a host list), connected within a bound.</summary>
    public static async Task<ZooKeeperClient> ConnectAsync(string connectString, TimeSpan? sessionTimeout = null)
    {
        using var timeout = new CancellationTokenSource(StepTimeout);
        return await ZooKeeperClient.ConnectAsync(
            new ZooKeeperClientOptions { ConnectString = connectString, SessionTimeout = sessionTimeout ?? SessionTimeout },
            cancellationToken: timeout.Token);
    }

    /// <summary>A session on exactly this member, so that what it reads is this member's copy of the tree.</summary>
    public static Task<ZooKeeperClient> ConnectAsync(EnsembleMember member) => ConnectAsync(member.ConnectString);

    /// <summary>
    /// The member's whole tree outside /zookeeper, after a sync so that it includes every write committed
    /// before the call: path → data and the stat fields every replica must agree on (not the times, which
    /// each replica takes from the txn header, but which the txn carries, so they are included too).
    /// </summary>
    public static async Task<SortedDictionary<string, string>> ReadTreeAsync(EnsembleMember member)
    {
        await using var client = await ConnectAsync(member);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await client.SyncAsync("/", timeout.Token);
        var tree = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var pending = new Queue<string>();
        pending.Enqueue("/");
        while (pending.Count > 0)
        {
            var path = pending.Dequeue();
            if (path == "/zookeeper")
            {
                continue;
            }
            var node = await client.GetDataAsync(path, timeout.Token);
            var children = await client.GetChildrenAsync(path, timeout.Token);
            tree[path] = Describe(node.Data, node.Stat);
            foreach (var child in children.Children.Order(StringComparer.Ordinal))
            {
                pending.Enqueue(path == "/" ? "/" + child : path + "/" + child);
            }
        }
        return tree;
    }

    /// <summary>
    /// Fails with the first difference between two members' trees, named by path, rather than dumping
    /// thousands of nodes.
    /// </summary>
    public static void AssertSameTree(
        string expectedName, SortedDictionary<string, string> expected, string actualName, SortedDictionary<string, string> actual)
    {
        var missing = expected.Keys.Except(actual.Keys).Take(5).ToList();
        var extra = actual.Keys.Except(expected.Keys).Take(5).ToList();
        var differing = expected.Keys.Intersect(actual.Keys).Where(k => expected[k] != actual[k]).Take(5).ToList();
        if (missing.Count + extra.Count + differing.Count == 0)
        {
            return;
        }
        var message = new StringBuilder($"{actualName}'s tree differs from {expectedName}'s ({expected.Count} vs {actual.Count} znodes)\n");
        foreach (var path in missing) message.Append($"  missing on {actualName}: {path}\n");
        foreach (var path in extra) message.Append($"  only on {actualName}: {path}\n");
        foreach (var path in differing) message.Append($"  {path}: {expectedName} has {expected[path]}, {actualName} has {actual[path]}\n");
        Assert.Fail(message.ToString());
    }

    private static string Describe(byte[] data, Stat stat) =>
        $"data={Convert.ToHexString(data)} czxid=0x{stat.Czxid:x} mzxid=0x{stat.Mzxid:x} pzxid=0x{stat.Pzxid:x} " +
        $"version={stat.Version} cversion={stat.Cversion} aversion={stat.Aversion} owner=0x{stat.EphemeralOwner:x} " +
        $"children={stat.NumChildren} ctime={stat.Ctime} mtime={stat.Mtime}";
}
