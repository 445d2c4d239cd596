using System.Diagnostics;
using System.Runtime.InteropServices;
using Warden.Client;

namespace Warden.Cli;

/// <summary>
/// Runs every server of a pseudo-cluster as its own `warden server zoo.cfg` process, exactly as a person would in
/// separate terminals: streams each one's output behind its name, prints the connect string and a status table
/// once one leader and its followers agree, and on Ctrl-C or SIGTERM stops every server cleanly (SIGTERM, then a
/// kill after a grace period).
/// </summary>
public sealed class EnsembleRunner
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    // Once formed, a slower watch is enough to notice a new leader, and asks the servers less.
    private static readonly TimeSpan FormedPollInterval = TimeSpan.FromSeconds(1);

    // Prefix colours for a terminal: cyan, magenta, yellow, green, blue, red, then again.
    private static readonly string[] Colours = ["36", "35", "33", "32", "34", "31"];

    private readonly EnsembleLayout _layout;
    private readonly bool _colour;
    private readonly Lock _console = new();
    private readonly Dictionary<int, Process> _processes = new();
    private int _stopping;

    public EnsembleRunner(EnsembleLayout layout, bool colour)
    {
        _layout = layout;
        _colour = colour;
    }

    public async Task<int> RunAsync(CancellationToken cancellation)
    {
        foreach (var server in _layout.Servers)
        {
            try
            {
                _processes[server.Id] = Start(server);
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                Console.Error.WriteLine($"warden: cannot start {server.Name}: {e.Message}");
                await StopAllAsync();
                return 1;
            }
        }
        var exited = _processes.Select(p => WatchExitAsync(p.Key, p.Value)).ToList();
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var formed = WatchQuorumAsync(watching.Token);
        var firstExit = Task.WhenAny(exited);
        var cancelled = Task.Delay(Timeout.Infinite, cancellation);
        var first = await Task.WhenAny(firstExit, cancelled, formed);
        int code = 0;
        if (first == formed && formed.IsCompletedSuccessfully)
        {
            // Formed: the servers run until the person stops them; one that dies is reported and the rest go on.
            await Task.WhenAny(Task.WhenAll(exited), cancelled);
            if (!cancellation.IsCancellationRequested)
            {
                Say("every server has exited");
                code = 1;
            }
        }
        else if (first == firstExit && !cancellation.IsCancellationRequested)
        {
            // A server that gives up before the quorum forms has said why; the ensemble cannot be what was asked.
            var (id, exitCode) = await await firstExit;
            Say($"{_layout.Servers.First(s => s.Id == id).Name} exited with code {exitCode} before a leader was elected; stopping the others");
            code = 1;
        }
        await watching.CancelAsync();
        await StopAllAsync();
        try
        {
            await formed;
        }
        catch (OperationCanceledException)
        {
        }
        return code;
    }

    private Process Start(EnsembleServer server)
    {
        var startInfo = SelfStartInfo();
        startInfo.ArgumentList.Add("server");
        startInfo.ArgumentList.Add(server.ConfigPath);
        startInfo.WorkingDirectory = server.Directory;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.UseShellExecute = false;
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Relay(server, e.Data, Console.Out);
        process.ErrorDataReceived += (_, e) => Relay(server, e.Data, Console.Error);
        if (!process.Start()) throw new InvalidOperationException($"{startInfo.FileName} did not start");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Say($"started {server.Name} (server.{server.Id}{(server.IsObserver ? ", observer" : "")}, pid {process.Id}): client port {server.ClientPort}, quorum port {server.QuorumPort}, election port {server.ElectionPort}");
        return process;
    }

    /// <summary>This same program: the apphost when there is one, else `dotnet warden.dll`.</summary>
    private static ProcessStartInfo SelfStartInfo()
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this program is unknown");
        string name = Path.GetFileNameWithoutExtension(host);
        if (!name.Equals("dotnet", StringComparison.OrdinalIgnoreCase)) return new ProcessStartInfo(host);
        var startInfo = new ProcessStartInfo(host);
        // AppContext.BaseDirectory, not Assembly.Location, which is empty in a single-file build (and the build fails on it).
        startInfo.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, typeof(EnsembleRunner).Assembly.GetName().Name + ".dll"));
        return startInfo;
    }

    private void Relay(EnsembleServer server, string? line, TextWriter to)
    {
        if (line is null) return;
        string prefix = _colour
            ? $"\u001b[{Colours[(server.Id - 1) % Colours.Length]}m{server.Name}\u001b[0m | "
            : $"{server.Name} | ";
        lock (_console) to.WriteLine(prefix + line);
    }

    private void Say(string text)
    {
        lock (_console) Console.Out.WriteLine(_colour ? $"\u001b[1mensemble\u001b[0m | {text}" : $"ensemble | {text}");
    }

    private async Task<(int Id, int ExitCode)> WatchExitAsync(int id, Process process)
    {
        await process.WaitForExitAsync();
        process.WaitForExit(); // lets the output readers deliver the last lines
        if (Volatile.Read(ref _stopping) == 0)
        {
            Say($"{_layout.Servers.First(s => s.Id == id).Name} exited with code {process.ExitCode}");
        }
        return (id, process.ExitCode);
    }

    /// <summary>
    /// Asks every server for srvr until exactly one leads and every other follows or observes, then prints the
    /// connect string and the table; again each time the ensemble forms anew after losing its leader.
    /// </summary>
    private async Task WatchQuorumAsync(CancellationToken cancellation)
    {
        var addresses = _layout.Servers.Select(s => new HostAddress("127.0.0.1", s.ClientPort)).ToList();
        string? shownLeader = null;
        while (!cancellation.IsCancellationRequested)
        {
            var statuses = await StatusProbe.QueryAllAsync(addresses, TimeSpan.FromSeconds(2), cancellation);
            var modes = statuses.Select(s => s.Outcome.Report?.Mode).ToList();
            var leaders = statuses.Where(s => s.Outcome.Report?.Mode == "leader").ToList();
            bool formed = leaders.Count == 1 && modes.All(m => m is "leader" or "follower" or "observer");
            if (formed && shownLeader != leaders[0].Address.ToString())
            {
                shownLeader = leaders[0].Address.ToString();
                lock (_console)
                {
                    Console.Out.WriteLine();
                    Console.Out.WriteLine($"Connect string: {_layout.ConnectString}");
                    Console.Out.Write(StatusView.Table(statuses, _colour));
                    Console.Out.WriteLine("Stop every server with Ctrl-C.");
                    Console.Out.WriteLine();
                }
            }
            else if (leaders.Count == 0)
            {
                shownLeader = null;
            }
            await Task.Delay(shownLeader is null ? PollInterval : FormedPollInterval, cancellation);
        }
        cancellation.ThrowIfCancellationRequested();
    }

    private async Task StopAllAsync()
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0) return;
        var running = _processes.Where(p => !p.Value.HasExited).ToList();
        if (running.Count == 0) return;
        Say($"stopping {string.Join(", ", running.Select(p => $"zk{p.Key}"))}");
        foreach (var (_, process) in running) Terminate(process);
        await Task.WhenAll(running.Select(async p =>
        {
            using var grace = new CancellationTokenSource(StopGrace);
            try
            {
                await p.Value.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                Say($"zk{p.Key} did not stop within {StopGrace.TotalSeconds:0} s; killing it");
                p.Value.Kill(entireProcessTree: true);
                await p.Value.WaitForExitAsync();
            }
            p.Value.WaitForExit();
            Say($"zk{p.Key} stopped (exit code {p.Value.ExitCode})");
        }));
    }

    /// <summary>
    /// A clean stop: SIGTERM on Unix. Windows has no such signal, but the servers share this console and so have
    /// had the same Ctrl-C; whatever still runs after the grace period is ended there.
    /// </summary>
    private static void Terminate(Process process)
    {
        if (OperatingSystem.IsWindows()) return;
        // ESRCH (already gone) is fine: the server may have seen the terminal's Ctrl-C itself and stopped.
        _ = kill(process.Id, 15);
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe blocks, which the build forbids; this call marshals nothing.
    private static extern int kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
