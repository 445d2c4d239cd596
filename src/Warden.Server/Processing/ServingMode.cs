namespace Warden.Server.Processing;

/// <summary>
/// What this server does with clients. A standalone server and an established leader prepare writes; a
/// follower or observer forwards them to the leader; a server that is looking for a leader, or still being
/// synchronised, serves nobody (Apache closes every client connection then, and clients move on), unless
/// readonlymode.enabled lets it serve reads to read-only clients while it looks.
/// </summary>
public enum ServingMode
{
    Standalone,
    Leader,
    Follower,
    Observer,
    NotServing,

    /// <summary>
    /// Cut off from a quorum with readonlymode.enabled (Apache's ReadOnlyZooKeeperServer). Apache 3.8's read-only
    /// server serves only local sessions (with localSessionsEnabled): it refuses read-write clients, new global
    /// sessions and the resumption of global ones, since a minority cannot know whether the quorum has expired a
    /// session meanwhile, and answers writes and sync NOTREADONLY. Warden does the same; the four-letter words say
    /// read-only.
    /// </summary>
    ReadOnly,
}

/// <summary>An ensemble member's figures for mntr, as its quorum host last saw them.</summary>
/// <param name="PeerState">Apache's detailed peer state, such as "leading - broadcast".</param>
/// <param name="Learners">On the leader: learners connected.</param>
/// <param name="SyncedFollowers">On the leader: voting learners brought up to date.</param>
/// <param name="SyncedObservers">On the leader: observers brought up to date.</param>
/// <param name="PendingSyncs">On the leader: learner syncs waiting for a commit.</param>
/// <param name="LeaderId">The leader this member follows or is; 0 while there is none.</param>
public sealed record EnsembleStatus(string PeerState, int Learners, int SyncedFollowers, int SyncedObservers, int PendingSyncs, long LeaderId = 0);
