using Warden.Cli.Shell;
using Warden.Testing;

namespace Warden.Cli.Tests;

/// <summary>
/// The shell's own behaviour where it departs from zkCli on purpose (see the README), run in-process against a
/// Warden server so each line's output can be checked.
/// </summary>
public sealed class SessionTests
{
    private sealed class Shell : IAsyncDisposable
    {
        public readonly StringWriter Out = new();
        public readonly StringWriter Err = new();
        public readonly ShellSession Session;

        private Shell(string server) => Session = new ShellSession(new ShellSettings(server, 10000), Out, Err);

        /// <summary>A shell whose session to <paramref name="server"/> has been asked for.</summary>
        public static async Task<Shell> ConnectAsync(ServerProcess server)
        {
            var shell = new Shell(server.ConnectString);
            Assert.True(await shell.Session.ConnectAsync(server.ConnectString));
            return shell;
        }

        public async Task<string> RunAsync(string line)
        {
            int outAt = Out.GetStringBuilder().Length, errAt = Err.GetStringBuilder().Length;
            await Session.ExecuteLineAsync(line, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            return Out.ToString()[outAt..] + Err.ToString()[errAt..];
        }

        public ValueTask DisposeAsync() => Session.DisposeAsync();
    }

    [Fact]
    public async Task InputsThatEndZkCliGetAMessageAndTheShellCarriesOn()
    {
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden);
        await using var shell = await Shell.ConnectAsync(server);
        await shell.RunAsync("create /a x");
        Assert.Equal("Command index must be a number: abc\n", await shell.RunAsync("redo abc"));
        Assert.Equal(1, shell.Session.ExitCode);
        Assert.Equal("-v argument must be an int value, not \"abc\"\n", await shell.RunAsync("delete -v abc /a"));
        Assert.Equal("-v argument must be an int value, not \"x\"\n", await shell.RunAsync("set -v x /a d"));
        Assert.Equal("x\n", await shell.RunAsync("get /a"));
        Assert.Equal(0, shell.Session.ExitCode);
    }

    [Fact]
    public async Task HelpListsTheCommandsAndSucceeds()
    {
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden);
        await using var shell = await Shell.ConnectAsync(server);
        int outAt = shell.Out.GetStringBuilder().Length, errAt = shell.Err.GetStringBuilder().Length;
        string help = await shell.RunAsync("help");
        Assert.Equal(0, shell.Session.ExitCode);
        foreach (var command in CommandTable.All) Assert.Contains($"\t{command.Name} {command.Usage}\n", help);
        // On stderr, where zkCli.sh prints its usage (checked against 3.8.0: `zkCli.sh help 2>/dev/null` prints no usage).
        Assert.Equal(help, shell.Err.ToString()[errAt..]);
        Assert.Equal("", shell.Out.ToString()[outAt..]);
    }

    [Fact]
    public async Task BlankLinesAreNotCommands()
    {
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden);
        await using var shell = await Shell.ConnectAsync(server);
        await shell.RunAsync("create /b y");
        int before = shell.Session.CommandCount;
        Assert.Equal("", await shell.RunAsync("   "));
        Assert.Equal(before, shell.Session.CommandCount);
        Assert.EndsWith($"{before - 1} - create /b y\n{before} - history\n", await shell.RunAsync("history"));
    }

    [Fact]
    public async Task EndingTheInputClosesTheSessionQuietly()
    {
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden);
        await using var shell = await Shell.ConnectAsync(server);
        await shell.RunAsync("create -e /mine x");
        int printed = shell.Out.GetStringBuilder().Length;
        await shell.Session.EndAsync();
        Assert.Equal("", shell.Out.ToString()[printed..]);
        await using var other = await Shell.ConnectAsync(server);
        Assert.EndsWith("\n[zookeeper]\n", await other.RunAsync("ls /"));
    }

    [Fact]
    public async Task ThePromptFollowsTheConnection()
    {
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden);
        await using var shell = await Shell.ConnectAsync(server);
        Assert.True(await shell.Session.SettleAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal($"[zk: {server.ConnectString}(CONNECTED) 0] ", shell.Session.Prompt);
        await shell.RunAsync("close");
        Assert.Equal($"[zk: {server.ConnectString}(CLOSED) 1] ", shell.Session.Prompt);
        Assert.Equal("Not connected\n", await shell.RunAsync("ls /"));
        await shell.RunAsync("connect");
        Assert.True(await shell.Session.SettleAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal($"[zk: {server.ConnectString}(CONNECTED) 3] ", shell.Session.Prompt);
    }
}
