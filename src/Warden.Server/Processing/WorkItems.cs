using Warden.Data;
using Warden.Protocol;

namespace Warden.Server.Processing;

/// <summary>Everything the state-machine loop acts on arrives as one of these, in one queue.</summary>
public abstract record WorkItem;

/// <summary>A connection's first packet.</summary>
public sealed record ConnectWork(IClientConnection Connection, ConnectRequest Request) : WorkItem;

/// <summary>A request packet after the handshake (header split off, body as received).</summary>
public sealed record RequestWork(IClientConnection Connection, int Xid, OpCode Type, byte[] Body, long ReceivedAtMs) : WorkItem;

/// <summary>
/// A txn is committed (on stable storage at a quorum) and may be applied: the commit stream. It may have been
/// proposed here or by another server; the loop answers the local request it belongs to, if any.
/// </summary>
public sealed record CommitWork(TxnHeaderAndBody Txn) : WorkItem;

/// <summary>A connection went away: its watches go, its session stays until it expires.</summary>
public sealed record DisconnectWork(IClientConnection Connection) : WorkItem;

/// <summary>A tick of the clock: expire sessions whose time is up.</summary>
public sealed record TickWork : WorkItem;

/// <summary>The container manager asks for an empty container or an expired TTL node to go.</summary>
public sealed record DeleteContainerWork(string Path) : WorkItem;

/// <summary>Code that must run on the loop, such as a four-letter word reading server state.</summary>
public sealed record QueryWork(Action Action) : WorkItem;

/// <summary>The server's part in the ensemble changed (see <see cref="ServingMode"/>).</summary>
public sealed record ModeWork(ServingMode Mode, int Epoch) : WorkItem;

/// <summary>On the leader: a write a learner forwarded for one of its clients (QuorumPacket REQUEST).</summary>
public sealed record ForwardedRequestWork(long LearnerId, long SessionId, int Cxid, OpCode Type, byte[] Body, IReadOnlyList<Id> AuthInfo) : WorkItem;

/// <summary>On the leader: a learner asks whether a session its client reconnected with is still alive.</summary>
public sealed record RevalidateWork(long LearnerId, long SessionId, int TimeoutMs, Action<bool> Answer) : WorkItem;

/// <summary>On a learner: the leader's answer to a REVALIDATE this server sent.</summary>
public sealed record RevalidatedWork(long SessionId, bool Valid) : WorkItem;

/// <summary>On the leader: sessions a learner's clients kept alive since its last PING reply.</summary>
public sealed record TouchSessionsWork(IReadOnlyList<(long SessionId, int TimeoutMs)> Sessions) : WorkItem;

/// <summary>On a learner: the leader's SYNC, answering the oldest sync this server forwarded.</summary>
public sealed record SyncedWork : WorkItem;

/// <summary>
/// The ensemble's configuration changed without a txn (at start, or when a new leader gives the configuration its first
/// version): /zookeeper/config takes the text, with Apache's stat for it (mzxid = the version, dataVersion -1).
/// </summary>
public sealed record ConfigNodeWork(byte[] Text, long Version) : WorkItem;

/// <summary>A learner received a whole new state from its leader (SNAP): the tree and sessions are replaced.</summary>
public sealed record ResetStateWork(DataTree Tree, IReadOnlyDictionary<long, int> SessionTimeoutsMs) : WorkItem;

/// <summary>One slice of a fuzzy snapshot; the first one (no capture yet) starts it at the zxid applied by then.</summary>
public sealed record SnapshotSliceWork(TaskCompletionSource<Storage.SnapshotImage> Completion, Storage.FuzzyCapture? Capture = null) : WorkItem;

/// <summary>
/// A local request waiting for its txn to commit. On a server that prepares writes (standalone or leader) it
/// carries the txn it proposed; on a learner, which forwards the raw request, <paramref name="Txn"/> is null.
/// <paramref name="Entry"/> is its place in the connection's queue of unanswered requests (none for a session's creation).
/// <paramref name="ReplyError"/>, when set, answers the client in place of the txn's outcome (a local session's
/// ephemeral create on a learner, which Apache answers EPHEMERALONLOCALSESSION whatever the leader logged).
/// </summary>
public sealed record Proposal(TxnHeaderAndBody? Txn, IClientConnection? Connection, long SessionId, int Xid, OpCode RequestType, long ReceivedAtMs,
    QueuedRequest? Entry = null, ErrorCode? ReplyError = null);

/// <summary>A transaction header with its body, as logged and applied.</summary>
public sealed record TxnHeaderAndBody(TxnHeader Header, Txn? Body);
