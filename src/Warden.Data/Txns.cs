using Warden.Protocol;

namespace Warden.Data;

// The transaction records of zookeeper.jute's org.apache.zookeeper.txn module. A write request becomes one of
// these after validation; the data tree applies them in zxid order and the txn log stores them byte for byte
// as Apache ZooKeeper does.

/// <summary>The header every logged transaction carries: who asked, their xid, the zxid, wall time, and the type.</summary>
public readonly record struct TxnHeader(long ClientId, int Cxid, long Zxid, long TimeMs, int Type) : IJuteRecord
{
    public OpCode OpCode => (OpCode)Type;

    public static TxnHeader Read(ref JuteReader reader) =>
        new(reader.ReadLong(), reader.ReadInt(), reader.ReadLong(), reader.ReadLong(), reader.ReadInt());

    public void Write(JuteWriter writer)
    {
        writer.WriteLong(ClientId);
        writer.WriteInt(Cxid);
        writer.WriteLong(Zxid);
        writer.WriteLong(TimeMs);
        writer.WriteInt(Type);
    }
}

/// <summary>A transaction body. <see cref="Type"/> is the opcode the header carries for it.</summary>
public abstract record Txn : IJuteRecord
{
    public abstract OpCode Type { get; }
    public abstract void Write(JuteWriter writer);

    /// <summary>Decodes a body of the given type; null for types that carry none (createSession aside).</summary>
    public static Txn? Read(OpCode type, ref JuteReader reader) => type switch
    {
        OpCode.Create or OpCode.Create2 => CreateTxn.Read(ref reader, type),
        OpCode.CreateContainer => CreateContainerTxn.Read(ref reader),
        OpCode.CreateTtl => CreateTtlTxn.Read(ref reader),
        OpCode.Delete or OpCode.DeleteContainer => new DeleteTxn(reader.ReadRequiredString(), type),
        OpCode.SetData or OpCode.Reconfig => new SetDataTxn(reader.ReadRequiredString(), reader.ReadBuffer(), reader.ReadInt(), type),
        OpCode.SetAcl => new SetAclTxn(reader.ReadRequiredString(), Acl.ReadList(ref reader) ?? [], reader.ReadInt()),
        OpCode.Check => new CheckVersionTxn(reader.ReadRequiredString(), reader.ReadInt()),
        OpCode.CreateSession => new CreateSessionTxn(reader.ReadInt()),
        OpCode.CloseSession => reader.End ? new CloseSessionTxn(null) : new CloseSessionTxn(reader.ReadStringVector()),
        OpCode.Error => new ErrorTxn((ErrorCode)reader.ReadInt()),
        OpCode.Multi => MultiTxn.Read(ref reader),
        _ => throw new JuteException($"unknown txn type {(int)type}"),
    };

    public byte[] ToBytes()
    {
        using var writer = new JuteWriter();
        Write(writer);
        return writer.ToArray();
    }
}

/// <summary>create and create2 (the header type says which reply the client wants).</summary>
public sealed record CreateTxn(string Path, byte[]? Data, List<Acl> Acl, bool Ephemeral, int ParentCversion, OpCode HeaderType = OpCode.Create) : Txn
{
    public override OpCode Type => HeaderType;

    public static CreateTxn Read(ref JuteReader reader, OpCode type) => new(
        reader.ReadRequiredString(), reader.ReadBuffer(), Protocol.Acl.ReadList(ref reader) ?? [], reader.ReadBool(),
        reader.End ? -1 : reader.ReadInt(), type);

    public override void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteBuffer(Data);
        Protocol.Acl.WriteList(writer, Acl);
        writer.WriteBool(Ephemeral);
        writer.WriteInt(ParentCversion);
    }
}

public sealed record CreateContainerTxn(string Path, byte[]? Data, List<Acl> Acl, int ParentCversion) : Txn
{
    public override OpCode Type => OpCode.CreateContainer;

    public static CreateContainerTxn Read(ref JuteReader reader) => new(
        reader.ReadRequiredString(), reader.ReadBuffer(), Protocol.Acl.ReadList(ref reader) ?? [], reader.ReadInt());

    public override void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteBuffer(Data);
        Protocol.Acl.WriteList(writer, Acl);
        writer.WriteInt(ParentCversion);
    }
}

public sealed record CreateTtlTxn(string Path, byte[]? Data, List<Acl> Acl, int ParentCversion, long TtlMs) : Txn
{
    public override OpCode Type => OpCode.CreateTtl;

    public static CreateTtlTxn Read(ref JuteReader reader) => new(
        reader.ReadRequiredString(), reader.ReadBuffer(), Protocol.Acl.ReadList(ref reader) ?? [], reader.ReadInt(), reader.ReadLong());

    public override void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteBuffer(Data);
        Protocol.Acl.WriteList(writer, Acl);
        writer.WriteInt(ParentCversion);
        writer.WriteLong(TtlMs);
    }
}

public sealed record DeleteTxn(string Path, OpCode HeaderType = OpCode.Delete) : Txn
{
    public override OpCode Type => HeaderType;
    public override void Write(JuteWriter writer) => writer.WriteString(Path);
}

public sealed record SetDataTxn(string Path, byte[]? Data, int Version, OpCode HeaderType = OpCode.SetData) : Txn
{
    public override OpCode Type => HeaderType;

    public override void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteBuffer(Data);
        writer.WriteInt(Version);
    }
}

public sealed record SetAclTxn(string Path, List<Acl> Acl, int Version) : Txn
{
    public override OpCode Type => OpCode.SetAcl;

    public override void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        Protocol.Acl.WriteList(writer, Acl);
        writer.WriteInt(Version);
    }
}

public sealed record CheckVersionTxn(string Path, int Version) : Txn
{
    public override OpCode Type => OpCode.Check;

    public override void Write(JuteWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteInt(Version);
    }
}

public sealed record CreateSessionTxn(int TimeoutMs) : Txn
{
    public override OpCode Type => OpCode.CreateSession;
    public override void Write(JuteWriter writer) => writer.WriteInt(TimeoutMs);
}

/// <summary>closeSession lists the ephemeral paths to delete, in the order they go.</summary>
public sealed record CloseSessionTxn(List<string>? PathsToDelete) : Txn
{
    public override OpCode Type => OpCode.CloseSession;
    public override void Write(JuteWriter writer) => writer.WriteStringVector(PathsToDelete ?? []);
}

public sealed record ErrorTxn(ErrorCode Error) : Txn
{
    public override OpCode Type => OpCode.Error;
    public override void Write(JuteWriter writer) => writer.WriteInt((int)Error);
}

/// <summary>A multi: each op as (type, serialized body); every op shares the multi's zxid.</summary>
public sealed record MultiTxn(List<Txn> Txns) : Txn
{
    public override OpCode Type => OpCode.Multi;

    public static MultiTxn Read(ref JuteReader reader)
    {
        int count = reader.ReadVectorCount(8);
        var txns = new List<Txn>(Math.Max(count, 0));
        for (int i = 0; i < count; i++)
        {
            var type = (OpCode)reader.ReadInt();
            var body = reader.ReadBufferSpan();
            var inner = new JuteReader(body);
            txns.Add(Read(type, ref inner) ?? throw new JuteException($"multi op of type {(int)type} has no body"));
        }
        return new MultiTxn(txns);
    }

    public override void Write(JuteWriter writer)
    {
        writer.WriteInt(Txns.Count);
        foreach (var txn in Txns)
        {
            writer.WriteInt((int)txn.Type);
            int lengthAt = writer.Length;
            writer.WriteInt(0);
            txn.Write(writer);
            writer.PatchInt(lengthAt, writer.Length - lengthAt - 4);
        }
    }
}
