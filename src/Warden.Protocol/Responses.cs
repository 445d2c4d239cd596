namespace Warden.Protocol;

// Reply bodies, after the ReplyHeader; sent only when the header's err is 0.

public sealed record CreateResponse(string Path) : IJuteRecord
{
    public static CreateResponse Read(ref JuteReader reader) => new(reader.ReadRequiredString());

    public void Write(JuteWriter writer) => writer.WriteString(Path);
}

public sealed record Create2Response(string Path, Stat Stat) : IJuteRecord
{
    public static Create2Response Read(ref JuteReader reader) => new(reader.ReadRequiredString(), Stat.Read(ref reader));

    public void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        Stat.Write(writer);
    }
}

/// <summary>exists, setData and setACL reply with a Stat alone.</summary>
public sealed record StatResponse(Stat Stat) : IJuteRecord
{
    public static StatResponse Read(ref JuteReader reader) => new(Stat.Read(ref reader));

    public void Write(JuteWriter writer) => Stat.Write(writer);
}

public sealed record GetDataResponse(byte[]? Data, Stat Stat) : IJuteRecord
{
    public static GetDataResponse Read(ref JuteReader reader) => new(reader.ReadBuffer(), Stat.Read(ref reader));

    public void Write(JuteWriter writer)
    {
        writer.WriteBuffer(Data);
        Stat.Write(writer);
    }
}

public sealed record GetAclResponse(List<Acl> Acl, Stat Stat) : IJuteRecord
{
    public static GetAclResponse Read(ref JuteReader reader) =>
        new(Warden.Protocol.Acl.ReadList(ref reader) ?? [], Stat.Read(ref reader));

    public void Write(JuteWriter writer)
    {
        Warden.Protocol.Acl.WriteList(writer, Acl);
        Stat.Write(writer);
    }
}

public sealed record GetChildrenResponse(List<string> Children) : IJuteRecord
{
    public static GetChildrenResponse Read(ref JuteReader reader) => new(reader.ReadStringVector() ?? []);

    public void Write(JuteWriter writer) => writer.WriteStringVector(Children);
}

public sealed record GetChildren2Response(List<string> Children, Stat Stat) : IJuteRecord
{
    public static GetChildren2Response Read(ref JuteReader reader) =>
        new(reader.ReadStringVector() ?? [], Stat.Read(ref reader));

    public void Write(JuteWriter writer)
    {
        writer.WriteStringVector(Children);
        Stat.Write(writer);
    }
}

/// <summary>sync replies with its path.</summary>
public sealed record PathResponse(string Path) : IJuteRecord
{
    public static PathResponse Read(ref JuteReader reader) => new(reader.ReadRequiredString());

    public void Write(JuteWriter writer) => writer.WriteString(Path);
}

public sealed record GetEphemeralsResponse(List<string> Ephemerals) : IJuteRecord
{
    public static GetEphemeralsResponse Read(ref JuteReader reader) => new(reader.ReadStringVector() ?? []);

    public void Write(JuteWriter writer) => writer.WriteStringVector(Ephemerals);
}

public sealed record GetAllChildrenNumberResponse(int TotalNumber) : IJuteRecord
{
    public static GetAllChildrenNumberResponse Read(ref JuteReader reader) => new(reader.ReadInt());

    public void Write(JuteWriter writer) => writer.WriteInt(TotalNumber);
}

public sealed record WhoAmIResponse(List<ClientInfo> ClientInfo) : IJuteRecord
{
    public static WhoAmIResponse Read(ref JuteReader reader)
    {
        int count = reader.ReadVectorCount(8);
        var list = new List<ClientInfo>(Math.Max(count, 0));
        for (int i = 0; i < count; i++) list.Add(Warden.Protocol.ClientInfo.Read(ref reader));
        return new WhoAmIResponse(list);
    }

    public void Write(JuteWriter writer)
    {
        writer.WriteInt(ClientInfo.Count);
        foreach (var info in ClientInfo) info.Write(writer);
    }
}

public sealed record ErrorResponse(int Err) : IJuteRecord
{
    public static ErrorResponse Read(ref JuteReader reader) => new(reader.ReadInt());

    public void Write(JuteWriter writer) => writer.WriteInt(Err);
}

public sealed record SaslResponse(byte[]? Token) : IJuteRecord
{
    public static SaslResponse Read(ref JuteReader reader) => new(reader.ReadBuffer());

    public void Write(JuteWriter writer) => writer.WriteBuffer(Token);
}
