namespace Warden.Cli.Tests.Interactive;

/// <summary>Tab on command names and options, which need no server.</summary>
public sealed class CompletionTests
{
    private const string Prompt = "[zk: 127.0.0.1:2181(CONNECTED) 0] ";

    [Fact]
    public async Task A_unique_command_prefix_completes_to_the_command_and_a_space()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        terminal.Type("cr\t/x\rgetE\t/y\rquit\r");
        await Run.ToEndAsync(shell, terminal);

        Assert.Equal(["create /x", "getEphemerals /y", "quit"], shell.Lines);
    }

    [Fact]
    public async Task Several_commands_complete_their_common_prefix_and_a_second_tab_lists_them()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        var running = Run.Start(shell, terminal);
        terminal.Type("de\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal([Prompt + "del"], terminal.Lines);

        terminal.Type("\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal([Prompt + "del", "delete     deleteall  delquota", Prompt + "del"], terminal.Lines);
        Assert.Equal((2, Prompt.Length + 3), (terminal.CursorRow, terminal.CursorColumn));

        terminal.Control('u');
        terminal.Type("get\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(3, terminal.Lines.Count);
        terminal.Type("\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(
            [
                Prompt + "del", "delete     deleteall  delquota", Prompt + "get",
                "get".PadRight(22) + "getAllChildrenNumber", "getAcl".PadRight(22) + "getEphemerals", Prompt + "get",
            ],
            terminal.Lines);

        terminal.Type("A\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(Prompt + "getA", terminal.CursorLine);
        terminal.Type("c\t/\rquit\r");
        await running;
        Assert.Equal(["getAcl /", "quit"], shell.Lines);
    }

    [Fact]
    public async Task Options_complete_from_the_commands_own_options()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        var running = Run.Start(shell, terminal);
        terminal.Type("ls -\t\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal([Prompt + "ls -", "-R  -s  -w", Prompt + "ls -"], terminal.Lines);

        terminal.Control('u');
        terminal.Type("create -s -t\t100 /x\r");
        terminal.Type("stat -\t/y\r");
        terminal.Type("quit\r");
        await running;
        Assert.Equal(["create -s -t 100 /x", "stat -w /y", "quit"], shell.Lines);
    }

    [Fact]
    public async Task Connect_and_unknown_commands_complete_nothing()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        var running = Run.Start(shell, terminal);
        terminal.Type("connect 127.0\t\t -\t\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal([Prompt + "connect 127.0 -"], terminal.Lines);

        terminal.Control('u');
        terminal.Type("frobnicate -\t\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal([Prompt + "frobnicate -"], terminal.Lines);

        terminal.Control('u');
        terminal.Type("zz\t\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal([Prompt + "zz"], terminal.Lines);
        terminal.Control('c');
        terminal.Type("quit\r");
        await running;
    }

    [Fact]
    public async Task Without_a_client_paths_complete_to_nothing_and_print_nothing()
    {
        var shell = new FakeShell { Client = null };
        var terminal = new FakeTerminal();
        var running = Run.Start(shell, terminal);
        terminal.Type("ls /zoo\t\t\t");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal([Prompt + "ls /zoo"], terminal.Lines);
        terminal.Type("\rquit\r");
        await running;
        Assert.Equal(["ls /zoo", "quit"], shell.Lines);
    }

    [Fact]
    public async Task Completion_works_in_the_middle_of_a_line()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        terminal.Type(" /a");
        terminal.Press(ConsoleKey.Home);
        terminal.Type("sy\t");
        terminal.Type("\rquit\r");
        await Run.ToEndAsync(shell, terminal);

        // "sync " replaces "sy"; the space typed before stays, so there are two.
        Assert.Equal(["sync  /a", "quit"], shell.Lines);
    }
}
