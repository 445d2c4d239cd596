using Warden.Protocol;

namespace Warden.Server.Sessions;

/// <summary>A client session as the server tracks it: its id, negotiated timeout and when it next expires.</summary>
public sealed class Session(long id, int timeoutMs)
{
    public long Id { get; } = id;
    public int TimeoutMs { get; set; } = timeoutMs;

    /// <summary>The end of the expiry bucket the session sits in, in milliseconds of the server's clock.</summary>
    public long ExpiresAtMs { get; set; }

    /// <summary>Set once a closeSession is on its way: the session takes no more requests.</summary>
    public bool IsClosing { get; set; }

    /// <summary>The connection that currently owns the session, if any.</summary>
    public object? Owner { get; set; }

    /// <summary>
    /// On an ensemble's leader: the server whose client holds the session (the leader's own id for its local
    /// clients), or 0 when none has claimed it since this server took the lead.
    /// </summary>
    public long OwnerServerId { get; set; }

    /// <summary>
    /// Local to this server (localSessionsEnabled): known nowhere else, kept alive and expired here, and closed
    /// without a txn, until an ephemeral create upgrades it to a global session.
    /// </summary>
    public bool IsLocal { get; set; }

    public override string ToString() => new SessionId(Id).ToString();
}
