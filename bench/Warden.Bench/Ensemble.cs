using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Warden.Bench;

/// <summary>What one server's <c>srvr</c> answer says about its role and progress.</summary>
public readonly record struct ServerState(string Mode, long Zxid)
{
    public bool Serves => Mode is "leader" or "follower";
}

/// <summary>
/// A 3-server ensemble of one kind on 127.0.0.1: each member has its own zoo.cfg, a dataDir holding its myid,
/// and a dataLogDir apart, with Apache's default timing (tickTime 2000, initLimit 10, syncLimit 5, forceSync on).
/// Members can be killed with SIGKILL and started again on the same files.
/// </summary>
public sealed class BenchEnsemble : IDisposable
{
    public const int Size = 3;

    private readonly Kind _kind;
    private readonly string[] _configs = new string[Size];
    private readonly BenchServer?[] _servers = new BenchServer?[Size];

    private BenchEnsemble(Kind kind, string directory)
    {
        _kind = kind;
        ClientPorts = new int[Size];
        var quorumPorts = new int[Size];
        var electionPorts = new int[Size];
        for (int i = 0; i < Size; i++)
        {
            ClientPorts[i] = BenchServer.FreePort();
            quorumPorts[i] = BenchServer.FreePort();
            electionPorts[i] = BenchServer.FreePort();
        }
        var members = new StringBuilder();
        for (int i = 0; i < Size; i++) members.Append(CultureInfo.InvariantCulture, $"server.{i + 1}=127.0.0.1:{quorumPorts[i]}:{electionPorts[i]}\n");
        for (int i = 0; i < Size; i++)
        {
            string member = Path.Combine(directory, $"server{i + 1}");
            string dataDir = Path.Combine(member, "data");
            string logDir = Path.Combine(member, "log");
            Directory.CreateDirectory(dataDir);
            Directory.CreateDirectory(logDir);
            File.WriteAllText(Path.Combine(dataDir, "myid"), $"{i + 1}\n");
            _configs[i] = Path.Combine(member, "zoo.cfg");
            File.WriteAllText(_configs[i],
                $"tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={dataDir}\ndataLogDir={logDir}\n" +
                $"clientPort={ClientPorts[i]}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n" +
                $"4lw.commands.whitelist=*\n{members}");
        }
    }

    public Kind Kind => _kind;
    public int[] ClientPorts { get; }

    /// <summary>The data directory of member <paramref name="index"/> (0-based), where a seed snapshot goes.</summary>
    public static string DataDirectory(string directory, int index) => Path.Combine(directory, $"server{index + 1}", "data");

    /// <summary>Writes the members' files under <paramref name="directory"/> without starting anything.</summary>
    public static BenchEnsemble Create(Kind kind, string directory) => new(kind, directory);

    public void StartAll()
    {
        for (int i = 0; i < Size; i++) Start(i);
    }

    public void Start(int index)
    {
        if (_servers[index] is { HasExited: false }) throw new InvalidOperationException($"server {index + 1} is already running");
        _servers[index]?.Dispose();
        _servers[index] = BenchServer.StartWithConfig(_kind, _configs[index], ClientPorts[index]);
    }

    /// <summary>Kills member <paramref name="index"/> with SIGKILL and returns the moment the signal was sent.</summary>
    public long KillHard(int index)
    {
        var server = _servers[index] ?? throw new InvalidOperationException($"server {index + 1} is not running");
        long killedAt = Stopwatch.GetTimestamp();
        server.KillHard();
        return killedAt;
    }

    /// <summary>Stops member <paramref name="index"/> with SIGKILL, which is also how a crashed follower stops.</summary>
    public void Stop(int index) => KillHard(index);

    /// <summary>The last lines member <paramref name="index"/> printed, to explain a failure.</summary>
    public string LastOutput(int index) => _servers[index]?.LastOutput() ?? "";

    /// <summary>CPU seconds used so far by the members now running.</summary>
    public double CpuSeconds() => _servers.Sum(s => s is { HasExited: false } ? s.CpuSeconds() : 0);

    /// <summary>Asks member <paramref name="index"/> <c>srvr</c>; null when it does not answer in time.</summary>
    public async Task<ServerState?> StateAsync(int index, TimeSpan timeout)
    {
        string? text = await FourLetterWord.AskAsync(ClientPorts[index], "srvr", timeout);
        if (text is null) return null;
        string mode = "";
        long zxid = -1;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("Mode: ", StringComparison.Ordinal)) mode = line[6..].Trim();
            if (line.StartsWith("Zxid: 0x", StringComparison.Ordinal)) zxid = long.Parse(line[8..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        return new ServerState(mode, zxid);
    }

    /// <summary>
    /// Waits until every running member serves (leader or follower) and exactly one leads; returns the leader's
    /// index. Throws, naming each member's state, when that takes longer than <paramref name="timeout"/>.
    /// </summary>
    public async Task<int> WaitServingAsync(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var states = new ServerState?[Size];
        while (true)
        {
            for (int i = 0; i < Size; i++)
            {
                if (_servers[i] is { HasExited: true })
                {
                    throw new InvalidOperationException($"{_kind} server {i + 1} exited:\n{_servers[i]!.LastOutput()}");
                }
                states[i] = await StateAsync(i, TimeSpan.FromSeconds(2));
            }
            if (states.All(s => s is { Serves: true }) && states.Count(s => s!.Value.Mode == "leader") == 1)
            {
                return Array.FindIndex(states, s => s!.Value.Mode == "leader");
            }
            if (clock.Elapsed > timeout)
            {
                string seen = string.Join(", ", states.Select((s, i) => $"server {i + 1}: {(s is null ? "no answer" : s.Value.Mode)}"));
                throw new TimeoutException($"{_kind} ensemble not serving after {timeout.TotalSeconds:0} s ({seen})");
            }
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        foreach (var server in _servers) server?.Dispose();
    }
}
