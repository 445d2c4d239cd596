using Warden.Cli.Shell.Interactive;

namespace Warden.Cli.Tests.Interactive;

public sealed class HistoryTests : IDisposable
{
    private const string Prompt = "[zk: 127.0.0.1:2181(CONNECTED) 0] ";
    private readonly string directory = Directory.CreateTempSubdirectory("warden-cli-history-").FullName;

    private string HistoryPath => Path.Combine(directory, "history");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task Up_and_down_walk_the_history_and_come_back_to_the_line_being_typed()
    {
        var shell = new FakeShell();
        var terminal = new FakeTerminal();
        var running = Run.Start(shell, terminal);
        terminal.Type("ls /\rget /a\rstat /b");
        terminal.Press(ConsoleKey.UpArrow);
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(Prompt + "get /a", terminal.CursorLine);
        Assert.Equal(Prompt.Length + 6, terminal.CursorColumn);

        terminal.Press(ConsoleKey.UpArrow, times: 3);
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(Prompt + "ls /", terminal.CursorLine);

        terminal.Press(ConsoleKey.DownArrow);
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(Prompt + "get /a", terminal.CursorLine);

        terminal.Press(ConsoleKey.DownArrow, times: 2);
        await terminal.WaitUntilIdleAsync();
        Assert.Equal(Prompt + "stat /b", terminal.CursorLine);

        // Ctrl-P and Ctrl-N are Up and Down; a recalled line can be edited and run.
        terminal.Control('p');
        terminal.Control('p');
        terminal.Type("x\r");
        terminal.Type("quit\r");
        await running;
        Assert.Equal(["ls /", "get /a", "ls /x", "quit"], shell.Lines);
    }

    [Fact]
    public void Blank_lines_and_repeats_of_the_last_line_are_not_kept_and_the_oldest_go_first()
    {
        var history = CommandHistory.InMemory(limit: 3);
        Assert.True(history.Add("ls /"));
        Assert.False(history.Add("ls /"));
        Assert.False(history.Add("   "));
        Assert.True(history.Add("get /a"));
        Assert.True(history.Add("ls /"));
        Assert.True(history.Add("stat /"));
        Assert.Equal(["get /a", "ls /", "stat /"], history.Entries);
    }

    [Fact]
    public async Task History_is_kept_in_a_file_across_sessions()
    {
        var options = new InteractiveOptions { HistoryPath = HistoryPath };
        var first = new FakeTerminal();
        first.Type("create /a x\rcreate /a x\r\rls /\rquit\r");
        await Run.ToEndAsync(new FakeShell(), first, options);
        Assert.Equal(["create /a x", "ls /", "quit"], File.ReadAllLines(HistoryPath));

        var shell = new FakeShell();
        var second = new FakeTerminal();
        second.Press(ConsoleKey.UpArrow, times: 3);
        second.Type("\r");
        second.Press(ConsoleKey.UpArrow, times: 3);
        second.Type("\rquit\r");
        await Run.ToEndAsync(shell, second, options);
        Assert.Equal(["create /a x", "ls /", "quit"], shell.Lines);
        Assert.Equal(["create /a x", "ls /", "quit", "create /a x", "ls /", "quit"], File.ReadAllLines(HistoryPath));
    }

    [Fact]
    public void The_file_is_cut_back_to_the_newest_lines_when_it_grows_past_twice_the_limit()
    {
        File.WriteAllLines(HistoryPath, Enumerable.Range(0, 7).Select(i => $"get /{i}"));
        var history = CommandHistory.Open(HistoryPath, limit: 3, _ => Assert.Fail("no warning expected"));
        Assert.Equal(["get /4", "get /5", "get /6"], history.Entries);
        Assert.Equal(history.Entries, File.ReadAllLines(HistoryPath));

        history.Add("ls /1");
        history.Add("ls /2");
        history.Add("ls /3");
        Assert.Equal(6, File.ReadAllLines(HistoryPath).Length);
        history.Add("ls /4");
        Assert.Equal(["ls /2", "ls /3", "ls /4"], File.ReadAllLines(HistoryPath));

        var reopened = CommandHistory.Open(HistoryPath, limit: 3, _ => Assert.Fail("no warning expected"));
        Assert.Equal(["ls /2", "ls /3", "ls /4"], reopened.Entries);
    }

    [Fact]
    public async Task A_history_file_that_cannot_be_written_is_a_warning_once_and_the_session_goes_on()
    {
        var unwritable = Path.Combine(directory, "no-such-directory", "history");
        var shell = new FakeShell();
        var terminal = new FakeTerminal(width: 500);
        terminal.Type("ls /\rget /a\r");
        terminal.Press(ConsoleKey.UpArrow);
        terminal.Type("\rquit\r");
        await Run.ToEndAsync(shell, terminal, new InteractiveOptions { HistoryPath = unwritable });

        Assert.Equal(["ls /", "get /a", "get /a", "quit"], shell.Lines);
        var warnings = terminal.Lines.Where(l => l.StartsWith("warning:", StringComparison.Ordinal)).ToList();
        Assert.Single(warnings);
        Assert.Contains(unwritable, warnings[0], StringComparison.Ordinal);
        Assert.False(File.Exists(unwritable));
    }

    [Fact]
    public void A_history_file_that_cannot_be_read_is_one_warning_and_a_history_for_this_session_only()
    {
        // A directory where the file should be: reading it fails on every platform, even for root.
        Directory.CreateDirectory(HistoryPath);
        var warnings = new List<string>();
        var history = CommandHistory.Open(HistoryPath, 10, warnings.Add);
        Assert.Empty(history.Entries);
        Assert.True(history.Add("ls /"));
        Assert.Equal(["ls /"], history.Entries);
        Assert.Single(warnings);
        Assert.Contains("could not read", warnings[0], StringComparison.Ordinal);
        Assert.True(Directory.Exists(HistoryPath));
    }

    [Fact]
    public void The_default_history_file_is_in_the_home_directory()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal(Path.Combine(home, ".warden_cli_history"), new InteractiveOptions().HistoryPath);
    }
}
