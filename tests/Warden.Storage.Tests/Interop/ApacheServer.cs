using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Warden.Storage.Tests.Interop;

/// <summary>
/// Runs the real Apache ZooKeeper 3.8 (Debian's <c>zookeeper</c> package: java and /usr/share/java/*.jar) on a
/// data directory, bound to 127.0.0.1 on a free port with the admin server off, and stops it by its process.
/// Tests that use it fail with a message naming what is missing rather than skipping.
/// </summary>
public sealed class ApacheServer : IDisposable
{
    private const string JarDirectory = "/usr/share/java";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ApacheServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }
    public string Address => $"127.0.0.1:{Port}";
    public string Output => string.Join('\n', _output);

    public static void RequirePrerequisites()
    {
        var missing = new List<string>();
        if (FindOnPath("java") is null) missing.Add("java (Debian package default-jre-headless)");
        if (!Directory.Exists(JarDirectory) || Directory.GetFiles(JarDirectory, "zookeeper-3.8*.jar").Length == 0)
        {
            missing.Add($"Apache ZooKeeper 3.8 jars in {JarDirectory} (Debian package zookeeper)");
        }
        if (!File.Exists("/usr/bin/python3") || Run("/usr/bin/python3", "-c \"import kazoo\"", TimeSpan.FromSeconds(30)).ExitCode != 0)
        {
            missing.Add("/usr/bin/python3 with kazoo (Debian package python3-kazoo)");
        }
        if (missing.Count > 0)
        {
            Assert.Fail("This Apache interchange test needs " + string.Join(", ", missing) +
                ". Install them, or leave these tests out with --filter Category!=Apache.");
        }
    }

    /// <param name="extraConfig">More zoo.cfg lines, e.g. snapshot.compression.method=gz.</param>
    public static ApacheServer Start(string dataDirectory, string workDirectory, string extraConfig = "")
    {
        RequirePrerequisites();
        int port = FreePort();
        string config = Path.Combine(workDirectory, "zoo.cfg");
        File.WriteAllText(config,
            $"tickTime=2000\ndataDir={dataDirectory}\nclientPort={port}\nclientPortAddress=127.0.0.1\n" +
            "admin.enableServer=false\nextendedTypesEnabled=true\npreAllocSize=64\n" + extraConfig);
        var start = new ProcessStartInfo("java")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "-cp", JarDirectory + "/*", "org.apache.zookeeper.server.quorum.QuorumPeerMain", config })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("java did not start");
        var server = new ApacheServer(process, port);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) server._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) server._output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        server.WaitUntilServing();
        return server;
    }

    /// <summary>Polls the client port until Apache accepts connections, within a bound; the one wait tests allow.</summary>
    private void WaitUntilServing()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process.HasExited) Assert.Fail($"Apache ZooKeeper exited with {_process.ExitCode}:\n{Output}");
            using var client = new TcpClient();
            try
            {
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                _process.WaitForExit(TimeSpan.FromMilliseconds(200));
            }
        }
        Dispose();
        Assert.Fail($"Apache ZooKeeper did not listen on {Address} within {StartTimeout.TotalSeconds}s:\n{Output}");
    }

    /// <summary>Runs a kazoo script against this server and returns its standard output.</summary>
    public string RunKazoo(string script)
    {
        var result = Run("/usr/bin/python3", $"\"{script}\" {Address}", TimeSpan.FromSeconds(90));
        if (result.ExitCode != 0) Assert.Fail($"{script} failed ({result.ExitCode}):\n{result.Error}\nApache said:\n{Output}");
        return result.Output;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(TimeSpan.FromSeconds(30));
        }
        _process.Dispose();
    }

    public static int FreePort() => Warden.Testing.TestPorts.Next();

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    private static (int ExitCode, string Output, string Error) Run(string file, string arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(timeout))
        {
            process.Kill();
            return (-1, output, "timed out");
        }
        return (process.ExitCode, output, error.Result);
    }
}
