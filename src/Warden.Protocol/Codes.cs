namespace Warden.Protocol;

/// <summary>Request types, with Apache ZooKeeper's numbers (ZooDefs.OpCode).</summary>
public enum OpCode
{
    Notification = 0,
    Create = 1,
    Delete = 2,
    Exists = 3,
    GetData = 4,
    SetData = 5,
    GetAcl = 6,
    SetAcl = 7,
    GetChildren = 8,
    Sync = 9,
    Ping = 11,
    GetChildren2 = 12,
    Check = 13,
    Multi = 14,
    Create2 = 15,
    Reconfig = 16,
    CheckWatches = 17,
    RemoveWatches = 18,
    CreateContainer = 19,
    DeleteContainer = 20,
    CreateTtl = 21,
    MultiRead = 22,
    Auth = 100,
    SetWatches = 101,
    Sasl = 102,
    GetEphemerals = 103,
    GetAllChildrenNumber = 104,
    SetWatches2 = 105,
    AddWatch = 106,
    WhoAmI = 107,
    CreateSession = -10,
    CloseSession = -11,
    Error = -1,
}

/// <summary>Error codes carried in a reply header, with Apache ZooKeeper's numbers (KeeperException.Code).</summary>
public enum ErrorCode
{
    Ok = 0,
    SystemError = -1,
    RuntimeInconsistency = -2,
    DataInconsistency = -3,
    ConnectionLoss = -4,
    MarshallingError = -5,
    Unimplemented = -6,
    OperationTimeout = -7,
    BadArguments = -8,
    UnknownSession = -12,
    NewConfigNoQuorum = -13,
    ReconfigInProgress = -14,
    ApiError = -100,
    NoNode = -101,
    NoAuth = -102,
    BadVersion = -103,
    NoChildrenForEphemerals = -108,
    NodeExists = -110,
    NotEmpty = -111,
    SessionExpired = -112,
    InvalidCallback = -113,
    InvalidAcl = -114,
    AuthFailed = -115,
    SessionMoved = -118,
    NotReadOnly = -119,
    EphemeralOnLocalSession = -120,
    NoWatcher = -121,
    RequestTimeout = -122,
    ReconfigDisabled = -123,
    SessionClosedRequireSaslAuth = -124,
    QuotaExceeded = -125,
    ThrottledOp = -127,
}

/// <summary>Watch event types (Watcher.Event.EventType).</summary>
public enum EventType
{
    None = -1,
    NodeCreated = 1,
    NodeDeleted = 2,
    NodeDataChanged = 3,
    NodeChildrenChanged = 4,
    DataWatchRemoved = 5,
    ChildWatchRemoved = 6,
    PersistentWatchRemoved = 7,
}

/// <summary>Connection states carried in watch events (Watcher.Event.KeeperState).</summary>
public enum KeeperState
{
    Unknown = -1,
    Disconnected = 0,
    SyncConnected = 3,
    AuthFailed = 4,
    ConnectedReadOnly = 5,
    SaslAuthenticated = 6,
    Expired = -112,
    Closed = 7,
}

/// <summary>Create modes (CreateMode) as the flags field of a create request carries them.</summary>
public enum CreateMode
{
    Persistent = 0,
    Ephemeral = 1,
    PersistentSequential = 2,
    EphemeralSequential = 3,
    Container = 4,
    PersistentWithTtl = 5,
    PersistentSequentialWithTtl = 6,
}

public static class CreateModes
{
    public static bool IsKnown(int flags) => flags is >= 0 and <= 6;
    public static bool IsSequential(CreateMode mode) =>
        mode is CreateMode.PersistentSequential or CreateMode.EphemeralSequential or CreateMode.PersistentSequentialWithTtl;
    public static bool IsEphemeral(CreateMode mode) => mode is CreateMode.Ephemeral or CreateMode.EphemeralSequential;
    public static bool IsTtl(CreateMode mode) => mode is CreateMode.PersistentWithTtl or CreateMode.PersistentSequentialWithTtl;
}

/// <summary>ACL permission bits (ZooDefs.Perms).</summary>
[Flags]
public enum Perms
{
    None = 0,
    Read = 1,
    Write = 2,
    Create = 4,
    Delete = 8,
    Admin = 16,
    All = 31,
}

public static class PermsText
{
    /// <summary>Apache's ZKUtil.getPermString: the letters c, d, r, w, a in that order.</summary>
    public static string ToLetters(this Perms perms)
    {
        Span<char> letters = stackalloc char[5];
        int count = 0;
        if (perms.HasFlag(Perms.Create)) letters[count++] = 'c';
        if (perms.HasFlag(Perms.Delete)) letters[count++] = 'd';
        if (perms.HasFlag(Perms.Read)) letters[count++] = 'r';
        if (perms.HasFlag(Perms.Write)) letters[count++] = 'w';
        if (perms.HasFlag(Perms.Admin)) letters[count++] = 'a';
        return new string(letters[..count]);
    }
}

/// <summary>addWatch modes (AddWatchMode).</summary>
public enum AddWatchMode
{
    Persistent = 0,
    PersistentRecursive = 1,
}

/// <summary>removeWatches / checkWatches types (Watcher.WatcherType).</summary>
public enum WatcherType
{
    Children = 1,
    Data = 2,
    Any = 3,
}

/// <summary>Reserved xids in request and reply headers.</summary>
public static class Xids
{
    public const int Notification = -1;
    public const int Ping = -2;
    public const int Auth = -4;
    public const int SetWatches = -8;
}
