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
