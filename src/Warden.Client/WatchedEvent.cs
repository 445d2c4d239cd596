using Warden.Protocol;

namespace Warden.Client;

/// <summary>
/// A change a watch reported: what happened (<see cref="Type"/>) to which node (<see cref="Path"/>, a client
/// path), and the connection state when it arrived.
/// </summary>
public sealed record WatchedEvent(EventType Type, KeeperState State, string? Path)
{
    public override string ToString() => $"{Type} {Path} ({State})";
}

/// <summary>The client's view of its connection and session.</summary>
public enum ConnectionState
{
    /// <summary>Looking for a server; requests wait.</summary>
    Connecting,
    /// <summary>Connected; the session is live.</summary>
    Connected,
    /// <summary>Connected to a server cut off from its quorum; only reads are served.</summary>
    ConnectedReadOnly,
    /// <summary>The connection broke; the session may still be resumed on another server.</summary>
    Disconnected,
    /// <summary>The server declared the session over; ephemeral nodes and watches are gone. Terminal.</summary>
    Expired,
    /// <summary>The server refused the credentials given with addAuth. Terminal.</summary>
    AuthFailed,
    /// <summary>The client was closed. Terminal.</summary>
    Closed,
}

/// <summary>A state change: the old state, the new one, and the server (if any) it concerns.</summary>
public sealed record ConnectionStateChange(ConnectionState Previous, ConnectionState Current, HostAddress? Server);

/// <summary>One failed attempt to reach a server: which one, why, and how many attempts in a row have failed.</summary>
public sealed record ConnectionAttemptFailure(HostAddress Server, Exception Error, int FailedInARow);

public static class ConnectionStates
{
    /// <summary>Terminal states: the client will not reconnect.</summary>
    public static bool IsTerminal(this ConnectionState state) =>
        state is ConnectionState.Expired or ConnectionState.AuthFailed or ConnectionState.Closed;

    public static bool IsConnected(this ConnectionState state) =>
        state is ConnectionState.Connected or ConnectionState.ConnectedReadOnly;
}

/// <summary>
/// A node's data and Stat. A node created with no data at all (a null buffer, as zkCli's <c>create /a</c> sends)
/// reads as an empty <see cref="Data"/> with <see cref="IsNull"/> set, which is how Apache's Java client tells the two apart.
/// </summary>
public sealed record NodeData(byte[] Data, Stat Stat)
{
    public bool IsNull { get; init; }
}

public sealed record NodeChildren(IReadOnlyList<string> Children, Stat Stat);

public sealed record NodeAcl(IReadOnlyList<Acl> Acl, Stat Stat);

/// <summary>A created node: its actual path (with the sequence suffix, if any) and its Stat.</summary>
public sealed record CreatedNode(string Path, Stat Stat);

/// <summary>
/// A value read together with a one-shot watch: <see cref="Changed"/> completes with the first event that
/// changes what was read, or fails with a <see cref="ZooKeeperException"/> if the session ends first.
/// </summary>
public sealed record Watched<T>(T Value, Task<WatchedEvent> Changed);
