namespace Warden.Server.Configuration;

/// <summary>
/// The outcome of reading a configuration: a config and the warnings about it, or the errors that stop
/// the server. Every warning and error is one line that says what is wrong and how to fix it, so the
/// CLI can print them as they are.
/// </summary>
public sealed class ConfigLoadResult
{
    private ConfigLoadResult(ServerConfig? config, IReadOnlyList<string> warnings, IReadOnlyList<string> errors)
    {
        Config = config;
        Warnings = warnings;
        Errors = errors;
    }

    /// <summary>The configuration, or null when <see cref="Errors"/> is not empty.</summary>
    public ServerConfig? Config { get; }

    /// <summary>Things Apache ZooKeeper accepts that are probably not what the person meant.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Problems that stop the server (Apache ZooKeeper refuses these too, at parse time or at start).</summary>
    public IReadOnlyList<string> Errors { get; }

    public bool Succeeded => Config is not null;

    /// <summary>Returns the config, or throws <see cref="ConfigErrorException"/> carrying every error line.</summary>
    public ServerConfig GetConfigOrThrow() => Config ?? throw new ConfigErrorException(Errors);

    internal static ConfigLoadResult Success(ServerConfig config, IReadOnlyList<string> warnings) =>
        new(config, warnings, []);

    internal static ConfigLoadResult Failure(IReadOnlyList<string> errors, IReadOnlyList<string> warnings) =>
        new(null, warnings, errors);
}

/// <summary>
/// Thrown when a configuration cannot start a server. <see cref="Exception.Message"/> is the error lines
/// joined by newlines, ready to print; the CLI should then exit non-zero.
/// </summary>
public sealed class ConfigErrorException : Exception
{
    public ConfigErrorException(IReadOnlyList<string> errors)
        : base(string.Join(Environment.NewLine, errors))
    {
        Errors = errors;
    }

    public IReadOnlyList<string> Errors { get; }
}
