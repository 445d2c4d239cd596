namespace Warden.Protocol;

// The records of zookeeper.jute that clients and servers exchange. Each one reads itself from a
// JuteReader and writes itself to a JuteWriter, fields in the order the jute file declares them.

/// <summary>A record that can write itself in jute encoding.</summary>
public interface IJuteRecord
{
    void Write(JuteWriter writer);
}

/// <summary>A node's metadata as clients see it: czxid, mzxid, ctime, mtime, version, cversion, aversion,
/// ephemeralOwner, dataLength, numChildren, pzxid (68 bytes on the wire).</summary>
public readonly record struct Stat(
    long Czxid, long Mzxid, long Ctime, long Mtime, int Version, int Cversion, int Aversion,
    long EphemeralOwner, int DataLength, int NumChildren, long Pzxid) : IJuteRecord
{
    public const int WireSize = 68;

    public static Stat Read(ref JuteReader reader) => new(
        reader.ReadLong(), reader.ReadLong(), reader.ReadLong(), reader.ReadLong(), reader.ReadInt(), reader.ReadInt(),
        reader.ReadInt(), reader.ReadLong(), reader.ReadInt(), reader.ReadInt(), reader.ReadLong());

    public void Write(JuteWriter writer)
    {
        writer.WriteLong(Czxid);
        writer.WriteLong(Mzxid);
        writer.WriteLong(Ctime);
        writer.WriteLong(Mtime);
        writer.WriteInt(Version);
        writer.WriteInt(Cversion);
        writer.WriteInt(Aversion);
        writer.WriteLong(EphemeralOwner);
        writer.WriteInt(DataLength);
        writer.WriteInt(NumChildren);
        writer.WriteLong(Pzxid);
    }
}

/// <summary>An identity in an ACL: a scheme (world, auth, digest, ip, ...) and an id within it.</summary>
public readonly record struct Id(string Scheme, string Identity) : IJuteRecord
{
    public static readonly Id Anyone = new("world", "anyone");

    public static Id Read(ref JuteReader reader) => new(reader.ReadRequiredString(), reader.ReadRequiredString());

    public void Write(JuteWriter writer)
    {
        writer.WriteString(Scheme);
        writer.WriteString(Identity);
    }

    public override string ToString() => $"{Scheme}:{Identity}";
}

/// <summary>One ACL entry: permission bits granted to an identity.</summary>
public readonly record struct Acl(Perms Perms, Id Id) : IJuteRecord
{
    public static readonly IReadOnlyList<Acl> OpenUnsafe = [new(Perms.All, Id.Anyone)];

    public static Acl Read(ref JuteReader reader) => new((Perms)reader.ReadInt(), Id.Read(ref reader));

    public void Write(JuteWriter writer)
    {
        writer.WriteInt((int)Perms);
        Id.Write(writer);
    }

    public static List<Acl>? ReadList(ref JuteReader reader)
    {
        int count = reader.ReadVectorCount(12);
        if (count < 0) return null;
        var list = new List<Acl>(count);
        for (int i = 0; i < count; i++) list.Add(Read(ref reader));
        return list;
    }

    public static void WriteList(JuteWriter writer, IReadOnlyList<Acl>? acls)
    {
        if (acls is null)
        {
            writer.WriteInt(-1);
            return;
        }
        writer.WriteInt(acls.Count);
        foreach (var acl in acls) acl.Write(writer);
    }
}

public sealed record ConnectRequest(int ProtocolVersion, long LastZxidSeen, int TimeoutMs, long SessionId, byte[] Password, bool ReadOnly)
    : IJuteRecord
{
    /// <summary>Reads the first packet of a connection. Clients older than 3.4 omit the readOnly flag.</summary>
    public static ConnectRequest Read(ref JuteReader reader)
    {
        int version = reader.ReadInt();
        long lastZxid = reader.ReadLong();
        int timeout = reader.ReadInt();
        long sessionId = reader.ReadLong();
        byte[] password = reader.ReadBuffer() ?? [];
        bool readOnly = !reader.End && reader.ReadBool();
        return new ConnectRequest(version, lastZxid, timeout, sessionId, password, readOnly);
    }

    public void Write(JuteWriter writer)
    {
        writer.WriteInt(ProtocolVersion);
        writer.WriteLong(LastZxidSeen);
        writer.WriteInt(TimeoutMs);
        writer.WriteLong(SessionId);
        writer.WriteBuffer(Password);
        writer.WriteBool(ReadOnly);
    }
}

public sealed record ConnectResponse(int ProtocolVersion, int TimeoutMs, long SessionId, byte[] Password, bool ReadOnly) : IJuteRecord
{
    public static ConnectResponse Read(ref JuteReader reader)
    {
        int version = reader.ReadInt();
        int timeout = reader.ReadInt();
        long sessionId = reader.ReadLong();
        byte[] password = reader.ReadBuffer() ?? [];
        bool readOnly = !reader.End && reader.ReadBool();
        return new ConnectResponse(version, timeout, sessionId, password, readOnly);
    }

    public void Write(JuteWriter writer)
    {
        writer.WriteInt(ProtocolVersion);
        writer.WriteInt(TimeoutMs);
        writer.WriteLong(SessionId);
        writer.WriteBuffer(Password);
        writer.WriteBool(ReadOnly);
    }
}

public readonly record struct RequestHeader(int Xid, int Type) : IJuteRecord
{
    public static RequestHeader Read(ref JuteReader reader) => new(reader.ReadInt(), reader.ReadInt());

    public void Write(JuteWriter writer)
    {
        writer.WriteInt(Xid);
        writer.WriteInt(Type);
    }
}

public readonly record struct ReplyHeader(int Xid, long Zxid, int Err) : IJuteRecord
{
    public const int WireSize = 16;

    public static ReplyHeader Read(ref JuteReader reader) => new(reader.ReadInt(), reader.ReadLong(), reader.ReadInt());

    public void Write(JuteWriter writer)
    {
        writer.WriteInt(Xid);
        writer.WriteLong(Zxid);
        writer.WriteInt(Err);
    }
}

public sealed record WatcherEvent(EventType Type, KeeperState State, string Path) : IJuteRecord
{
    public static WatcherEvent Read(ref JuteReader reader) =>
        new((EventType)reader.ReadInt(), (KeeperState)reader.ReadInt(), reader.ReadRequiredString());

    public void Write(JuteWriter writer)
    {
        writer.WriteInt((int)Type);
        writer.WriteInt((int)State);
        writer.WriteString(Path);
    }
}

/// <summary>addAuth's packet. <see cref="Auth"/> is null when the client sent a null buffer, which Apache's digest provider refuses.</summary>
public sealed record AuthPacket(int Type, string Scheme, byte[]? Auth) : IJuteRecord
{
    public static AuthPacket Read(ref JuteReader reader) =>
        new(reader.ReadInt(), reader.ReadRequiredString(), reader.ReadBuffer());

    public void Write(JuteWriter writer)
    {
        writer.WriteInt(Type);
        writer.WriteString(Scheme);
        writer.WriteBuffer(Auth);
    }
}

public readonly record struct MultiHeader(int Type, bool Done, int Err) : IJuteRecord
{
    public static MultiHeader Read(ref JuteReader reader) => new(reader.ReadInt(), reader.ReadBool(), reader.ReadInt());

    public void Write(JuteWriter writer)
    {
        writer.WriteInt(Type);
        writer.WriteBool(Done);
        writer.WriteInt(Err);
    }
}

public readonly record struct ClientInfo(string AuthScheme, string User) : IJuteRecord
{
    public static ClientInfo Read(ref JuteReader reader) => new(reader.ReadRequiredString(), reader.ReadRequiredString());

    public void Write(JuteWriter writer)
    {
        writer.WriteString(AuthScheme);
        writer.WriteString(User);
    }
}
