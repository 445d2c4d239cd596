using Warden.Client;

namespace Warden.Cli.Shell;

/// <summary>
/// `warden cli [-server host:port[,...][/chroot]] [-timeout ms] [-r] [-waitforconnection] [command args]`:
/// zkCli's command line. With a command it runs that one and exits with its status; otherwise it reads
/// commands from the terminal (with line editing, history and completion) or, when standard input is not a
/// terminal, line by line from it, as zkCli does for scripts.
/// </summary>
public static class ShellProgram
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextReader input, TextWriter output, TextWriter error,
        bool inputIsTerminal, CancellationToken cancellationToken)
    {
        if (!TryParse(args, error, out var settings, out var command, out bool help)) return 2;
        if (help)
        {
            output.WriteLine("usage: warden cli [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r] [-waitforconnection] [command args]");
            output.WriteLine("Runs one command and exits, or reads commands (interactively, or from standard input when it is not a terminal).");
            output.WriteLine("Type \"help\" in the shell for the commands.");
            return 0;
        }
        output.WriteLine($"Connecting to {settings.Server}");
        // zkCli greets after its connection is made when told to wait for it, and otherwise before the connected
        // event can arrive; printed here in the same place, the banner and the event never swap.
        if (command.Count == 0 && !settings.WaitForConnection) output.WriteLine("Welcome to ZooKeeper!");
        output.Flush();
        await using var session = new ShellSession(settings, output, error);
        if (!await session.ConnectAsync(settings.Server, cancellationToken).ConfigureAwait(false)) return 1;
        if (command.Count > 0)
        {
            await session.ExecuteWordsAsync(command, cancellationToken).ConfigureAwait(false);
            await CloseAsync(session).ConfigureAwait(false);
            return session.ExitCode;
        }
        if (settings.WaitForConnection)
        {
            await session.Client!.WhenEventsDeliveredAsync().ConfigureAwait(false);
            output.WriteLine("Welcome to ZooKeeper!");
            output.Flush();
        }
        if (inputIsTerminal)
        {
            // Say at once when nothing answers, rather than leaving the user to find out from the first command.
            if (!await session.SettleAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false) && session.Client is { } client &&
                !client.State.IsConnectedOrTerminal())
            {
                error.WriteLine(session.ConnectionProblem() + "; still trying (the prompt shows the retries)");
            }
            // The line editor needs the console at both ends; with output redirected, a plain prompt reads lines.
            if (Interactive.InteractiveShell.IsSupported)
            {
                await Interactive.InteractiveShell.RunAsync(session, new Interactive.InteractiveOptions(), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await ReadLinesAsync(session, input, output, showPrompt: true, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            await ReadLinesAsync(session, input, output, showPrompt: false, cancellationToken).ConfigureAwait(false);
        }
        await CloseAsync(session).ConfigureAwait(false);
        return session.ExitCode;
    }

    private static async Task ReadLinesAsync(ShellSession session, TextReader input, TextWriter output, bool showPrompt, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (showPrompt)
            {
                output.Write(session.Prompt);
                output.Flush();
            }
            string? line = await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null) break;
            if (!await session.ExecuteLineAsync(line, cancellationToken).ConfigureAwait(false)) break;
        }
    }

    private static Task CloseAsync(ShellSession session) => session.EndAsync();

    /// <summary>
    /// zkCli's option loop: -server, -timeout, -r, -waitforconnection (and -client-configuration, which is read
    /// and refused) before the first word that is not an option, which starts the command.
    /// </summary>
    public static bool TryParse(IReadOnlyList<string> args, TextWriter error, out ShellSettings settings, out List<string> command, out bool help)
    {
        settings = new ShellSettings();
        command = [];
        help = false;
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string option = args[i];
            if (option.StartsWith("-D", StringComparison.Ordinal) && option.Length > 2)
            {
                // The JVM options zkCli.sh takes through CLIENT_JVMFLAGS, given here on the command line.
                int equals = option.IndexOf('=');
                if (equals < 0) properties[option[2..]] = "";
                else properties[option[2..equals]] = option[(equals + 1)..];
                continue;
            }
            string? Next()
            {
                if (i + 1 < args.Count) return args[++i];
                error.WriteLine($"Error: no argument found for option {option}");
                return null;
            }
            switch (option)
            {
                case "-server":
                    if (Next() is not { } server) return false;
                    settings = settings with { Server = server };
                    continue;
                case "-timeout":
                    if (Next() is not { } timeout) return false;
                    if (!int.TryParse(timeout, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int ms) || ms <= 0)
                    {
                        error.WriteLine($"Error: -timeout takes a session timeout in milliseconds, such as 30000, not \"{timeout}\"");
                        return false;
                    }
                    settings = settings with { TimeoutMs = ms };
                    continue;
                case "-r":
                    settings = settings with { ReadOnly = true };
                    continue;
                case "-waitforconnection":
                    settings = settings with { WaitForConnection = true };
                    continue;
                case "-client-configuration":
                    if (Next() is null) return false;
                    error.WriteLine("Error: -client-configuration (a Java client properties file) is not supported by warden cli");
                    return false;
                case "-h" or "-help" or "--help" or "-?":
                    help = true;
                    return true;
            }
            if (!option.StartsWith('-'))
            {
                command = [.. args.Skip(i)];
                break;
            }
            // zkCli ignores options it does not know; say so rather than silently.
            error.WriteLine($"warning: ignoring unknown option {option}");
        }
        if (!TryReadSaslLogin(properties, error, out var login)) return false;
        if (!TryReadTls(properties, error, out var tls)) return false;
        settings = settings with { Sasl = login, Tls = tls };
        return true;
    }

    /// <summary>
    /// TLS as Apache's Java client takes it: -Dzookeeper.client.secure=true, with the key store (a client certificate,
    /// for servers with ssl.clientAuth=want or need) and trust store of -Dzookeeper.ssl.keyStore.location/.password/.type
    /// and -Dzookeeper.ssl.trustStore.location/.password/.type, PEM or PKCS12; -Dzookeeper.ssl.hostnameVerification=false
    /// accepts a server certificate that does not name the host. (zookeeper.clientCnxnSocket, which Java needs set to
    /// its Netty socket for TLS, is accepted and not needed.)
    /// </summary>
    public static bool TryReadTls(IReadOnlyDictionary<string, string> properties, TextWriter error, out ZooKeeperTlsOptions? tls)
    {
        tls = null;
        if (!string.Equals(properties.GetValueOrDefault("zookeeper.client.secure"), "true", StringComparison.OrdinalIgnoreCase)) return true;
        string? Get(string name) => properties.GetValueOrDefault("zookeeper.ssl." + name);
        try
        {
            tls = ZooKeeperTlsOptions.FromStores(Get("keyStore.location"), Get("keyStore.password"), Get("keyStore.type"),
                Get("trustStore.location"), Get("trustStore.password"), Get("trustStore.type"));
        }
        catch (CertificateStoreException e)
        {
            error.WriteLine($"Error: {e.Message}");
            return false;
        }
        tls.HostnameVerification = !string.Equals(Get("hostnameVerification"), "false", StringComparison.OrdinalIgnoreCase);
        return true;
    }

    /// <summary>
    /// The SASL login Apache's Java client makes: with -Djava.security.auth.login.config=FILE, the "Client" section
    /// (or -Dzookeeper.sasl.clientconfig=NAME) gives username and password for DIGEST-MD5;
    /// -Dzookeeper.sasl.client=false turns it off.
    /// <code>
    /// Client {
    ///     org.apache.zookeeper.server.auth.DigestLoginModule required
    ///     username="bob"
    ///     password="bobsecret";
    /// };
    /// </code>
    /// </summary>
    public static bool TryReadSaslLogin(IReadOnlyDictionary<string, string> properties, TextWriter error, out SaslLogin? login)
    {
        login = null;
        if (!properties.TryGetValue("java.security.auth.login.config", out var path)) return true;
        if (properties.GetValueOrDefault("zookeeper.sasl.client") == "false") return true;
        string sectionName = properties.GetValueOrDefault("zookeeper.sasl.clientconfig") ?? "Client";
        Warden.Server.Security.JaasFile jaas;
        try
        {
            jaas = Warden.Server.Security.JaasFile.Load(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            error.WriteLine($"Error: cannot read the JAAS file {path}: {e.Message}");
            return false;
        }
        var section = jaas.Section(sectionName);
        var options = section?.SelectMany(entry => entry.Options).GroupBy(o => o.Key).ToDictionary(g => g.Key, g => g.First().Value);
        if (options is null || !options.TryGetValue("username", out var user) || !options.TryGetValue("password", out var password))
        {
            error.WriteLine($"Error: the JAAS file {path} has no '{sectionName}' section with username=\"...\" and password=\"...\" " +
                "(warden cli logs in with DIGEST-MD5 only; Kerberos is not supported)");
            return false;
        }
        login = new SaslLogin(user, password);
        return true;
    }
}

internal static class ConnectionStateExtensions
{
    public static bool IsConnectedOrTerminal(this Warden.Client.ConnectionState state) =>
        Warden.Client.ConnectionStates.IsConnected(state) || Warden.Client.ConnectionStates.IsTerminal(state);
}
