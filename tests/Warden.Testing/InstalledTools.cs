namespace Warden.Testing;

/// <summary>
/// Where the oracle and the third-party clients live. Debian's packages put them at fixed
/// paths (`zookeeper`, `zookeeper-bin`, `python3-kazoo`); each can be overridden by an
/// environment variable for a machine that installs them elsewhere.
/// </summary>
public static class InstalledTools
{
    /// <summary>The JVM that runs Apache ZooKeeper and zkCli.sh (WARDEN_JAVA).</summary>
    public static string Java => FromEnvironment("WARDEN_JAVA", "/usr/bin/java");

    /// <summary>Apache's Java shell (WARDEN_ZKCLI).</summary>
    public static string ZkCli => FromEnvironment("WARDEN_ZKCLI", "/usr/share/zookeeper/bin/zkCli.sh");

    /// <summary>The C client's shell, multi-threaded build (WARDEN_CLI_MT).</summary>
    public static string CliMt => FromEnvironment("WARDEN_CLI_MT", "/usr/lib/zookeeper/bin/cli_mt");

    /// <summary>
    /// The Python that has kazoo (WARDEN_PYTHON). Debian's kazoo is installed for the system
    /// interpreter only, so this is deliberately not whatever `python3` is first on PATH.
    /// </summary>
    public static string Python => FromEnvironment("WARDEN_PYTHON", "/usr/bin/python3");

    /// <summary>
    /// The Apache ZooKeeper class path, as Debian's zkEnv.sh builds it: the server jar, whose
    /// manifest names every dependency. slf4j-simple is added when present so that the server's
    /// log reaches stderr (and so our captured output) instead of the no-op logger.
    /// </summary>
    public static string ApacheClassPath
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("WARDEN_ZK_CLASSPATH");
            if (!string.IsNullOrEmpty(configured))
            {
                return configured;
            }
            var parts = new List<string> { "/usr/share/java/zookeeper.jar" };
            if (File.Exists("/usr/share/java/slf4j-simple.jar"))
            {
                parts.Add("/usr/share/java/slf4j-simple.jar");
            }
            return string.Join(Path.PathSeparator, parts);
        }
    }

    /// <summary>
    /// warden.dll from the test output directory, where the project reference to Warden.Cli
    /// puts it (WARDEN_DLL overrides).
    /// </summary>
    public static string WardenDll =>
        FromEnvironment("WARDEN_DLL", Path.Combine(AppContext.BaseDirectory, "warden.dll"));

    /// <summary>Fails with the package to install when a tool is missing.</summary>
    public static string Require(string path, string debianPackage)
    {
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"{path} is missing; install the Debian package '{debianPackage}' (apt-get install {debianPackage}) " +
                "or point the matching WARDEN_* environment variable at it.");
        }
        return path;
    }

    private static string FromEnvironment(string name, string fallback)
    {
        var value = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrEmpty(value) ? fallback : value;
    }
}
