using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Warden.Bench;

/// <summary>Which server a figure belongs to.</summary>
public enum Kind { Warden, Apache }

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
        var start = kind == Kind.Warden
            ? new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "warden.dll"), "server", config } }
            : new ProcessStartInfo("java")
            {
                ArgumentList =
                {
                    "-cp", Environment.GetEnvironmentVariable("WARDEN_ZK_CLASSPATH") ?? "/usr/share/java/zookeeper.jar",
                    "org.apache.zookeeper.server.quorum.QuorumPeerMain", config,
                },
            };
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {kind}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new BenchServer(process, port);
    }

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
        _process.Dispose();
    }
}
