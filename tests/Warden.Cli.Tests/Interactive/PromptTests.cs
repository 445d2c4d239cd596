namespace Warden.Cli.Tests.Interactive;

/// <summary>The prompt follows the connection while the user types.</summary>
public sealed class PromptTests
{
    private const string Connected = "[zk: 127.0.0.1:2181(CONNECTED) 0] ";
    private const string Connecting = "[zk: 127.0.0.1:2181(CONNECTING) 0] ";

    [Fact]
    public async Task A_prompt_change_while_typing_redraws_the_line_keeping_the_text_and_the_cursor()
    {
        var shell = new FakeShell(Connected);
        var terminal = new FakeTerminal();
        var running = Run.Start(shell, terminal);
        terminal.Type("ls /ab");
        terminal.Press(ConsoleKey.LeftArrow);
        await terminal.WaitUntilIdleAsync();

        terminal.ExpectNewRead();
        await shell.ChangePromptAsync(Connecting);
        await terminal.WaitUntilIdleAsync();
        Assert.Equal([Connecting + "ls /ab"], terminal.Lines);
        Assert.Equal((0, Connecting.Length + 5), (terminal.CursorRow, terminal.CursorColumn));

        // Back to the shorter prompt: the old line's last column is blanked.
        terminal.ExpectNewRead();
        await shell.ChangePromptAsync(Connected);
        await terminal.WaitUntilIdleAsync();
        Assert.Equal([Connected + "ls /ab"], terminal.Lines);
        Assert.Equal((0, Connected.Length + 5), (terminal.CursorRow, terminal.CursorColumn));

        terminal.Type("X\rquit\r");
        await running;
        Assert.Equal(["ls /aXb", "quit"], shell.Lines);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_prompt_change_redraws_a_wrapped_line_without_leftovers(bool deferredWrap)
    {
        var shell = new FakeShell("[zk: h(CONNECTING) 1] ");
        var terminal = new FakeTerminal(width: 30, deferredWrap);
        var running = Run.Start(shell, terminal);
        terminal.Type("get /abcdefgh");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(["[zk: h(CONNECTING) 1] get /abc", "defgh"], terminal.Lines);

        terminal.ExpectNewRead();
        await shell.ChangePromptAsync("[zk: h(OK) 1] ");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(["[zk: h(OK) 1] get /abcdefgh"], terminal.Lines);
        Assert.Equal((0, 27), (terminal.CursorRow, terminal.CursorColumn));

        terminal.ExpectNewRead();
        await shell.ChangePromptAsync("[zk: h(RECONNECTING) 2] ");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(["[zk: h(RECONNECTING) 2] get /a", "bcdefgh"], terminal.Lines);
        Assert.Equal((1, 7), (terminal.CursorRow, terminal.CursorColumn));

        terminal.Type("\rquit\r");
        await running;
        Assert.Equal(["get /abcdefgh", "quit"], shell.Lines);
    }

    [Theory]
    [InlineData(80)]
    [InlineData(30)]
    public async Task Output_the_shell_prints_while_the_user_types_takes_the_line_s_place_and_the_line_is_drawn_below(int width)
    {
        var shell = new FakeShell(Connected);
        var terminal = new FakeTerminal(width);
        var running = Run.Start(shell, terminal);
        terminal.Type("get /w");
        await terminal.WaitUntilIdleAsync();

        // What the session does when a watch fires: hand the text over from its own thread, then signal the prompt.
        terminal.ExpectNewRead();
        await shell.PrintEventAsync("\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged path:/w");
        await terminal.WaitUntilIdleAsync();
        var edited = Connected + "get /w";
        const string watched = "WatchedEvent state:SyncConnected type:NodeDataChanged path:/w";
        int eventRows = (watched.Length + width - 1) / width;
        Assert.Equal(["", "WATCHER::", ""], terminal.Lines.Take(3).Select(l => l.TrimEnd()));
        // The event, then the edited line (each wrapped or not), with nothing left of the line's old rows.
        Assert.Equal(watched, string.Concat(terminal.Lines.Skip(3).Take(eventRows)));
        Assert.Equal(edited, string.Concat(terminal.Lines.Skip(3 + eventRows)));
        Assert.Equal(3 + eventRows + edited.Length / width, terminal.CursorRow);

        terminal.Type("x\rquit\r");
        await running;
        Assert.Equal(["get /wx", "quit"], shell.Lines);
    }

    [Fact]
    public async Task A_prompt_change_during_a_command_shows_at_the_next_prompt()
    {
        var shell = new FakeShell(Connected);
        var terminal = new FakeTerminal();
        var running = Run.Start(shell, terminal);
        terminal.Type("slow\r");
        await shell.SlowStarted.Task.WaitAsync(Run.Bound);
        await shell.ChangePromptAsync(Connecting);
        terminal.Control('c');
        await shell.SlowCancelled.Task.WaitAsync(Run.Bound);
        terminal.Type("quit\r");
        await running;

        Assert.Equal([Connected + "slow", "^C", Connecting + "quit"], terminal.Lines);
    }
}
