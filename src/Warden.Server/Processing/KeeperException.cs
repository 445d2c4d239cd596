using Warden.Protocol;

namespace Warden.Server.Processing;

/// <summary>
/// A request that fails with a ZooKeeper error code. Thrown inside request handling where Apache's checks
/// happen in sequence, so that the first failing check decides the code, and caught where the reply is built.
/// </summary>
public sealed class KeeperException(ErrorCode code, string? path = null)
    : Exception(path is null ? code.ToString() : $"{code} for {path}")
{
    public ErrorCode Code { get; } = code;
    public string? Path { get; } = path;
}
