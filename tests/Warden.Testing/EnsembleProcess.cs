using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Warden.Testing;

/// <summary>
/// N servers of one ensemble, each a child process on 127.0.0.1 with its own client, quorum and election
/// ports and its own dataDir and dataLogDir (apart, as the zoo.cfg guide advises). The ports and
/// directories are fixed at creation, so a member killed or stopped can be started again where its peers
/// and clients expect it. Dispose it to end every process it started (by pid) and delete the directories.
/// </summary>
public sealed class EnsembleProcess : IAsyncDisposable
{
    /// <summary>The tick used unless a test asks otherwise: short, so that elections and expiries are quick.</summary>
    public const int DefaultTickTimeMs = 500;

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private readonly string rootDirectory;

    private EnsembleProcess(ServerKind kind, string rootDirectory, IReadOnlyList<EnsembleMember> members, int tickTimeMs)
    {
        Kind = kind;
        this.rootDirectory = rootDirectory;
        Members = members;
        TickTimeMs = tickTimeMs;
    }

    /// <summary>The implementation the first member was created with (every member's, unless the ensemble is mixed).</summary>
    public ServerKind Kind { get; }

    /// <summary>The members, in server id order (server.1 first).</summary>
    public IReadOnlyList<EnsembleMember> Members { get; }

    /// <summary>The tickTime every member was configured with.</summary>
    public int TickTimeMs { get; }

    /// <summary>Every member's client address, comma-separated, as a client's host list.</summary>
    public string ConnectString => string.Join(',', Members.Select(m => m.ConnectString));

    /// <summary>
    /// The implementation the ensemble tests run: Warden unless WARDEN_ENSEMBLE_SUBJECT=apache, which runs the
    /// same tests on Apache ZooKeeper 3.8 to show that the tests and this harness are sound.
    /// </summary>
    public static ServerKind SubjectFromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable("WARDEN_ENSEMBLE_SUBJECT");
        if (string.IsNullOrEmpty(value))
        {
            return ServerKind.Warden;
        }
        return Enum.TryParse<ServerKind>(value, ignoreCase: true, out var kind)
            ? kind
            : throw new InvalidOperationException($"WARDEN_ENSEMBLE_SUBJECT must be 'apache' or 'warden', not '{value}'");
    }

    /// <summary>The member with server id <paramref name="id"/>.</summary>
    public EnsembleMember this[int id] => Members.Single(m => m.Id == id);

    /// <summary>
    /// Writes the configuration of <paramref name="size"/> members (zoo.cfg, myid, empty directories)
    /// without starting any; start them one by one with <see cref="EnsembleMember.Start"/>.
    /// </summary>
    /// <param name="size">How many servers.</param>
    /// <param name="kind">Warden, or Apache ZooKeeper 3.8 (QuorumPeerMain) to check the harness itself.</param>
    /// <param name="tickTimeMs">tickTime; initLimit is 10 ticks and syncLimit 5, as the zoo.cfg guide's example.</param>
    /// <param name="extraConfig">zoo.cfg keys added to, or overriding, every member's settings.</param>
    /// <param name="adminServer">Turns every member's AdminServer on, each on a free port of its own on 127.0.0.1.</param>
    public static EnsembleProcess Create(
        int size,
        ServerKind kind = ServerKind.Warden,
        int tickTimeMs = DefaultTickTimeMs,
        IReadOnlyDictionary<string, string>? extraConfig = null,
        bool adminServer = false)
        => Build(Enumerable.Repeat(kind, Math.Max(size, 0)).ToList(), tickTimeMs, extraConfig, adminServer, size);

    /// <summary>
    /// Writes the configuration of a mixed ensemble, one member per entry of <paramref name="kinds"/> (server.1
    /// runs <c>kinds[0]</c>), without starting any. Every member gets the same kind of zoo.cfg, so that any member
    /// can later be replaced by the other implementation (<see cref="EnsembleMember.ReplaceWith"/>). The members named by
    /// <paramref name="observerIds"/> are observers (`:observer` on their server lines, `peerType=observer` in their own).
    /// </summary>
    public static EnsembleProcess Create(
        IReadOnlyList<ServerKind> kinds,
        int tickTimeMs = DefaultTickTimeMs,
        IReadOnlyDictionary<string, string>? extraConfig = null,
        bool adminServer = false,
        IReadOnlyCollection<int>? observerIds = null) =>
        Build(kinds, tickTimeMs, extraConfig, adminServer, kinds.Count, observerIds);

    private static EnsembleProcess Build(
        IReadOnlyList<ServerKind> kinds, int tickTimeMs, IReadOnlyDictionary<string, string>? extraConfig, bool adminServer, int size,
        IReadOnlyCollection<int>? observerIds = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        var kind = kinds[0];
        var label = kinds.Distinct().Count() == 1 ? kind.ToString().ToLowerInvariant() : "mixed";
        var root = Path.Combine(Path.GetTempPath(), $"warden-ensemble-{label}-{Guid.NewGuid():N}");
        // All at once, so that no port is handed out twice.
        var ports = FreePorts(size * (adminServer ? 4 : 3));
        var members = new List<EnsembleMember>();
        for (var index = 0; index < size; index++)
        {
            var id = index + 1;
            var member = new EnsembleMember(kinds[index], id, ports[index * 3], ports[index * 3 + 1], ports[index * 3 + 2],
                Path.Combine(root, $"server{id}"));
            member.IsObserver = observerIds?.Contains(id) == true;
            Directory.CreateDirectory(member.DataDirectory);
            Directory.CreateDirectory(member.DataLogDirectory);
            File.WriteAllText(Path.Combine(member.DataDirectory, "myid"), id.ToString(CultureInfo.InvariantCulture) + "\n");
            members.Add(member);
        }
        foreach (var member in members)
        {
            var config = new Dictionary<string, string>(extraConfig ?? new Dictionary<string, string>());
            if (member.IsObserver)
            {
                config["peerType"] = "observer";
            }
            if (adminServer)
            {
                member.AdminPort = ports[size * 3 + member.Id - 1];
                config["admin.enableServer"] = "true";
                config["admin.serverAddress"] = "127.0.0.1";
                config["admin.serverPort"] = member.AdminPort.Value.ToString(CultureInfo.InvariantCulture);
            }
            File.WriteAllText(member.ConfigPath, ZooConfig(member, members, tickTimeMs, config));
        }
        return new EnsembleProcess(kind, root, members, tickTimeMs);
    }

    /// <summary>
    /// Creates and starts <paramref name="size"/> members, then waits (bounded) for one leader and
    /// <c>size - 1</c> followers. A failure to form disposes everything and says what each member printed.
    /// </summary>
    public static async Task<EnsembleProcess> StartAsync(
        int size,
        ServerKind kind = ServerKind.Warden,
        int tickTimeMs = DefaultTickTimeMs,
        IReadOnlyDictionary<string, string>? extraConfig = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default,
        bool adminServer = false)
    {
        var ensemble = Create(size, kind, tickTimeMs, extraConfig, adminServer);
        try
        {
            foreach (var member in ensemble.Members)
            {
                member.Start();
            }
            await ensemble.WaitForQuorumAsync(timeout ?? TimeSpan.FromSeconds(kind == ServerKind.Apache ? 90 : 60), cancellationToken);
            return ensemble;
        }
        catch
        {
            await ensemble.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Creates and starts a mixed ensemble (one member per entry of <paramref name="kinds"/>), then waits (bounded)
    /// for one leader and the rest following, as <see cref="StartAsync(int, ServerKind, int, IReadOnlyDictionary{string, string}?, TimeSpan?, CancellationToken, bool)"/> does.
    /// </summary>
    public static async Task<EnsembleProcess> StartAsync(
        IReadOnlyList<ServerKind> kinds,
        int tickTimeMs = DefaultTickTimeMs,
        IReadOnlyDictionary<string, string>? extraConfig = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default,
        IReadOnlyCollection<int>? observerIds = null)
    {
        var ensemble = Create(kinds, tickTimeMs, extraConfig, observerIds: observerIds);
        try
        {
            foreach (var member in ensemble.Members)
            {
                member.Start();
            }
            await ensemble.WaitForQuorumAsync(timeout ?? TimeSpan.FromSeconds(90), cancellationToken);
            return ensemble;
        }
        catch
        {
            await ensemble.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Polls `srvr` on every running, unpaused member (every 50 ms, bounded by <paramref name="timeout"/>)
    /// until exactly one says leader and every other says follower (observer, for an observer), and returns the leader. Members that
    /// are down or paused are not asked: the question is whether those that run agree. With <paramref name="among"/>, only
    /// those members are asked (one that runs but is kept out, a member refused by its peers, is left alone).
    /// </summary>
    public async Task<EnsembleMember> WaitForQuorumAsync(TimeSpan timeout, CancellationToken cancellationToken = default,
        IReadOnlyList<EnsembleMember>? among = null)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var live = (among ?? Members).Where(m => m.IsRunning && !m.IsPaused).ToList();
            var modes = await ModesAsync(live, cancellationToken);
            var leaders = live.Where(m => modes[m.Id] == MemberMode.Leader).ToList();
            if (leaders.Count == 1 && live.All(m => m == leaders[0] || modes[m.Id] == (m.IsObserver ? MemberMode.Observer : MemberMode.Follower)))
            {
                return leaders[0];
            }
            if (stopwatch.Elapsed > timeout)
            {
                throw new TimeoutException(
                    $"no single leader with {live.Count - 1} followers after {timeout.TotalSeconds:0} s; modes: " +
                    string.Join(", ", live.Select(m => $"server.{m.Id}={modes[m.Id]}")) + "\n" + DescribeOutputs());
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }

    /// <summary>Polls until <paramref name="member"/> reports <paramref name="mode"/> (bounded).</summary>
    public async Task WaitForModeAsync(EnsembleMember member, MemberMode mode, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var seen = await member.ModeAsync(ProbeTimeout, cancellationToken);
            if (seen == mode)
            {
                return;
            }
            if (stopwatch.Elapsed > timeout)
            {
                throw new TimeoutException(
                    $"server.{member.Id} is {seen}, not {mode}, after {timeout.TotalSeconds:0} s (last srvr: '{member.LastStatus.Trim()}')\n" +
                    DescribeOutputs());
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }

    /// <summary>One `srvr` on each given member, in parallel, keyed by server id.</summary>
    public async Task<IReadOnlyDictionary<int, MemberMode>> ModesAsync(
        IEnumerable<EnsembleMember>? members = null, CancellationToken cancellationToken = default)
    {
        var asked = (members ?? Members).ToList();
        var modes = await Task.WhenAll(asked.Select(m => m.ModeAsync(ProbeTimeout, cancellationToken)));
        return asked.Select((m, i) => (m.Id, modes[i])).ToDictionary(p => p.Id, p => p.Item2);
    }

    /// <summary>Every member's output (the newest part of each), for a failure message.</summary>
    public string DescribeOutputs()
    {
        var text = new StringBuilder();
        foreach (var member in Members)
        {
            text.Append("--- ").Append(member).Append(" ---\n").Append(EnsembleMember.Tail(member.CapturedOutput, 8_000)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Ends every member's process by its pid (resuming paused ones first) and deletes the directories.</summary>
    public ValueTask DisposeAsync()
    {
        foreach (var member in Members)
        {
            member.Shutdown();
        }
        if (Environment.GetEnvironmentVariable("WARDEN_KEEP_ENSEMBLE") is not { Length: > 0 })
        {
            try
            {
                Directory.Delete(rootDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A file still held by a dying child; the OS temp cleaner gets it.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return ValueTask.CompletedTask;
    }

    private static string ZooConfig(
        EnsembleMember member, IReadOnlyList<EnsembleMember> members, int tickTimeMs,
        IReadOnlyDictionary<string, string>? extraConfig)
    {
        var settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["tickTime"] = tickTimeMs.ToString(CultureInfo.InvariantCulture),
            ["initLimit"] = "10",
            ["syncLimit"] = "5",
            // Forward slashes: zoo.cfg is a Java properties file, where a backslash is an escape.
            ["dataDir"] = member.DataDirectory.Replace('\\', '/'),
            ["dataLogDir"] = member.DataLogDirectory.Replace('\\', '/'),
            ["clientPort"] = member.ClientPort.ToString(CultureInfo.InvariantCulture),
            ["clientPortAddress"] = "127.0.0.1",
            ["4lw.commands.whitelist"] = "*",
            // Both AdminServers are on by default on port 8080 and would collide between members; a test of the
            // AdminServer gives each member a free admin.serverPort of its own.
            ["admin.enableServer"] = "false",
        };
        foreach (var peer in members)
        {
            settings[$"server.{peer.Id}"] = $"127.0.0.1:{peer.QuorumPort}:{peer.ElectionPort}" + (peer.IsObserver ? ":observer" : "");
        }
        return FourLetterWord.ZooConfig(settings, extraConfig);
    }

    private static int[] FreePorts(int count) => TestPorts.Next(count);
}
