using Warden.Testing;

namespace Warden.Cli.Tests.Interactive;

/// <summary>
/// `warden cli` in a real pseudo-terminal (a tmux pane), typed at as a person would: the editor, completion,
/// history, Ctrl-C and Ctrl-D through the real console, and a server restart under the running shell.
/// The shell reaches the server through a <see cref="ForwardingProxy"/>, so the restarted server (which gets a
/// new port) is the same address to it.
/// </summary>
public sealed class TerminalTests : IAsyncLifetime
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("warden-cli-tmux-data-").FullName;
    private readonly string home = Directory.CreateTempSubdirectory("warden-cli-tmux-home-").FullName;
    private ServerProcess? server;
    private ForwardingProxy? proxy;
    private TmuxPane? pane;

    private Dictionary<string, string> Config => new() { ["dataDir"] = dataDirectory.Replace('\\', '/') };

    public async Task InitializeAsync()
    {
        server = await ServerProcess.StartAsync(ServerKind.Warden, Config);
        proxy = new ForwardingProxy(server.EndPoint);
    }

    public async Task DisposeAsync()
    {
        if (pane is not null)
        {
            await pane.DisposeAsync();
        }
        if (proxy is not null)
        {
            await proxy.DisposeAsync();
        }
        if (server is not null)
        {
            await server.DisposeAsync();
        }
        foreach (var directory in new[] { dataDirectory, home })
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private string Prompt(string state, int number) => $"[zk: {proxy!.ConnectString}({state}) {number}] ";

    [Fact]
    public async Task The_interactive_shell_works_in_a_real_terminal_and_follows_a_server_restart()
    {
        // HOME is a fresh directory so the history file is this test's own.
        // The exit status is printed by the pane's shell: tmux may not reap the process, so it cannot always say.
        var command = $"env HOME='{home}' dotnet '{InstalledTools.Require(InstalledTools.WardenDll, "(build Warden.Cli)")}' " +
                      $"cli -server {proxy!.ConnectString}; echo \"warden cli exited with status $?\"";
        pane = await TmuxPane.StartAsync(command, width: 150, height: 50);
        // The shell prints the connection's SyncConnected event on its own, maybe after the first prompt; the
        // prompt is drawn again below it. Typing before that would race the event's text.
        await pane.WaitForAsync(
            s => s.Contains("WatchedEvent state:SyncConnected type:None path:null") && TmuxPane.LastLine(s) == Prompt("CONNECTED", 0).TrimEnd(),
            "the connected prompt below the SyncConnected event");

        await pane.TypeAsync("create /a x");
        await pane.PressAsync("Enter");
        var screen = await pane.WaitForLastLineAsync(Prompt("CONNECTED", 1));
        Assert.Contains("Created /a", screen);
        await pane.TypeAsync("ls /");
        await pane.PressAsync("Enter");
        screen = await pane.WaitForLastLineAsync(Prompt("CONNECTED", 2));
        Assert.Contains("[a, zookeeper]", screen);

        // Tab completes a command name...
        await pane.TypeAsync("getAllC");
        await pane.PressAsync("Tab");
        await pane.WaitForLastLineAsync(Prompt("CONNECTED", 2) + "getAllChildrenNumber");
        await pane.TypeAsync("/a");
        await pane.PressAsync("Enter");
        screen = await pane.WaitForLastLineAsync(Prompt("CONNECTED", 3));
        Assert.Equal("0", RowAbovePrompt(screen));

        // ... and a path, from the server; Ctrl-C then abandons the line.
        await pane.TypeAsync("get /zo");
        await pane.PressAsync("Tab");
        await pane.WaitForLastLineAsync(Prompt("CONNECTED", 3) + "get /zookeeper/");
        await pane.PressAsync("C-c");
        screen = await pane.WaitForLastLineAsync(Prompt("CONNECTED", 3));
        Assert.Contains(Prompt("CONNECTED", 3) + "get /zookeeper/^C", screen);

        // Up brings back the last command run, not the abandoned line.
        await pane.PressAsync("Up");
        await pane.WaitForLastLineAsync(Prompt("CONNECTED", 3) + "getAllChildrenNumber /a");
        await pane.PressAsync("Enter");
        await pane.WaitForLastLineAsync(Prompt("CONNECTED", 4));

        // The server goes away under the shell: the prompt says so without a key being pressed. Its address
        // stops answering rather than refusing, so a reconnect attempt waits instead of failing the next
        // command with a connection loss...
        proxy.Hold();
        await server!.DisposeAsync();
        server = null;
        var connecting = $"[zk: {proxy.ConnectString}(CONNECTING";
        await pane.WaitForAsync(s => TmuxPane.LastLine(s).StartsWith(connecting, StringComparison.Ordinal), "the prompt to show CONNECTING");
        // A command now waits for the connection; Ctrl-C gives up on it and the shell stays.
        await pane.TypeAsync("ls /");
        await pane.PressAsync("Enter");
        await pane.WaitForAsync(s => s.Any(l => l.StartsWith(connecting, StringComparison.Ordinal) && l.EndsWith(" 4] ls /", StringComparison.Ordinal)),
            "ls / to be running");
        await pane.PressAsync("C-c");
        screen = await pane.WaitForAsync(s => TmuxPane.LastLine(s).StartsWith(connecting, StringComparison.Ordinal) && TmuxPane.LastLine(s).EndsWith(" 5]", StringComparison.Ordinal),
            "a fresh prompt after Ctrl-C");
        Assert.Contains(screen, l => l.StartsWith("interrupted", StringComparison.Ordinal));
        // ... and when it is back on the same data, the same session carries on.
        server = await ServerProcess.StartAsync(ServerKind.Warden, Config);
        proxy.Retarget(server.EndPoint);
        await pane.WaitForLastLineAsync(Prompt("CONNECTED", 5));
        await pane.TypeAsync("get /a");
        await pane.PressAsync("Enter");
        screen = await pane.WaitForLastLineAsync(Prompt("CONNECTED", 6));
        Assert.Equal("x", RowAbovePrompt(screen));

        // A line wider than the window wraps, and editing its start redraws both rows.
        var longValue = new string('y', 160);
        await pane.TypeAsync("set /a " + longValue);
        await pane.PressAsync("Home");
        await pane.TypeAsync("#");
        var expected = Prompt("CONNECTED", 6) + "#set /a " + longValue;
        screen = await pane.WaitForAsync(s => s.Count >= 2 && string.Concat(s.Where(l => l.Length > 0).TakeLast(2)) == expected,
            "the long line on two rows");
        Assert.Equal(150, screen.Where(l => l.Length > 0).TakeLast(2).First().Length);
        await pane.PressAsync("C-c");
        await pane.WaitForLastLineAsync(Prompt("CONNECTED", 6));

        // Ctrl-D on the empty line ends the shell.
        await pane.PressAsync("C-d");
        screen = await pane.WaitForAsync(s => s.Any(l => l.StartsWith("warden cli exited", StringComparison.Ordinal)), "warden cli to exit");
        var exited = screen.ToList().FindIndex(l => l.StartsWith("warden cli exited", StringComparison.Ordinal));
        Assert.Equal("warden cli exited with status 0", screen[exited]);
        Assert.Equal(Prompt("CONNECTED", 6).TrimEnd(), screen[exited - 1]);
        Assert.Contains("getAllChildrenNumber /a", File.ReadAllLines(Path.Combine(home, ".warden_cli_history")));
    }

    /// <summary>The row just above the last non-empty one (the prompt): the last line a command printed.</summary>
    private static string RowAbovePrompt(IReadOnlyList<string> screen)
    {
        var last = screen.Count - 1;
        while (last > 0 && screen[last].Length == 0)
        {
            last--;
        }
        return last > 0 ? screen[last - 1] : "";
    }
}
