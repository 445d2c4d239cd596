using Warden.Cli.Shell;
using Warden.Cli.Shell.Interactive;
using Warden.Client;

namespace Warden.Cli.Tests.Interactive;

/// <summary>
/// An <see cref="IShell"/> that records the lines it is given. `quit` ends the session; `slow` runs until its
/// token is cancelled; anything else succeeds at once.
/// </summary>
public sealed class FakeShell(string prompt = "[zk: 127.0.0.1:2181(CONNECTED) 0] ") : IShell
{
    private readonly Lock gate = new();
    private readonly List<string> lines = [];
    private string prompt = prompt;

    public TaskCompletionSource SlowStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource SlowCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Prompt
    {
        get
        {
            lock (gate)
            {
                return prompt;
            }
        }
    }

    public event Action? PromptChanged;

    public ZooKeeperClient? Client { get; set; }

    public Action<string>? AsyncOutput { get; set; }

    /// <summary>Prints as the session prints a watch event, from another thread, then signals the prompt.</summary>
    public Task PrintEventAsync(string text) => Task.Run(() =>
    {
        if (AsyncOutput is { } sink) sink(text);
        PromptChanged?.Invoke();
    });

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (gate)
            {
                return [.. lines];
            }
        }
    }

    /// <summary>Changes the prompt and raises <see cref="PromptChanged"/> from another thread, as a connection does.</summary>
    public Task ChangePromptAsync(string newPrompt)
    {
        lock (gate)
        {
            prompt = newPrompt;
        }
        return Task.Run(() => PromptChanged?.Invoke());
    }

    public async Task<bool> ExecuteLineAsync(string line, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            lines.Add(line);
        }
        switch (line.Trim())
        {
            case "quit":
                return false;
            case "slow":
                SlowStarted.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    SlowCancelled.TrySetResult();
                    throw;
                }
                return true;
            default:
                return true;
        }
    }
}

/// <summary>Runs <see cref="InteractiveShell"/> on a fake terminal, bounded.</summary>
public static class Run
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    public static InteractiveOptions NoHistoryFile => new() { HistoryPath = null };

    /// <summary>Starts the shell; the task ends when it returns (and fails if it takes longer than the bound).</summary>
    public static Task Start(FakeShell shell, FakeTerminal terminal, InteractiveOptions? options = null) =>
        Task.Run(() => InteractiveShell.RunAsync(shell, terminal, options ?? NoHistoryFile, CancellationToken.None)).WaitAsync(Bound);

    /// <summary>Runs the shell over the keys already scripted, which must end it.</summary>
    public static Task ToEndAsync(FakeShell shell, FakeTerminal terminal, InteractiveOptions? options = null) =>
        Start(shell, terminal, options);
}
