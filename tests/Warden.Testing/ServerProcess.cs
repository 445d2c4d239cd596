using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Warden.Testing;

/// <summary>Which implementation a server process runs.</summary>
public enum ServerKind
{
    /// <summary>Apache ZooKeeper 3.8 from Debian's `zookeeper` package: the oracle.</summary>
    Apache,

    /// <summary>Warden, `dotnet warden.dll server zoo.cfg`.</summary>
    Warden,
}

/// <summary>
/// One standalone server in a child process, bound to 127.0.0.1 on a free port with its own
/// temporary data directory. Start it with <see cref="StartAsync"/>; dispose it to kill the
/// process tree and delete the directory. Its stdout and stderr are captured for failure messages.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(30);
    private const string NotServing = "not currently serving requests";
    private readonly Process process;
    private readonly OutputLog output;
    private readonly string rootDirectory;

    /// <summary>
    /// A value for a zoo.cfg key or system property that names a port (admin.serverPort, metricsProvider.httpPort):
    /// the harness puts there a port free at launch, and launches again on a new one if the server reports it taken
    /// (a port freed a moment ago may be taken by any process in between). <see cref="PortOf"/> gives the port.
    /// </summary>
    public const string AnyFreePort = "{any free port}";

    /// <summary>Lines that say a secondary HTTP endpoint could not bind its port; the server carries on without it.</summary>
    private static readonly string[] SecondaryPortTaken =
        ["Unable to start the AdminServer on", "Cannot start the /metrics endpoint on", "Problem starting AdminServer"];

    private readonly IReadOnlyDictionary<string, int> freePorts;

    private ServerProcess(ServerKind kind, int clientPort, string rootDirectory, string configPath, Process process, OutputLog output,
        IReadOnlyDictionary<string, int> freePorts)
    {
        this.freePorts = freePorts;
        Kind = kind;
        ClientPort = clientPort;
        this.rootDirectory = rootDirectory;
        ConfigPath = configPath;
        DataDirectory = Path.Combine(rootDirectory, "data");
        this.process = process;
        this.output = output;
    }

    /// <summary>The implementation running.</summary>
    public ServerKind Kind { get; }

    /// <summary>The client port on 127.0.0.1.</summary>
    public int ClientPort { get; }

    /// <summary>`127.0.0.1:port`, as every client takes it.</summary>
    public string ConnectString => $"127.0.0.1:{ClientPort}";

    /// <summary>The client endpoint.</summary>
    public IPEndPoint EndPoint => new(IPAddress.Loopback, ClientPort);

    /// <summary>The zoo.cfg the server was started with.</summary>
    public string ConfigPath { get; }

    /// <summary>The server's dataDir.</summary>
    public string DataDirectory { get; }

    /// <summary>The process id, for whoever needs to signal it.</summary>
    public int ProcessId => process.Id;

    /// <summary>True while the process runs.</summary>
    public bool IsRunning => !process.HasExited;

    /// <summary>The port the harness chose for a key given as <see cref="AnyFreePort"/>.</summary>
    public int PortOf(string key) => freePorts.TryGetValue(key, out int port)
        ? port
        : throw new ArgumentException($"{key} was not given as {nameof(AnyFreePort)}", nameof(key));

    /// <summary>Everything the server printed so far, stdout and stderr interleaved.</summary>
    public string CapturedOutput => output.ToString();

    /// <summary>
    /// The subject of a comparison: Warden unless WARDEN_COMPAT_SUBJECT=apache, which runs every
    /// comparison Apache against Apache to show the harness itself is sound and deterministic.
    /// </summary>
    public static ServerKind SubjectFromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable("WARDEN_COMPAT_SUBJECT");
        if (string.IsNullOrEmpty(value))
        {
            return ServerKind.Warden;
        }
        return Enum.TryParse<ServerKind>(value, ignoreCase: true, out var kind)
            ? kind
            : throw new InvalidOperationException($"WARDEN_COMPAT_SUBJECT must be 'apache' or 'warden', not '{value}'");
    }

    /// <summary>
    /// Starts a server and waits (bounded) until it answers `ruok` with `imok` and `srvr` does not
    /// say it is "not currently serving requests".
    /// </summary>
    /// <param name="kind">Which implementation.</param>
    /// <param name="extraConfig">zoo.cfg keys added to, or overriding, the defaults (e.g. maxClientCnxns).</param>
    /// <param name="startTimeout">How long to wait for readiness; 30 s when null.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <param name="systemProperties">
    /// Java system properties, passed as `-Dname=value` to both implementations: Apache reads some
    /// knobs (znode.container.checkIntervalMs) only that way, and Warden takes the same arguments.
    /// </param>
    public static async Task<ServerProcess> StartAsync(
        ServerKind kind,
        IReadOnlyDictionary<string, string>? extraConfig = null,
        TimeSpan? startTimeout = null,
        CancellationToken cancellationToken = default,
        IReadOnlyDictionary<string, string>? systemProperties = null)
    {
        // The free port is found by binding port 0 and letting it go, so another process can take
        // it in between; a server that dies because the address is in use gets a new port.
        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            var server = Launch(kind, extraConfig, systemProperties);
            try
            {
                await server.WaitUntilReadyAsync(startTimeout ?? DefaultStartTimeout, cancellationToken);
                if (attempt < attempts && await server.LostSecondaryPortRaceAsync(cancellationToken))
                {
                    await server.DisposeAsync();
                    continue;
                }
                return server;
            }
            catch (ServerStartException) when (attempt < attempts && server.LostPortRace())
            {
                await server.DisposeAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Waits for the server to exit (and its output to be read to the end); returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode;
    }

    /// <summary>
    /// Sends a four-letter word on a fresh connection and returns the whole answer (the server
    /// closes the connection after answering).
    /// </summary>
    public Task<string> FourLetterWordAsync(string word, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        FourLetterWord.AskAsync(EndPoint, word, timeout, cancellationToken);

    /// <summary>
    /// Waits (bounded) until the server's output contains <paramref name="text"/>; a log line is the only event a
    /// child process gives, and each one is checked as it arrives.
    /// </summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!await output.WaitForAsync(o => o.Contains(text, StringComparison.Ordinal), timeout, cancellationToken))
        {
            throw new TimeoutException($"{this} did not print '{text}' within {timeout.TotalSeconds:0} s.\n--- server output ---\n{CapturedOutput}");
        }
    }

    /// <summary>Kills the process tree, waits for it (bounded) and deletes the temp directory.</summary>
    public async ValueTask DisposeAsync()
    {
        ProcessRunner.KillTree(process);
        using (var timeoutSource = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            try
            {
                await process.WaitForExitAsync(timeoutSource.Token);
            }
            catch (OperationCanceledException)
            {
                // A process that will not die is reported by the OS, not by us; carry on cleaning.
            }
        }
        process.Dispose();
        try
        {
            Directory.Delete(rootDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a dying child; the OS temp cleaner gets it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public override string ToString() => $"{Kind} on {ConnectString} (pid {process.Id})";

    private static ServerProcess Launch(
        ServerKind kind, IReadOnlyDictionary<string, string>? extraConfig, IReadOnlyDictionary<string, string>? systemProperties)
    {
        // A clientPort given in the extra settings is kept, so a test can restart a server where its clients expect it.
        var port = extraConfig is not null && extraConfig.TryGetValue("clientPort", out var fixedPort)
            ? int.Parse(fixedPort, System.Globalization.CultureInfo.InvariantCulture)
            : FreePort();
        var freePorts = new Dictionary<string, int>(StringComparer.Ordinal);
        extraConfig = ResolveFreePorts(extraConfig, freePorts);
        systemProperties = ResolveFreePorts(systemProperties, freePorts);
        var root = Path.Combine(Path.GetTempPath(), $"warden-{kind.ToString().ToLowerInvariant()}-{port}-{Guid.NewGuid():N}");
        var dataDirectory = Path.Combine(root, "data");
        Directory.CreateDirectory(dataDirectory);
        var configPath = Path.Combine(root, "zoo.cfg");
        File.WriteAllText(configPath, ZooConfig(kind, port, dataDirectory, extraConfig));

        var properties = (systemProperties ?? new Dictionary<string, string>())
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"-D{p.Key}={p.Value}")
            .ToList();
        var startInfo = kind == ServerKind.Apache ? ApacheStartInfo(configPath, properties) : WardenStartInfo(configPath, properties);
        startInfo.WorkingDirectory = root;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.RedirectStandardInput = true;
        startInfo.UseShellExecute = false;
        var output = new OutputLog();
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => output.Append("out", e.Data);
        process.ErrorDataReceived += (_, e) => output.Append("err", e.Data);
        if (!process.Start())
        {
            throw new ServerStartException($"could not start {startInfo.FileName}");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServerProcess(kind, port, root, configPath, process, output, freePorts);
    }

    /// <summary>
    /// The zoo.cfg both implementations get. Keys are written in a stable order so a failing
    /// configuration can be reproduced from the message.
    /// </summary>
    private static string ZooConfig(ServerKind kind, int port, string dataDirectory, IReadOnlyDictionary<string, string>? extraConfig)
    {
        var settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["tickTime"] = "2000",
            // Forward slashes: zoo.cfg is a Java properties file, where a backslash is an escape.
            ["dataDir"] = dataDirectory.Replace('\\', '/'),
            ["clientPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["clientPortAddress"] = "127.0.0.1",
            ["4lw.commands.whitelist"] = "*",
            // Both AdminServers are on by default on port 8080 and would collide between parallel servers; a test
            // of the AdminServer turns it on with a free admin.serverPort of its own.
            ["admin.enableServer"] = "false",
        };
        return FourLetterWord.ZooConfig(settings, extraConfig);
    }

    private static ProcessStartInfo ApacheStartInfo(string configPath, IReadOnlyList<string> properties)
    {
        var startInfo = new ProcessStartInfo(InstalledTools.Require(InstalledTools.Java, "zookeeper"));
        // ZooKeeperServerMain is what QuorumPeerMain runs for a config without server.N lines;
        // starting it directly skips the quorum code path that a standalone oracle never needs.
        foreach (var argument in new[]
                 {
                     "-Xmx512m", "-XX:+UseSerialGC",
                     "-Dzookeeper.jmx.log4j.disable=true",
                 }.Concat(properties).Concat(new[]
                 {
                     "-cp", InstalledTools.ApacheClassPath,
                     "org.apache.zookeeper.server.ZooKeeperServerMain", configPath,
                 }))
        {
            startInfo.ArgumentList.Add(argument);
        }
        return startInfo;
    }

    private static ProcessStartInfo WardenStartInfo(string configPath, IReadOnlyList<string> properties)
    {
        var startInfo = new ProcessStartInfo("dotnet");
        startInfo.ArgumentList.Add(InstalledTools.Require(InstalledTools.WardenDll, "(build Warden.Cli)"));
        foreach (var property in properties)
        {
            startInfo.ArgumentList.Add(property);
        }
        startInfo.ArgumentList.Add("server");
        startInfo.ArgumentList.Add(configPath);
        return startInfo;
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        string lastProblem = "no attempt made";
        while (stopwatch.Elapsed < timeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                // Let the output readers catch the last lines before quoting them.
                await process.WaitForExitAsync(cancellationToken);
                throw new ServerStartException(
                    $"{Kind} server exited with code {process.ExitCode} before it was ready.\n--- server output ---\n{CapturedOutput}");
            }
            try
            {
                var answer = await FourLetterWordAsync("ruok", TimeSpan.FromSeconds(2), cancellationToken);
                if (answer == "imok")
                {
                    // Apache answers ruok as soon as the port is bound, while the database is
                    // still loading and client connections are dropped ("ZooKeeperServer not
                    // running"); srvr tells the two states apart.
                    var status = await FourLetterWordAsync("srvr", TimeSpan.FromSeconds(2), cancellationToken);
                    if (!status.Contains(NotServing, StringComparison.Ordinal))
                    {
                        return;
                    }
                    lastProblem = $"srvr answered '{status.Trim()}'";
                }
                else
                {
                    lastProblem = $"ruok answered '{answer}'";
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
            {
                lastProblem = e.Message;
            }
            // A bounded poll: a starting server gives no event to wait on, only a port that opens.
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
        throw new ServerStartException(
            $"{Kind} server on {ConnectString} not ready after {timeout.TotalSeconds:0} s (last probe: {lastProblem}).\n" +
            $"--- server output ---\n{CapturedOutput}");
    }

    private bool LostPortRace() =>
        CapturedOutput.Contains("Address already in use", StringComparison.OrdinalIgnoreCase);

    private static IReadOnlyDictionary<string, string>? ResolveFreePorts(
        IReadOnlyDictionary<string, string>? settings, Dictionary<string, int> freePorts)
    {
        if (settings is null || !settings.Values.Contains(AnyFreePort)) return settings;
        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in settings)
        {
            if (value == AnyFreePort)
            {
                freePorts[key] = FreePort();
                resolved[key] = freePorts[key].ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                resolved[key] = value;
            }
        }
        return resolved;
    }

    /// <summary>
    /// Whether an endpoint on a harness-chosen port could not bind it. Warden prints its HTTP endpoints' outcome
    /// before the line that says it serves clients, so that line is awaited (bounded) before the output is read.
    /// </summary>
    private async Task<bool> LostSecondaryPortRaceAsync(CancellationToken cancellationToken)
    {
        if (freePorts.Count == 0) return false;
        if (Kind == ServerKind.Warden)
        {
            await output.WaitForAsync(o => o.Contains("Warden is serving clients on", StringComparison.Ordinal)
                || o.Contains("is up: clients on", StringComparison.Ordinal), TimeSpan.FromSeconds(10), cancellationToken);
        }
        string captured = CapturedOutput;
        return SecondaryPortTaken.Any(line => captured.Contains(line, StringComparison.Ordinal));
    }

    private static int FreePort() => TestPorts.Next();
}

/// <summary>A server did not come up; the message carries its captured output.</summary>
public sealed class ServerStartException(string message) : Exception(message);
