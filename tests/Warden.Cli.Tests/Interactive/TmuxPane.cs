using System.Diagnostics;
using Warden.Testing;

namespace Warden.Cli.Tests.Interactive;

/// <summary>
/// A program running in a real pseudo-terminal: one tmux pane on a private tmux server (its own socket name), so
/// the test neither sees nor disturbs anyone else's tmux. Keys go in with send-keys; the screen comes back with
/// capture-pane. Disposing kills that tmux server and everything in it.
/// </summary>
public sealed class TmuxPane : IAsyncDisposable
{
    private const string Tmux = "/usr/bin/tmux";
    private const string Session = "cli";
    private static readonly TimeSpan CommandBound = TimeSpan.FromSeconds(15);
    private readonly string socket = $"warden-test-{Guid.NewGuid():N}";

    private TmuxPane()
    {
    }

    /// <summary>
    /// Starts <paramref name="shellCommand"/> (run by /bin/sh) in a <paramref name="width"/> × <paramref name="height"/>
    /// pane. The pane stays after the program exits, so its last screen and exit status can be read.
    /// </summary>
    public static async Task<TmuxPane> StartAsync(string shellCommand, int width, int height)
    {
        InstalledTools.Require(Tmux, "tmux");
        var pane = new TmuxPane();
        try
        {
            await pane.RunAsync(
                "-f", "/dev/null", "new-session", "-d", "-s", Session, "-x", width.ToString(System.Globalization.CultureInfo.InvariantCulture), "-y", height.ToString(System.Globalization.CultureInfo.InvariantCulture), shellCommand,
                ";", "set-option", "-t", Session, "remain-on-exit", "on");
            return pane;
        }
        catch
        {
            await pane.DisposeAsync();
            throw;
        }
    }

    /// <summary>Types text as it is (no key names).</summary>
    public Task TypeAsync(string text) => RunAsync("send-keys", "-t", Session, "-l", text);

    /// <summary>Presses keys by tmux name: Enter, Tab, Up, C-c, C-d.</summary>
    public Task PressAsync(params string[] keys) => RunAsync(["send-keys", "-t", Session, .. keys]);

    /// <summary>The visible screen, one string per row, trailing blanks trimmed.</summary>
    public async Task<IReadOnlyList<string>> CaptureAsync()
    {
        var screen = await RunAsync("capture-pane", "-p", "-t", Session);
        return screen.Split('\n').Select(l => l.TrimEnd()).ToList();
    }

    /// <summary>The last row with something on it.</summary>
    public static string LastLine(IReadOnlyList<string> screen) => screen.LastOrDefault(l => l.Length > 0) ?? "";

    /// <summary>
    /// Waits until the screen satisfies <paramref name="condition"/>, looking every 100 ms for at most
    /// <paramref name="bound"/> (a program in a terminal gives no event to wait on). Fails with the screen.
    /// </summary>
    public async Task<IReadOnlyList<string>> WaitForAsync(Func<IReadOnlyList<string>, bool> condition, string what, TimeSpan? bound = null)
    {
        var stopwatch = Stopwatch.StartNew();
        var limit = bound ?? TimeSpan.FromSeconds(30);
        while (true)
        {
            var screen = await CaptureAsync();
            if (condition(screen))
            {
                return screen;
            }
            if (stopwatch.Elapsed > limit)
            {
                throw new Xunit.Sdk.XunitException(
                    $"waited {limit.TotalSeconds:0} s for {what}; the screen is:\n{string.Join("\n", screen)}");
            }
            // tmux offers no event for "the screen now shows X"; a bounded poll of the pane is the only way to ask.
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the last non-empty row is exactly <paramref name="line"/> (trailing blanks aside).</summary>
    public Task<IReadOnlyList<string>> WaitForLastLineAsync(string line, TimeSpan? bound = null) =>
        WaitForAsync(screen => LastLine(screen) == line.TrimEnd(), $"the last line to read \"{line}\"", bound);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync("kill-server");
        }
        catch (InvalidOperationException)
        {
            // The server was never started, or is already gone.
        }
    }

    private Task<string> RunAsync(params string[] arguments) => RunAsync((IEnumerable<string>)arguments);

    private async Task<string> RunAsync(IEnumerable<string> arguments)
    {
        var result = await ProcessRunner.RunAsync(Tmux, ["-L", socket, .. arguments], CommandBound);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"tmux {string.Join(' ', arguments)} failed: {result.Describe()}");
        }
        return result.StandardOutput;
    }
}
