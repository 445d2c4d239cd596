using Warden.Protocol;

namespace Warden.Server.Processing;

/// <summary>Everything the state-machine loop acts on arrives as one of these, in one queue.</summary>
public abstract record WorkItem;

/// <summary>A connection's first packet.</summary>
public sealed record ConnectWork(IClientConnection Connection, ConnectRequest Request) : WorkItem;

/// <summary>A request packet after the handshake (header split off, body as received).</summary>
public sealed record RequestWork(IClientConnection Connection, int Xid, OpCode Type, byte[] Body, long ReceivedAtMs) : WorkItem;

/// <summary>The replicator made a txn durable; it may now be applied.</summary>
public sealed record CommitWork(long Zxid) : WorkItem;

/// <summary>A connection went away: its watches go, its session stays until it expires.</summary>
public sealed record DisconnectWork(IClientConnection Connection) : WorkItem;

/// <summary>A tick of the clock: expire sessions whose time is up.</summary>
public sealed record TickWork : WorkItem;

/// <summary>The container manager asks for an empty container or an expired TTL node to go.</summary>
public sealed record DeleteContainerWork(string Path) : WorkItem;

/// <summary>Code that must run on the loop, such as a four-letter word reading server state.</summary>
public sealed record QueryWork(Action Action) : WorkItem;

/// <summary>A write on its way through the replicator, with whoever waits for its reply.</summary>
public sealed record Proposal(TxnHeaderAndBody Txn, IClientConnection? Connection, int Xid, OpCode RequestType, long ReceivedAtMs);

/// <summary>A transaction header with its body, as logged and applied.</summary>
public sealed record TxnHeaderAndBody(Data.TxnHeader Header, Data.Txn? Body);
