using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Warden.Testing;

namespace Warden.Ensemble.Tests;

/// <summary>
/// `warden ensemble` as a person uses it: from a script (output to a pipe, stopped with SIGTERM) and in a real
/// terminal (tmux, stopped with Ctrl-C); and `warden ensemble init`, which only writes the files.
/// </summary>
public sealed partial class EnsembleCommandTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"warden-ensemble-command-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task FromAScriptItStartsThreeServersPrintsTheConnectStringAndTableAndStopsThemAllOnSigterm()
    {
        int basePort = FreeBasePort(3);
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { WardenDll, "ensemble", "--dir", _root, "--base-port", basePort.ToString(CultureInfo.InvariantCulture) })
        {
            startInfo.ArgumentList.Add(argument);
        }
        var output = new StringBuilder();
        using var process = Process.Start(startInfo)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Append(e.Data).Append('\n'); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string Text()
        {
            lock (output) return output.ToString();
        }
        var children = new List<int>();
        try
        {
            await WaitForAsync(Text, "Stop every server with Ctrl-C.");
            string text = Text();
            children.AddRange(ChildPids(text));
            Assert.Equal(3, children.Count);

            string connect = string.Join(',', Enumerable.Range(0, 3).Select(i => $"127.0.0.1:{basePort + i}"));
            Assert.Contains($"Connect string: {connect}\n", text, StringComparison.Ordinal);
            var rows = TableRows(text);
            Assert.Equal(["follower", "follower", "leader"], rows.Select(r => r.Mode).Order());
            Assert.Equal(connect.Split(','), rows.Select(r => r.Server));
            foreach (var id in new[] { 1, 2, 3 })
            {
                Assert.Matches($@"(?m)^zk{id} \| .*Warden server\.{id} is up", text);
            }
            Assert.Matches(@"(?m)^zk\d \| .*Leading epoch 1", text);
            Assert.DoesNotContain("\u001b", text, StringComparison.Ordinal); // no colour into a pipe

            // Each server has its own ports and folders, and myid matches its server.N line.
            for (var id = 1; id <= 3; id++)
            {
                string config = File.ReadAllText(Path.Combine(_root, $"zk{id}", "zoo.cfg"));
                Assert.Contains($"clientPort={basePort + id - 1}\n", config, StringComparison.Ordinal);
                Assert.Contains($"server.{id}=127.0.0.1:{basePort + 707 + id - 1}:{basePort + 1707 + id - 1}\n", config, StringComparison.Ordinal);
                Assert.Equal($"{id}\n", File.ReadAllText(Path.Combine(_root, $"zk{id}", "data", "myid")));
                Assert.True(File.Exists(Path.Combine(_root, $"zk{id}", "log", DataLockName)), "dataLogDir is a folder of its own, locked by its server");
            }

            Assert.Equal(0, kill(process.Id, 15));
            using (var timeout = new CancellationTokenSource(Bound))
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            process.WaitForExit();
            text = Text();
            Assert.Equal(0, process.ExitCode);
            for (var id = 1; id <= 3; id++)
            {
                Assert.Contains($"ensemble | zk{id} stopped (exit code 0)\n", text, StringComparison.Ordinal);
                Assert.Matches($@"(?m)^zk{id} \| .*Warden stopped on SIGTERM in \d+ ms", text);
            }
            Assert.All(children, pid => Assert.False(IsAlive(pid), $"server pid {pid} still runs"));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            foreach (var pid in children.Where(IsAlive)) _ = kill(pid, 9);
        }
    }

    [Fact]
    public async Task InATerminalItColoursTheNamesAndCtrlCStopsEveryServer()
    {
        string tmux = InstalledTools.Require("/usr/bin/tmux", "tmux");
        string socket = $"warden-test-{Guid.NewGuid():N}";
        int basePort = FreeBasePort(3);
        // The shell prints the exit status into the pane: tmux itself does not always learn it (when it sees the
        // terminal close before the process is reaped, #{pane_dead_status} stays empty).
        string command = $"dotnet '{WardenDll}' ensemble --dir '{_root}' --base-port {basePort}; echo \"ensemble exit status $?\"";
        var children = new List<int>();
        try
        {
            // remain-on-exit keeps the pane (and what it shows) after the command ends.
            var started = await ProcessRunner.RunAsync(tmux,
                ["-L", socket, "new-session", "-d", "-s", "w", "-x", "220", "-y", "50", "-e", "NO_COLOR=", command,
                 ";", "set-option", "-t", "w", "remain-on-exit", "on"], TimeSpan.FromSeconds(30));
            Assert.True(started.ExitCode == 0, started.Describe());

            Task<string> Screen(bool escapes) => CaptureAsync(tmux, socket, escapes);
            await WaitForAsync(() => Screen(false).GetAwaiter().GetResult(), "Stop every server with Ctrl-C.");
            string plain = await Screen(false);
            children.AddRange(ChildPids(plain));
            Assert.Equal(3, children.Count);
            Assert.Equal(["follower", "follower", "leader"], TableRows(plain).Select(r => r.Mode).Order());
            // On a terminal each server's name is coloured.
            Assert.Matches("\u001b\\[3[1-6]mzk1\u001b\\[[0-9;]*m \\| ", await Screen(true));

            var keys = await ProcessRunner.RunAsync(tmux, ["-L", socket, "send-keys", "-t", "w", "C-c"], TimeSpan.FromSeconds(30));
            Assert.True(keys.ExitCode == 0, keys.Describe());

            await WaitForAsync(() => Screen(false).GetAwaiter().GetResult(), "ensemble exit status");
            string after = await Screen(false);
            Assert.Contains("ensemble exit status 0\n", after, StringComparison.Ordinal);
            for (var id = 1; id <= 3; id++)
            {
                Assert.Contains($"ensemble | zk{id} stopped (exit code 0)", after, StringComparison.Ordinal);
            }
            Assert.All(children, pid => Assert.False(IsAlive(pid), $"server pid {pid} still runs"));
        }
        finally
        {
            await ProcessRunner.RunAsync(tmux, ["-L", socket, "kill-server"], TimeSpan.FromSeconds(30));
            foreach (var pid in children.Where(IsAlive)) _ = kill(pid, 9);
        }
    }

    [Fact]
    public async Task InitOnlyWritesTheFilesAndRefusesToWriteOverThem()
    {
        int basePort = FreeBasePort(4);
        string[] arguments = ["ensemble", "init", _root, "--servers", "3", "--observers", "1", "--base-port", basePort.ToString(CultureInfo.InvariantCulture)];

        var written = await TrapTests.RunWardenAsync(arguments, Bound);

        Assert.True(written.ExitCode == 0, written.Describe());
        for (var id = 1; id <= 4; id++)
        {
            string config = Path.Combine(_root, $"zk{id}", "zoo.cfg");
            Assert.Contains($"  warden server {config}\n", written.StandardOutput, StringComparison.Ordinal);
            string text = File.ReadAllText(config);
            Assert.Contains($"dataDir={Path.Combine(_root, $"zk{id}", "data").Replace('\\', '/')}\n", text, StringComparison.Ordinal);
            Assert.Contains($"dataLogDir={Path.Combine(_root, $"zk{id}", "log").Replace('\\', '/')}\n", text, StringComparison.Ordinal);
            Assert.Contains("server.4=127.0.0.1:" + (basePort + 707 + 3) + ":" + (basePort + 1707 + 3) + ":observer\n", text, StringComparison.Ordinal);
            Assert.Equal(id == 4, text.Contains("peerType=observer\n", StringComparison.Ordinal));
            // Each server's AdminServer (and console) on its own port, as 8080, 8081, ... for the default base port.
            Assert.Contains($"admin.serverPort={basePort + 5899 + id - 1}\n", text, StringComparison.Ordinal);
            Assert.Equal($"{id}\n", File.ReadAllText(Path.Combine(_root, $"zk{id}", "data", "myid")));
        }
        Assert.False(Directory.EnumerateFiles(_root, DataLockName, SearchOption.AllDirectories).Any(), "init starts no server");

        var again = await TrapTests.RunWardenAsync(arguments, Bound);

        Assert.Equal(1, again.ExitCode);
        Assert.Equal($"warden: {Path.Combine(_root, "zk1", "zoo.cfg")} already exists; choose another folder, or remove it to start afresh",
            again.StandardError.Trim());
    }

    private const string DataLockName = "warden.lock";

    private static string WardenDll => InstalledTools.Require(InstalledTools.WardenDll, "(build Warden.Cli)");

    private static async Task<string> CaptureAsync(string tmux, string socket, bool escapes)
    {
        var arguments = new List<string> { "-L", socket, "capture-pane", "-p", "-J", "-S", "-2000", "-t", "w" };
        if (escapes) arguments.Add("-e");
        var captured = await ProcessRunner.RunAsync(tmux, arguments, TimeSpan.FromSeconds(30));
        return captured.StandardOutput;
    }

    /// <summary>Polls (every 100 ms, bounded) until the text holds <paramref name="expected"/>.</summary>
    private static async Task WaitForAsync(Func<string> text, string expected)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!text().Contains(expected, StringComparison.Ordinal))
        {
            Assert.True(stopwatch.Elapsed < Bound, $"'{expected}' did not appear within {Bound.TotalSeconds:0} s:\n{text()}");
            await Task.Delay(100);
        }
    }

    private static List<int> ChildPids(string text) =>
        StartedLine().Matches(text).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();

    private static List<(string Server, string Mode)> TableRows(string text) =>
        TableRow().Matches(text).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();

    private static bool IsAlive(int pid) => kill(pid, 0) == 0;

    /// <summary>
    /// A base port whose client, quorum, election and admin ports (base+i, base+707+i, base+1707+i, base+5899+i) are all free now,
    /// found by binding each candidate in turn.
    /// </summary>
    private static int FreeBasePort(int servers)
    {
        for (int candidate = 20000 + Random.Shared.Next(0, 400) * 10; ; candidate += 10)
        {
            var ports = Enumerable.Range(0, servers).SelectMany(i => new[] { candidate + i, candidate + 707 + i, candidate + 1707 + i, candidate + 5899 + i });
            if (ports.All(IsFree)) return candidate;
            Assert.True(candidate < 60000, "no free base port");
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"started zk\d \(server\.\d(?:, observer)?, pid (\d+)\)")]
    private static partial Regex StartedLine();

    [GeneratedRegex(@"(?m)^(127\.0\.0\.1:\d+)\s+(leader|follower|observer)\s")]
    private static partial Regex TableRow();

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe blocks, which the build forbids; this call marshals nothing.
    private static extern int kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
