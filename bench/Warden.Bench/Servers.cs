using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Warden.Bench;

/// <summary>
/// Which server a figure belongs to. <see cref="Baseline"/> is another build of Warden (its warden.dll named with
/// <c>--baseline</c>), to compare a change with what it replaces in the same run.
/// </summary>
public enum Kind { Warden, Apache, Baseline }

/// <summary>Starts Warden or Apache ZooKeeper 3.8 (Debian's package) on 127.0.0.1 with a given data directory.</summary>
public sealed class BenchServer : IDisposable
{
    private readonly Process _process;

    private BenchServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }
    public int ProcessId => _process.Id;

    /// <summary>The warden.dll that <see cref="Kind.Baseline"/> runs, if any.</summary>
    public static string? BaselineDll { get; set; }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static BenchServer Start(Kind kind, string dataDir, string logDir, string extraConfig = "")
    {
        int port = FreePort();
        Directory.CreateDirectory(dataDir);
        string config = Path.Combine(Path.GetDirectoryName(dataDir)!, $"{kind}-{port}.cfg");
        File.WriteAllText(config,
            $"tickTime=2000\ndataDir={dataDir}\ndataLogDir={logDir}\nclientPort={port}\nclientPortAddress=127.0.0.1\n" +
            $"admin.enableServer=false\n4lw.commands.whitelist=*\n{extraConfig}");
        return StartWithConfig(kind, config, port);
    }

    /// <summary>Starts a server on a zoo.cfg already written, whose client port is <paramref name="port"/>.</summary>
    public static BenchServer StartWithConfig(Kind kind, string config, int port)
    {
        var start = kind != Kind.Apache
            ? new ProcessStartInfo("dotnet")
            {
                ArgumentList =
                {
                    kind == Kind.Baseline ? BaselineDll ?? throw new InvalidOperationException("no --baseline warden.dll given")
                        : Path.Combine(AppContext.BaseDirectory, "warden.dll"),
                    "server", config,
                },
            }
            : new ProcessStartInfo("java")
            {
                ArgumentList =
                {
                    "-cp", Environment.GetEnvironmentVariable("WARDEN_ZK_CLASSPATH")
                        ?? "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar",
                    "org.apache.zookeeper.server.quorum.QuorumPeerMain", config,
                },
            };
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {kind}");
        Running.TryAdd(process.Id, process);
        // Output is drained so that a chatty server never blocks on a full pipe; the last lines are kept to
        // explain a server that exits early. The id is taken now, as the last lines can arrive after Dispose.
        int processId = process.Id;
        process.OutputDataReceived += (_, line) => Remember(processId, line.Data);
        process.ErrorDataReceived += (_, line) => Remember(processId, line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new BenchServer(process, port);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, Process> Running = new();

    /// <summary>
    /// Kills every server still running. Called when the tool dies of an unhandled exception, where the
    /// <c>using</c> blocks that normally stop the servers do not run, so that no server outlives its benchmark.
    /// </summary>
    public static void KillAllStarted()
    {
        foreach (var (id, process) in Running)
        {
            try { process.Kill(entireProcessTree: true); } catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
            Running.TryRemove(id, out _);
        }
    }

    private static readonly Dictionary<int, Queue<string>> LastLines = [];

    private static void Remember(int processId, string? line)
    {
        if (line is null) return;
        lock (LastLines)
        {
            if (!LastLines.TryGetValue(processId, out var lines)) LastLines[processId] = lines = new Queue<string>();
            lines.Enqueue(line);
            if (lines.Count > 20) lines.Dequeue();
        }
    }

    /// <summary>The last lines the server printed, to explain a failure.</summary>
    public string LastOutput()
    {
        lock (LastLines)
        {
            return LastLines.TryGetValue(_process.Id, out var lines) ? string.Join('\n', lines) : "";
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Kills the process at once with SIGKILL (kill -9): no shutdown hook, no flush.</summary>
    public void KillHard()
    {
        try { _process.Kill(entireProcessTree: false); } catch (InvalidOperationException) { }
        _process.WaitForExit(15000);
    }

    /// <summary>User plus system CPU time the process has used so far, from /proc/&lt;pid&gt;/stat, in seconds.</summary>
    public double CpuSeconds()
    {
        string stat = $"/proc/{_process.Id}/stat";
        if (!File.Exists(stat)) return 0;
        string text = File.ReadAllText(stat);
        // The command name in parentheses may hold spaces, so fields are counted after its closing parenthesis:
        // utime and stime are fields 14 and 15 of the line, the 12th and 13th after the name.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture)
            + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return ticks / (double)ClockTicksPerSecond;
    }

    private static readonly long ClockTicksPerSecond = QueryClockTicks();

    private static long QueryClockTicks()
    {
        // sysconf(_SC_CLK_TCK), whose name is 2 on Linux; 100 is the value on every common Linux build.
        try
        {
            long value = sysconf(2);
            return value > 0 ? value : 100;
        }
        catch (DllNotFoundException) { return 100; }
        catch (EntryPointNotFoundException) { return 100; }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern long sysconf(int name);

    /// <summary>Resident memory of the server process, from /proc (Linux), in MiB; -1 where not available.</summary>
    public double ResidentMiB()
    {
        string status = $"/proc/{_process.Id}/status";
        if (!File.Exists(status)) return -1;
        foreach (var line in File.ReadLines(status))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
            }
        }
        return -1;
    }

    public void Dispose()
    {
        try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.WaitForExit(15000);
        Running.TryRemove(_process.Id, out _);
        _process.Dispose();
    }
}
