using System.Diagnostics;
using System.Text;

namespace Warden.Server.Tests.Quorum.Transport;

/// <summary>Runs only when Debian's Apache ZooKeeper 3.8 (package <c>zookeeper</c>) and a JVM are installed.</summary>
public sealed class ApacheFactAttribute : FactAttribute
{
    public ApacheFactAttribute()
    {
        if (!File.Exists(ApacheQuorumPeer.ServerJar) || !File.Exists(ApacheQuorumPeer.Java))
        {
            Skip = $"Apache ZooKeeper 3.8 is not installed ({ApacheQuorumPeer.ServerJar} or {ApacheQuorumPeer.Java} is missing; " +
                   "apt-get install zookeeper)";
        }
    }
}

/// <summary>
/// One Apache ZooKeeper 3.8 ensemble member (QuorumPeerMain) in a child process with its own temporary data
/// directory and myid. Disposing it kills the process and deletes the directory. Its output is kept for messages.
/// </summary>
internal sealed class ApacheQuorumPeer : IAsyncDisposable
{
    public const string ServerJar = "/usr/share/java/zookeeper.jar";
    public static string Java => Environment.GetEnvironmentVariable("WARDEN_JAVA") is { Length: > 0 } java ? java : "/usr/bin/java";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _root;

    private ApacheQuorumPeer(Process process, string root)
    {
        _process = process;
        _root = root;
    }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>Starts server <paramref name="sid"/> of the ensemble described by the <c>server.N</c> lines.</summary>
    public static ApacheQuorumPeer Start(long sid, int clientPort, IEnumerable<string> serverLines)
    {
        var root = Path.Combine(Path.GetTempPath(), $"warden-apache-quorum-{sid}-{Guid.NewGuid():N}");
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "myid"), sid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var config = new StringBuilder()
            .Append("tickTime=2000\ninitLimit=10\nsyncLimit=5\n")
            .Append("dataDir=").Append(data.Replace('\\', '/')).Append('\n')
            .Append("clientPort=").Append(clientPort).Append("\nclientPortAddress=127.0.0.1\n")
            .Append("admin.enableServer=false\n4lw.commands.whitelist=*\n");
        foreach (var line in serverLines) config.Append(line).Append('\n');
        var configPath = Path.Combine(root, "zoo.cfg");
        File.WriteAllText(configPath, config.ToString());

        // The server jar's manifest names its dependencies; Debian leaves two netty jars out of it.
        var classPath = new List<string> { ServerJar, "/usr/share/java/netty-codec.jar", "/usr/share/java/netty-resolver.jar" };
        if (File.Exists("/usr/share/java/slf4j-simple.jar")) classPath.Add("/usr/share/java/slf4j-simple.jar");
        var start = new ProcessStartInfo(Java)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = root,
        };
        foreach (var argument in new[]
                 {
                     "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dzookeeper.jmx.log4j.disable=true",
                     "-cp", string.Join(Path.PathSeparator, classPath),
                     "org.apache.zookeeper.server.quorum.QuorumPeerMain", configPath,
                 })
        {
            start.ArgumentList.Add(argument);
        }
        var process = new Process { StartInfo = start };
        var peer = new ApacheQuorumPeer(process, root);
        process.OutputDataReceived += (_, e) => peer.Append(e.Data);
        process.ErrorDataReceived += (_, e) => peer.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return peer;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Append(line).Append('\n');
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
            // Already gone, or the OS will reap it; the directory is still ours to remove.
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
