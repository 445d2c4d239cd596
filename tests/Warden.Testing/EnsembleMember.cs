using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Warden.Testing;

/// <summary>What a member's `srvr` answer says about it.</summary>
public enum MemberMode
{
    /// <summary>Nothing answered on the client port (not running, paused, or not yet listening).</summary>
    Unreachable,

    /// <summary>The port answers but the server is "not currently serving requests" (no quorum yet).</summary>
    NotServing,

    /// <summary>`Mode: leader`.</summary>
    Leader,

    /// <summary>`Mode: follower`.</summary>
    Follower,

    /// <summary>`Mode: observer`.</summary>
    Observer,

    /// <summary>`Mode: standalone`, which an ensemble member must never report.</summary>
    Standalone,

    /// <summary>Some other answer; <see cref="EnsembleMember.LastStatus"/> holds it.</summary>
    Other,
}

/// <summary>
/// One server of an <see cref="EnsembleProcess"/>: its id, ports and directories, which stay the same
/// across restarts, and the process currently running it, if any. The process can be killed (SIGKILL),
/// stopped (SIGTERM, then SIGKILL), paused (SIGSTOP), resumed (SIGCONT) and started again on the same
/// directories. Its output is kept across every run, each run headed by a marker line.
/// </summary>
public sealed partial class EnsembleMember
{
    /// <summary>The exact line Apache's four-letter words give while a server has no quorum.</summary>
    public const string NotServingText = "This ZooKeeper instance is not currently serving requests";

    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);
    private readonly OutputLog output = new();
    private readonly Lock gate = new();
    private Process? process;
    private int runs;
    private bool paused;

    internal EnsembleMember(ServerKind kind, int id, int clientPort, int quorumPort, int electionPort, string rootDirectory)
    {
        Kind = kind;
        Id = id;
        ClientPort = clientPort;
        QuorumPort = quorumPort;
        ElectionPort = electionPort;
        RootDirectory = rootDirectory;
        DataDirectory = Path.Combine(rootDirectory, "data");
        DataLogDirectory = Path.Combine(rootDirectory, "datalog");
        ConfigPath = Path.Combine(rootDirectory, "zoo.cfg");
    }

    /// <summary>
    /// Java system properties (name, value) this member is started with, as `-Dname=value` for either implementation
    /// (readonlymode.enabled is read only that way); set them before <see cref="Start"/>.
    /// </summary>
    public IDictionary<string, string> SystemProperties { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal);

    private IEnumerable<string> PropertyArguments => SystemProperties.Select(p => $"-D{p.Key}={p.Value}");

    /// <summary>The server id (the `N` of `server.N` and the content of `myid`).</summary>
    public int Id { get; }

    /// <summary>
    /// The implementation this member's next run starts: fixed at creation, changed by <see cref="ReplaceWith"/>
    /// for a rolling migration between Apache ZooKeeper and Warden.
    /// </summary>
    public ServerKind Kind { get; private set; }

    /// <summary>True for a member configured as an observer (it never votes, and answers `Mode: observer`).</summary>
    public bool IsObserver { get; internal set; }

    /// <summary>The client port on 127.0.0.1.</summary>
    public int ClientPort { get; }

    /// <summary>The quorum (learner) port on 127.0.0.1.</summary>
    public int QuorumPort { get; }

    /// <summary>The leader-election port on 127.0.0.1.</summary>
    public int ElectionPort { get; }

    /// <summary>The AdminServer's port on 127.0.0.1, when the ensemble was created with it on.</summary>
    public int? AdminPort { get; internal set; }

    /// <summary>`127.0.0.1:port`, as every client takes it.</summary>
    public string ConnectString => $"127.0.0.1:{ClientPort}";

    /// <summary>The directory holding this member's zoo.cfg, dataDir and dataLogDir.</summary>
    public string RootDirectory { get; }

    /// <summary>dataDir: myid, snapshots and the epoch files.</summary>
    public string DataDirectory { get; }

    /// <summary>dataLogDir: the txn logs, apart from the snapshots.</summary>
    public string DataLogDirectory { get; }

    /// <summary>This member's zoo.cfg.</summary>
    public string ConfigPath { get; }

    /// <summary>The process id of the current run, or null when none was started.</summary>
    public int? ProcessId
    {
        get { lock (gate) return process?.Id; }
    }

    /// <summary>True while a process runs (a paused one still runs).</summary>
    public bool IsRunning
    {
        get { lock (gate) return process is { HasExited: false }; }
    }

    /// <summary>
    /// Waits, within <paramref name="bound"/>, for the process to end on its own, with its output read to the end
    /// (<see cref="IsRunning"/> turns false before the last lines have been read).
    /// </summary>
    public async Task WaitForExitAsync(TimeSpan bound)
    {
        Process? current;
        lock (gate) current = process;
        if (current is null) return;
        using var timeout = new CancellationTokenSource(bound);
        await current.WaitForExitAsync(timeout.Token);
    }

    /// <summary>True between <see cref="Pause"/> and <see cref="Resume"/>.</summary>
    public bool IsPaused
    {
        get { lock (gate) return paused; }
    }

    /// <summary>The last `srvr` answer seen by <see cref="ModeAsync"/>, for failure messages.</summary>
    public string LastStatus { get; private set; } = "";

    /// <summary>Everything every run of this member printed, stdout and stderr interleaved.</summary>
    public string CapturedOutput => output.ToString();

    /// <summary>
    /// Starts a process on this member's directories and ports. It returns at once: whether the member
    /// joins a quorum is for <see cref="EnsembleProcess.WaitForQuorumAsync"/> to find out.
    /// </summary>
    public void Start()
    {
        lock (gate)
        {
            if (process is { HasExited: false })
            {
                throw new InvalidOperationException($"server.{Id} is already running (pid {process.Id})");
            }
            process?.Dispose();
            runs++;
            output.Append("harness", $"--- run {runs} of server.{Id} ({Kind}) ---");
            var startInfo = Kind == ServerKind.Apache ? ApacheStartInfo() : WardenStartInfo();
            startInfo.WorkingDirectory = RootDirectory;
            startInfo.RedirectStandardOutput = true;
            startInfo.RedirectStandardError = true;
            startInfo.RedirectStandardInput = true;
            startInfo.UseShellExecute = false;
            var started = new Process { StartInfo = startInfo };
            started.OutputDataReceived += (_, e) => output.Append("out", e.Data);
            started.ErrorDataReceived += (_, e) => output.Append("err", e.Data);
            if (!started.Start())
            {
                throw new InvalidOperationException($"could not start {startInfo.FileName} for server.{Id}");
            }
            started.BeginOutputReadLine();
            started.BeginErrorReadLine();
            process = started;
            paused = false;
        }
    }

    /// <summary>
    /// One step of a rolling migration: stops the running process cleanly (SIGTERM, as <see cref="Stop"/>) and
    /// starts <paramref name="kind"/> in its place on the same zoo.cfg, myid, dataDir and dataLogDir, which both
    /// implementations read and write in the same formats. Returns at once, as <see cref="Start"/> does.
    /// </summary>
    public void ReplaceWith(ServerKind kind)
    {
        Stop();
        lock (gate)
        {
            output.Append("harness", $"server.{Id} changes from {Kind} to {kind}");
            Kind = kind;
        }
        Start();
    }

    /// <summary>kill -9: the process dies at once, with whatever it had not yet written. Waits (bounded) for it to be gone.</summary>
    public void Kill()
    {
        var current = CurrentProcess();
        if (current is null)
        {
            return;
        }
        ProcessRunner.KillTree(current);
        WaitForExit(current);
        lock (gate) paused = false;
    }

    /// <summary>
    /// A clean stop: SIGTERM, as a service manager sends, then SIGKILL if the process has not exited
    /// within 15 s. A paused process is resumed first so that it can see the signal.
    /// </summary>
    public void Stop()
    {
        var current = CurrentProcess();
        if (current is null)
        {
            return;
        }
        if (IsPaused)
        {
            Resume();
        }
        Signal(current, Signals.Terminate);
        if (!current.WaitForExit(ExitTimeout))
        {
            output.Append("harness", $"server.{Id} ignored SIGTERM for {ExitTimeout.TotalSeconds:0} s; killing it");
            ProcessRunner.KillTree(current);
            WaitForExit(current);
        }
        lock (gate) paused = false;
    }

    /// <summary>SIGSTOP: the process freezes with its sockets open, as a long GC pause or a hung VM would.</summary>
    public void Pause()
    {
        var current = CurrentProcess() ?? throw new InvalidOperationException($"server.{Id} is not running");
        Signal(current, Signals.Stop);
        lock (gate) paused = true;
    }

    /// <summary>SIGCONT: a paused process carries on where it stopped.</summary>
    public void Resume()
    {
        var current = CurrentProcess() ?? throw new InvalidOperationException($"server.{Id} is not running");
        Signal(current, Signals.Continue);
        lock (gate) paused = false;
    }

    /// <summary>
    /// Empties dataDir (keeping myid) and dataLogDir, as after a lost disk, so that the member must take
    /// the whole tree from the leader. Only while the member is down.
    /// </summary>
    public void WipeData()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"server.{Id} is running; stop it before wiping its data");
        }
        foreach (var directory in new[] { DataDirectory, DataLogDirectory })
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
            {
                if (Path.GetFileName(entry) == "myid")
                {
                    continue;
                }
                if (Directory.Exists(entry))
                {
                    Directory.Delete(entry, recursive: true);
                }
                else
                {
                    File.Delete(entry);
                }
            }
        }
    }

    /// <summary>Sends a four-letter word on a fresh connection and returns the whole answer.</summary>
    public Task<string> FourLetterWordAsync(string word, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        FourLetterWord.AskAsync(new IPEndPoint(IPAddress.Loopback, ClientPort), word, timeout, cancellationToken);

    /// <summary>
    /// The member's mode from one `srvr` (bounded by <paramref name="timeout"/>); a member that does not
    /// answer in time, a paused one included, is <see cref="MemberMode.Unreachable"/>.
    /// </summary>
    public async Task<MemberMode> ModeAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        string answer;
        try
        {
            answer = await FourLetterWordAsync("srvr", timeout, cancellationToken);
        }
        catch (Exception e) when (e is SocketException or IOException ||
                                  (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LastStatus = e.Message;
            return MemberMode.Unreachable;
        }
        LastStatus = answer;
        if (answer.Contains(NotServingText, StringComparison.Ordinal))
        {
            return MemberMode.NotServing;
        }
        var match = ModeLine().Match(answer);
        if (!match.Success)
        {
            return answer.Length == 0 ? MemberMode.Unreachable : MemberMode.Other;
        }
        return match.Groups[1].Value switch
        {
            "leader" => MemberMode.Leader,
            "follower" => MemberMode.Follower,
            "observer" => MemberMode.Observer,
            "standalone" => MemberMode.Standalone,
            _ => MemberMode.Other,
        };
    }

    /// <summary>The `Zxid:` line of `srvr`, or null when the member does not say.</summary>
    public async Task<long?> ZxidAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var answer = await FourLetterWordAsync("srvr", timeout, cancellationToken);
        var match = ZxidLine().Match(answer);
        return match.Success ? long.Parse(match.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture) : null;
    }

    /// <summary>
    /// Waits (bounded) until this member's output contains <paramref name="text"/>; a log line is the only event a
    /// child process gives, and each one is checked as it arrives.
    /// </summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitForOutputAsync(output => output.Contains(text, StringComparison.Ordinal), $"'{text}'", timeout, cancellationToken);

    /// <summary>
    /// Waits (bounded) until the output of this member's current run (since its latest start) contains
    /// <paramref name="text"/>; what earlier runs printed does not count.
    /// </summary>
    public Task WaitForOutputOfThisRunAsync(string text, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var marker = $"--- run {runs} of server.{Id} ";
        return WaitForOutputAsync(
            output =>
            {
                var start = output.LastIndexOf(marker, StringComparison.Ordinal);
                return start >= 0 && output.IndexOf(text, start, StringComparison.Ordinal) >= 0;
            },
            $"'{text}' in run {runs}", timeout, cancellationToken);
    }

    /// <summary>Waits (bounded) until this member's output satisfies <paramref name="condition"/>, described by <paramref name="what"/>.</summary>
    public async Task WaitForOutputAsync(Func<string, bool> condition, string what, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!await output.WaitForAsync(condition, timeout, cancellationToken))
        {
            throw new TimeoutException(
                $"server.{Id} did not print {what} within {timeout.TotalSeconds:0} s.\n--- server.{Id} output ---\n{Tail(CapturedOutput)}");
        }
    }

    public override string ToString() => $"server.{Id} ({Kind}) on {ConnectString}, pid {ProcessId?.ToString(CultureInfo.InvariantCulture) ?? "none"}";

    /// <summary>The newest part of a long output, which is what explains a failure.</summary>
    internal static string Tail(string text, int maxChars = 20_000) =>
        text.Length <= maxChars ? text : "[...]\n" + text[^maxChars..];

    /// <summary>Ends the member's process for good: resumed if paused, then killed.</summary>
    internal void Shutdown()
    {
        var current = CurrentProcess();
        if (current is null)
        {
            return;
        }
        if (IsPaused)
        {
            Signal(current, Signals.Continue);
        }
        ProcessRunner.KillTree(current);
        WaitForExit(current);
        lock (gate)
        {
            current.Dispose();
            process = null;
            paused = false;
        }
    }

    private Process? CurrentProcess()
    {
        lock (gate)
        {
            return process is { HasExited: false } ? process : null;
        }
    }

    private void WaitForExit(Process current)
    {
        if (!current.WaitForExit(ExitTimeout))
        {
            output.Append("harness", $"server.{Id} (pid {current.Id}) did not exit within {ExitTimeout.TotalSeconds:0} s of SIGKILL");
            return;
        }
        // The parameterless wait also lets the output readers take the last lines.
        current.WaitForExit();
    }

    private void Signal(Process current, int signal)
    {
        if (kill(current.Id, signal) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            // ESRCH: the process is gone already, which is what every caller wants anyway.
            if (error != 3)
            {
                throw new InvalidOperationException($"kill({current.Id}, {signal}) failed with errno {error} for server.{Id}");
            }
        }
        output.Append("harness", $"signal {signal} sent to server.{Id} (pid {current.Id})");
    }

    private ProcessStartInfo WardenStartInfo()
    {
        var startInfo = new ProcessStartInfo("dotnet");
        startInfo.ArgumentList.Add(InstalledTools.Require(InstalledTools.WardenDll, "(build Warden.Cli)"));
        foreach (var argument in PropertyArguments) startInfo.ArgumentList.Add(argument);
        startInfo.ArgumentList.Add("server");
        startInfo.ArgumentList.Add(ConfigPath);
        return startInfo;
    }

    private ProcessStartInfo ApacheStartInfo()
    {
        var startInfo = new ProcessStartInfo(InstalledTools.Require(InstalledTools.Java, "zookeeper"));
        // QuorumPeerMain is what zkServer.sh runs; with server.N lines it runs a quorum peer.
        foreach (var argument in new[]
                 {
                     "-Xmx256m", "-XX:+UseSerialGC", "-Dzookeeper.jmx.log4j.disable=true",
                 }.Concat(PropertyArguments).Concat(new[]
                 {
                     "-cp", InstalledTools.ApacheClassPath,
                     "org.apache.zookeeper.server.quorum.QuorumPeerMain", ConfigPath,
                 }))
        {
            startInfo.ArgumentList.Add(argument);
        }
        return startInfo;
    }

    // Signal numbers differ between Linux and the BSDs (macOS); Windows has no signals and no ensemble tests.
    private static class Signals
    {
        public static int Terminate => 15;
        public static int Stop => OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? 17 : 19;
        public static int Continue => OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? 19 : 18;
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe blocks, which the build forbids; this call marshals nothing.
    private static extern int kill(int pid, int signal);
#pragma warning restore SYSLIB1054

    [GeneratedRegex(@"^Mode: (\w+)", RegexOptions.Multiline)]
    private static partial Regex ModeLine();

    [GeneratedRegex(@"^Zxid: 0x([0-9a-fA-F]+)", RegexOptions.Multiline)]
    private static partial Regex ZxidLine();
}
