namespace Warden.Cli.Tests.Interactive;

/// <summary>The editing keys, driven through the whole interactive loop against a fake terminal.</summary>
public sealed class EditingTests
{
    private const string Prompt = "[zk: 127.0.0.1:2181(CONNECTED) 0] ";

    [Fact]
    public async Task A_typed_line_is_shown_after_the_prompt_and_run_on_enter()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        terminal.Type("ls /\rquit\r");
        await Run.ToEndAsync(shell, terminal);

        Assert.Equal(["ls /", "quit"], shell.Lines);
        Assert.Equal([Prompt + "ls /", Prompt + "quit"], terminal.Lines);
    }

    [Fact]
    public async Task Cursor_movement_keys_insert_where_the_cursor_is()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        terminal.Type("et /a");
        terminal.Press(ConsoleKey.Home);
        terminal.Type("g");
        terminal.Press(ConsoleKey.End);
        terminal.Type("c");
        terminal.Press(ConsoleKey.LeftArrow);
        terminal.Type("b");
        terminal.Control('a');
        terminal.Press(ConsoleKey.RightArrow, times: 3);
        terminal.Type("Data");
        terminal.Control('e');
        terminal.Type("!");
        terminal.Type("\rquit\r");
        await Run.ToEndAsync(shell, terminal);

        Assert.Equal("getData /abc!", shell.Lines[0]);
    }

    [Fact]
    public async Task Ctrl_chords_work_whether_the_platform_reports_the_character_or_only_the_key()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        terminal.Type("tat /x");
        terminal.ControlWithoutCharacter('a');
        terminal.Type("s");
        terminal.ControlWithoutCharacter('e');
        terminal.Type("y\rquit\r");
        await Run.ToEndAsync(shell, terminal);

        Assert.Equal("stat /xy", shell.Lines[0]);
    }

    [Fact]
    public async Task Backspace_and_delete_remove_the_character_before_and_under_the_cursor()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        terminal.Type("creatte /aa");
        terminal.Press(ConsoleKey.Backspace);
        terminal.Press(ConsoleKey.LeftArrow, times: 4);
        terminal.Press(ConsoleKey.Backspace);
        terminal.Press(ConsoleKey.End);
        terminal.Press(ConsoleKey.LeftArrow);
        terminal.Press(ConsoleKey.Delete);
        terminal.Type("b");
        terminal.Press(ConsoleKey.Home);
        terminal.Press(ConsoleKey.Backspace);
        terminal.Press(ConsoleKey.End);
        terminal.Press(ConsoleKey.Delete);
        terminal.Type("\rquit\r");
        await Run.ToEndAsync(shell, terminal);

        Assert.Equal("create /b", shell.Lines[0]);
        Assert.Equal(Prompt + "create /b", terminal.Lines[0]);
    }

    [Fact]
    public async Task Ctrl_w_deletes_the_word_before_the_cursor_and_the_spaces_after_it()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        terminal.Type("create /a some data  ");
        terminal.Control('w');
        terminal.Type("\r");
        terminal.Type("set /a  x");
        terminal.Control('w');
        terminal.Control('w');
        terminal.Type("/b y\rquit\r");
        await Run.ToEndAsync(shell, terminal);

        Assert.Equal(["create /a some ", "set /b y", "quit"], shell.Lines);
    }

    [Fact]
    public async Task Ctrl_u_deletes_to_the_start_and_ctrl_k_to_the_end()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        terminal.Type("get /wrong/path");
        terminal.Press(ConsoleKey.LeftArrow, times: 10);
        terminal.Control('k');
        terminal.Type("right\r");
        terminal.Type("oops ls /");
        terminal.Press(ConsoleKey.LeftArrow, times: 4);
        terminal.Control('u');
        terminal.Type("\rquit\r");
        await Run.ToEndAsync(shell, terminal);

        Assert.Equal(["get /right", "ls /", "quit"], shell.Lines);
        Assert.Equal(Prompt + "ls /", terminal.Lines[1]);
    }

    [Fact]
    public async Task Ctrl_c_at_the_prompt_abandons_the_line_and_shows_a_fresh_prompt()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        terminal.Type("delete /important");
        terminal.Press(ConsoleKey.LeftArrow, times: 5);
        terminal.Control('c');
        terminal.Type("ls /\rquit\r");
        await Run.ToEndAsync(shell, terminal);

        Assert.Equal(["ls /", "quit"], shell.Lines);
        Assert.Equal([Prompt + "delete /important^C", Prompt + "ls /", Prompt + "quit"], terminal.Lines);
    }

    [Fact]
    public async Task Ctrl_d_on_an_empty_line_ends_the_shell_without_running_anything()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        terminal.Type("ls /");
        terminal.Press(ConsoleKey.Home);
        terminal.Control('d');
        terminal.Control('d');
        terminal.Type("\r");
        terminal.Control('d');
        terminal.Type("never\r");
        await Run.ToEndAsync(shell, terminal);

        // On a non-empty line Ctrl-D deletes the character under the cursor, as in bash.
        Assert.Equal([" /"], shell.Lines);
        Assert.Equal([Prompt + " /", Prompt.TrimEnd()], terminal.Lines);
        Assert.Equal(2, terminal.CursorRow);
    }

    [Fact]
    public async Task The_end_of_input_ends_the_shell()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        terminal.Type("ls /\rget /a");
        terminal.CloseInput();
        await Run.ToEndAsync(shell, terminal);

        Assert.Equal(["ls /"], shell.Lines);
    }

    [Fact]
    public async Task Ctrl_c_while_a_command_runs_cancels_it_and_the_shell_stays()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        var running = Run.Start(shell, terminal);
        terminal.Type("slow\r");
        await shell.SlowStarted.Task.WaitAsync(Run.Bound);
        // Typed while the command runs: kept for the next line, as a terminal keeps typeahead.
        terminal.Type("ls");
        terminal.Control('c');
        await shell.SlowCancelled.Task.WaitAsync(Run.Bound);
        terminal.Type(" /\rquit\r");
        await running;

        Assert.Equal(["slow", "ls /", "quit"], shell.Lines);
        Assert.Equal([Prompt + "slow", "^C", Prompt + "ls /", Prompt + "quit"], terminal.Lines);
    }

    [Fact]
    public async Task Ctrl_l_clears_the_screen_and_redraws_the_line_at_the_top()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        terminal.Type("ls /\rls /zookeeper");
        terminal.Press(ConsoleKey.LeftArrow, times: 9);
        terminal.Control('l');
        terminal.Type("x");
        var running = Run.Start(shell, terminal);
        await terminal.WaitUntilIdleAsync();

        Assert.Equal(1, terminal.ScreenClears);
        Assert.Equal([Prompt + "ls /xzookeeper"], terminal.Lines);
        Assert.Equal((0, Prompt.Length + 5), (terminal.CursorRow, terminal.CursorColumn));
        terminal.Type("\rquit\r");
        await running;
        Assert.Equal("ls /xzookeeper", shell.Lines[1]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_line_wider_than_the_terminal_wraps_and_redraws_without_leftovers(bool deferredWrap)
    {
        const int width = 20;
        var shell = new FakeShell("[zk: x 0] ");
        var terminal = new FakeTerminal(width, deferredWrap);
        var running = Run.Start(shell, terminal);
        // 10 columns of prompt and 29 of text: the cursor waits in the last column.
        terminal.Type("create /abcdef 0123456789abcd");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(["[zk: x 0] create /ab", "cdef 0123456789abcd"], terminal.Lines);
        Assert.Equal((1, 19), (terminal.CursorRow, terminal.CursorColumn));

        // One more fills both rows exactly; the cursor goes to the start of the third on either kind of terminal.
        terminal.Type("X");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(["[zk: x 0] create /ab", "cdef 0123456789abcdX"], terminal.Lines);
        Assert.Equal((2, 0), (terminal.CursorRow, terminal.CursorColumn));

        // Editing at the start pushes every row along; deleting pulls them back and blanks the tail.
        terminal.Press(ConsoleKey.Home);
        terminal.Type("12345");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(["[zk: x 0] 12345creat", "e /abcdef 0123456789", "abcdX"], terminal.Lines);
        Assert.Equal((0, 15), (terminal.CursorRow, terminal.CursorColumn));

        terminal.Control('u');
        terminal.Press(ConsoleKey.End);
        terminal.Press(ConsoleKey.Backspace, times: 14);
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(["[zk: x 0] create /ab", "cdef 0"], terminal.Lines);
        Assert.Equal((1, 6), (terminal.CursorRow, terminal.CursorColumn));

        // Moving across the wrap point keeps the cursor on the right row.
        terminal.Press(ConsoleKey.LeftArrow, times: 7);
        terminal.Type("_");
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(["[zk: x 0] create /a_", "bcdef 0"], terminal.Lines);
        Assert.Equal((1, 0), (terminal.CursorRow, terminal.CursorColumn));

        terminal.Type("\rquit\r");
        await running;
        Assert.Equal("create /a_bcdef 0", shell.Lines[0]);
        Assert.Equal(["[zk: x 0] create /a_", "bcdef 0", "[zk: x 0] quit"], terminal.Lines);
    }
}
