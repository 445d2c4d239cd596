using System.Text;
using Warden.Client;
using Warden.Testing;

namespace Warden.Cli.Tests.Interactive;

/// <summary>Tab on znode paths, answered by a real Warden server.</summary>
public sealed class PathCompletionTests : IAsyncLifetime
{
    private const string Prompt = "[zk: 127.0.0.1:2181(CONNECTED) 0] ";
    private ServerProcess? server;
    private ZooKeeperClient? client;

    public async Task InitializeAsync()
    {
        server = await ServerProcess.StartAsync(ServerKind.Warden);
        client = await ZooKeeperClient.ConnectAsync(server.ConnectString, TimeSpan.FromSeconds(10)).WaitAsync(Run.Bound);
        foreach (var path in new[] { "/alpha", "/alpha/one", "/beta", "/bar", "/bar/x", "/bar/y" })
        {
            await client.CreateAsync(path, Encoding.UTF8.GetBytes("d")).WaitAsync(Run.Bound);
        }
    }

    public async Task DisposeAsync()
    {
        if (client is not null)
        {
            await client.DisposeAsync();
        }
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_unique_segment_completes_with_a_slash_when_the_node_has_children_and_a_space_when_not()
    {
        var shell = new FakeShell { Client = client };
        var terminal = new FakeTerminal();
        var running = Run.Start(shell, terminal);
        terminal.Type("get /al\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(Prompt + "get /alpha/", terminal.CursorLine);

        terminal.Type("\t");
        await terminal.WaitUntilIdleAsync();
        // A leaf: the path is done, and a space is typed for the next argument.
        Assert.Equal(Prompt + "get /alpha/one", terminal.CursorLine);
        Assert.Equal(Prompt.Length + "get /alpha/one ".Length, terminal.CursorColumn);

        terminal.Type("\rcreate -e /be\t");
        terminal.Type("/child\r");
        terminal.Type("quit\r");
        await running;
        Assert.Equal(["get /alpha/one ", "create -e /beta /child", "quit"], shell.Lines);
    }

    [Fact]
    public async Task Several_children_complete_their_common_prefix_and_a_second_tab_lists_their_names()
    {
        var shell = new FakeShell { Client = client };
        var terminal = new FakeTerminal();
        var running = Run.Start(shell, terminal);
        terminal.Type("ls /b\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal([Prompt + "ls /b"], terminal.Lines);

        terminal.Type("\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal([Prompt + "ls /b", "bar   beta", Prompt + "ls /b"], terminal.Lines);

        terminal.Type("ar/\t");
        await terminal.WaitUntilIdleAsync();
        terminal.Type("\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal("x  y", terminal.Lines[^2]);
        Assert.Equal(Prompt + "ls /bar/", terminal.CursorLine);

        terminal.Control('u');
        terminal.Type("stat /\t\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal("alpha".PadRight(11) + "bar".PadRight(11) + "beta".PadRight(11) + "zookeeper", terminal.Lines[^2]);

        terminal.Control('u');
        terminal.Type("ls /nothing/her\t\t");
        terminal.Type("\rquit\r");
        await running;
        Assert.Equal(["ls /nothing/her", "quit"], shell.Lines);
    }

    [Fact]
    public async Task Paths_are_not_completed_for_commands_that_take_none()
    {
        var shell = new FakeShell { Client = client };
        var terminal = new FakeTerminal();
        var running = Run.Start(shell, terminal);
        terminal.Type("connect /al\t\t");
        await terminal.WaitUntilIdleAsync();
        terminal.Control('u');
        terminal.Type("version /al\t\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal([Prompt + "version /al"], terminal.Lines);
        terminal.Type("\rquit\r");
        await running;
    }

    [Fact]
    public async Task A_client_whose_server_is_gone_gives_no_candidates_and_no_errors()
    {
        var shell = new FakeShell { Client = client };
        await server!.DisposeAsync();
        var terminal = new FakeTerminal();
        terminal.Type("ls /al\t\t\rquit\r");
        await Run.ToEndAsync(shell, terminal);
        Assert.Equal([Prompt + "ls /al", Prompt + "quit"], terminal.Lines);
        server = null;
    }
}
