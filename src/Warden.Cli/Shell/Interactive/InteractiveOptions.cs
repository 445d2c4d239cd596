namespace Warden.Cli.Shell.Interactive;

/// <summary>How the interactive shell keeps history and completes.</summary>
public sealed record InteractiveOptions
{
    /// <summary>The history file; null keeps history for the session only. Default: <see cref="DefaultHistoryPath"/>.</summary>
    public string? HistoryPath { get; init; } = DefaultHistoryPath;

    /// <summary>How many lines of history are kept.</summary>
    public int HistoryLimit { get; init; } = 1000;

    /// <summary>How long Tab waits for the server when completing a path; a slower server gives no candidates.</summary>
    public TimeSpan CompletionTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary><c>.warden_cli_history</c> in the user's home directory, or null when there is no home directory.</summary>
    public static string? DefaultHistoryPath
    {
        get
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".warden_cli_history");
        }
    }
}
