using Warden.Protocol;

namespace Warden.Server.Processing;

/// <summary>One op of a multi or multiRead request, decoded.</summary>
public sealed record MultiOp(OpCode Type, IJuteRecord Request);

/// <summary>
/// The body of multi and multiRead: (MultiHeader, op record) pairs until a header marked done. As in Apache's
/// MultiOperationRecord, a create's op type follows from its flags (a container becomes createContainer, a TTL
/// mode createTTL, anything else a plain create), whatever opcode the header named.
/// </summary>
public static class MultiOperation
{
    public static List<MultiOp> Read(ref JuteReader reader)
    {
        var ops = new List<MultiOp>();
        var header = MultiHeader.Read(ref reader);
        while (!header.Done)
        {
            ops.Add(ReadOp((OpCode)header.Type, ref reader));
            header = MultiHeader.Read(ref reader);
        }
        bool hasRead = ops.Exists(static o => o.Type is OpCode.GetChildren or OpCode.GetData);
        bool hasWrite = ops.Exists(static o => o.Type is not (OpCode.GetChildren or OpCode.GetData));
        if (hasRead && hasWrite) throw new JuteException("a multi mixes read and write operations");
        return ops;
    }

    private static MultiOp ReadOp(OpCode type, ref JuteReader reader)
    {
        switch (type)
        {
            case OpCode.Create or OpCode.Create2 or OpCode.CreateContainer:
            {
                var create = CreateRequest.Read(ref reader, withTtl: false);
                return new MultiOp(CreateOpType(create.Flags), create);
            }
            case OpCode.CreateTtl:
            {
                var create = CreateRequest.Read(ref reader, withTtl: true);
                return new MultiOp(CreateOpType(create.Flags), create);
            }
            case OpCode.Delete:
                return new MultiOp(type, DeleteRequest.Read(ref reader));
            case OpCode.SetData:
                return new MultiOp(type, SetDataRequest.Read(ref reader));
            case OpCode.Check:
                return new MultiOp(type, CheckVersionRequest.Read(ref reader));
            case OpCode.GetChildren or OpCode.GetData:
                return new MultiOp(type, PathWatchRequest.Read(ref reader));
            default:
                throw new JuteException($"invalid op type {(int)type} in a multi");
        }
    }

    private static OpCode CreateOpType(int flags) => (CreateMode)flags switch
    {
        CreateMode.Container => OpCode.CreateContainer,
        CreateMode.PersistentWithTtl or CreateMode.PersistentSequentialWithTtl => OpCode.CreateTtl,
        _ => OpCode.Create,
    };
}
