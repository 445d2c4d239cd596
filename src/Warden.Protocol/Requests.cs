namespace Warden.Protocol;

// Request bodies, after the RequestHeader. Field order follows zookeeper.jute.

public sealed record CreateRequest(string Path, byte[]? Data, List<Acl>? Acl, int Flags, long Ttl = -1) : IJuteRecord
{
    /// <summary>create, create2 and createContainer share this record; createTTL adds the ttl field.</summary>
    public static CreateRequest Read(ref JuteReader reader, bool withTtl)
    {
        string path = reader.ReadRequiredString();
        byte[]? data = reader.ReadBuffer();
        var acl = Warden.Protocol.Acl.ReadList(ref reader);
        int flags = reader.ReadInt();
        long ttl = withTtl ? reader.ReadLong() : -1;
        return new CreateRequest(path, data, acl, flags, ttl);
    }

    public void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteBuffer(Data);
        Warden.Protocol.Acl.WriteList(writer, Acl);
        writer.WriteInt(Flags);
    }

    public void WriteWithTtl(JuteWriter writer)
    {
        Write(writer);
        writer.WriteLong(Ttl);
    }
}

public sealed record DeleteRequest(string Path, int Version) : IJuteRecord
{
    public static DeleteRequest Read(ref JuteReader reader) => new(reader.ReadRequiredString(), reader.ReadInt());

    public void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteInt(Version);
    }
}

/// <summary>exists, getData, getChildren and getChildren2 requests: a path and whether to leave a watch.</summary>
public sealed record PathWatchRequest(string Path, bool Watch) : IJuteRecord
{
    public static PathWatchRequest Read(ref JuteReader reader) => new(reader.ReadRequiredString(), reader.ReadBool());

    public void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteBool(Watch);
    }
}

/// <summary>getACL, sync, getEphemerals and getAllChildrenNumber requests: just a path.</summary>
public sealed record PathRequest(string Path) : IJuteRecord
{
    public static PathRequest Read(ref JuteReader reader) => new(reader.ReadRequiredString());

    public void Write(JuteWriter writer) => writer.WriteString(Path);
}

public sealed record SetDataRequest(string Path, byte[]? Data, int Version) : IJuteRecord
{
    public static SetDataRequest Read(ref JuteReader reader) =>
        new(reader.ReadRequiredString(), reader.ReadBuffer(), reader.ReadInt());

    public void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteBuffer(Data);
        writer.WriteInt(Version);
    }
}

public sealed record SetAclRequest(string Path, List<Acl>? Acl, int Version) : IJuteRecord
{
    public static SetAclRequest Read(ref JuteReader reader) =>
        new(reader.ReadRequiredString(), Warden.Protocol.Acl.ReadList(ref reader), reader.ReadInt());

    public void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        Warden.Protocol.Acl.WriteList(writer, Acl);
        writer.WriteInt(Version);
    }
}

public sealed record CheckVersionRequest(string Path, int Version) : IJuteRecord
{
    public static CheckVersionRequest Read(ref JuteReader reader) => new(reader.ReadRequiredString(), reader.ReadInt());

    public void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteInt(Version);
    }
}

/// <summary>checkWatches and removeWatches: a path and a watcher type.</summary>
public sealed record WatchesRequest(string Path, int Type) : IJuteRecord
{
    public static WatchesRequest Read(ref JuteReader reader) => new(reader.ReadRequiredString(), reader.ReadInt());

    public void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteInt(Type);
    }
}

public sealed record AddWatchRequest(string Path, int Mode) : IJuteRecord
{
    public static AddWatchRequest Read(ref JuteReader reader) => new(reader.ReadRequiredString(), reader.ReadInt());

    public void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteInt(Mode);
    }
}

/// <summary>setWatches (101) carries three path lists; setWatches2 (105) adds the persistent ones.</summary>
public sealed record SetWatchesRequest(
    long RelativeZxid, List<string> DataWatches, List<string> ExistWatches, List<string> ChildWatches,
    List<string> PersistentWatches, List<string> PersistentRecursiveWatches) : IJuteRecord
{
    public bool IsVersion2 { get; init; }

    public static SetWatchesRequest Read(ref JuteReader reader, bool version2)
    {
        long zxid = reader.ReadLong();
        var data = reader.ReadStringVector() ?? [];
        var exist = reader.ReadStringVector() ?? [];
        var child = reader.ReadStringVector() ?? [];
        var persistent = version2 ? reader.ReadStringVector() ?? [] : [];
        var recursive = version2 ? reader.ReadStringVector() ?? [] : [];
        return new SetWatchesRequest(zxid, data, exist, child, persistent, recursive) { IsVersion2 = version2 };
    }

    public void Write(JuteWriter writer)
    {
        writer.WriteLong(RelativeZxid);
        writer.WriteStringVector(DataWatches);
        writer.WriteStringVector(ExistWatches);
        writer.WriteStringVector(ChildWatches);
        if (IsVersion2)
        {
            writer.WriteStringVector(PersistentWatches);
            writer.WriteStringVector(PersistentRecursiveWatches);
        }
    }
}

public sealed record ReconfigRequest(string? JoiningServers, string? LeavingServers, string? NewMembers, long CurrentConfigId)
    : IJuteRecord
{
    public static ReconfigRequest Read(ref JuteReader reader) =>
        new(reader.ReadString(), reader.ReadString(), reader.ReadString(), reader.ReadLong());

    public void Write(JuteWriter writer)
    {
        writer.WriteString(JoiningServers);
        writer.WriteString(LeavingServers);
        writer.WriteString(NewMembers);
        writer.WriteLong(CurrentConfigId);
    }
}

public sealed record SaslRequest(byte[]? Token) : IJuteRecord
{
    public static SaslRequest Read(ref JuteReader reader) => new(reader.ReadBuffer());

    public void Write(JuteWriter writer) => writer.WriteBuffer(Token);
}
