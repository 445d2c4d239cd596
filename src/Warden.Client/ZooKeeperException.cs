using Warden.Protocol;

namespace Warden.Client;

/// <summary>
/// A request failed: the server answered with an error code, or the connection or session was lost.
/// <see cref="Code"/> is ZooKeeper's code (NoNode, BadVersion, ConnectionLoss, ...) and <see cref="Path"/>
/// the client path the request named, when it named one.
/// </summary>
public class ZooKeeperException : Exception
{
    public ZooKeeperException(ErrorCode code, string? path, string? detail = null, Exception? inner = null)
        : base(Describe(code, path, detail), inner)
    {
        Code = code;
        Path = path;
    }

    public ErrorCode Code { get; }
    public string? Path { get; }

    /// <summary>
    /// True for the errors after which the outcome of a write is unknown: it may or may not have been applied.
    /// </summary>
    public bool IsConnectionLoss => Code is ErrorCode.ConnectionLoss or ErrorCode.OperationTimeout;

    private static string Describe(ErrorCode code, string? path, string? detail)
    {
        string text = code switch
        {
            ErrorCode.NoNode => "node does not exist",
            ErrorCode.NodeExists => "node already exists",
            ErrorCode.NotEmpty => "node has children",
            ErrorCode.BadVersion => "version does not match",
            ErrorCode.NoAuth => "insufficient permission",
            ErrorCode.NoChildrenForEphemerals => "ephemeral nodes may not have children",
            ErrorCode.ConnectionLoss => "connection to the server lost; the request may or may not have been applied",
            ErrorCode.SessionExpired => "session expired",
            ErrorCode.AuthFailed => "authentication failed",
            ErrorCode.InvalidAcl => "invalid ACL",
            ErrorCode.BadArguments => "bad arguments",
            ErrorCode.Unimplemented => "operation not supported by the server (for TTL nodes: extendedTypesEnabled)",
            ErrorCode.NoWatcher => "no such watch",
            _ => code.ToString(),
        };
        string message = $"{code} ({(int)code}): {text}";
        if (path is not null) message += $" for {path}";
        if (detail is not null) message += $": {detail}";
        return message;
    }
}

/// <summary>
/// A multi transaction failed as a whole. <see cref="Results"/> holds one result per operation: the one that
/// failed has its own code, the others say why they were not applied.
/// </summary>
public sealed class MultiOperationException(ErrorCode code, string? path, IReadOnlyList<OpResult> results, int failedIndex)
    : ZooKeeperException(code, path, $"operation {failedIndex} of the transaction failed; none was applied")
{
    public IReadOnlyList<OpResult> Results { get; } = results;
    public int FailedIndex { get; } = failedIndex;
}
