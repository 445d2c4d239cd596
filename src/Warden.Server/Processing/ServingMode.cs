namespace Warden.Server.Processing;

/// <summary>
/// What this server does with clients. A standalone server and an established leader prepare writes; a
/// follower or observer forwards them to the leader; a server that is looking for a leader, or still being
/// synchronised, serves nobody (Apache closes every client connection then, and clients move on).
/// </summary>
public enum ServingMode
{
    Standalone,
    Leader,
    Follower,
    Observer,
    NotServing,
}

/// <summary>An ensemble member's figures for mntr, as its quorum host last saw them.</summary>
/// <param name="PeerState">Apache's detailed peer state, such as "leading - broadcast".</param>
/// <param name="Learners">On the leader: learners connected.</param>
/// <param name="SyncedFollowers">On the leader: voting learners brought up to date.</param>
/// <param name="SyncedObservers">On the leader: observers brought up to date.</param>
/// <param name="PendingSyncs">On the leader: learner syncs waiting for a commit.</param>
/// <param name="LeaderId">The leader this member follows or is; 0 while there is none.</param>
public sealed record EnsembleStatus(string PeerState, int Learners, int SyncedFollowers, int SyncedObservers, int PendingSyncs, long LeaderId = 0);
