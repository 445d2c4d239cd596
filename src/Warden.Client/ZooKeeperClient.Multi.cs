using Warden.Protocol;

namespace Warden.Client;

public sealed partial class ZooKeeperClient
{
    /// <summary>
    /// Applies write operations (create, delete, setData, check) atomically: all or none. On failure throws
    /// a <see cref="MultiOperationException"/> naming the operation that failed, with every result.
    /// </summary>
    public async Task<IReadOnlyList<OpResult>> MultiAsync(IEnumerable<Op> ops, CancellationToken cancellationToken = default)
    {
        var list = ops.ToList();
        if (list.Any(op => op.IsRead)) throw new ArgumentException("multi takes only create, delete, setData and check; use MultiReadAsync for reads");
        if (list.Count == 0) return [];
        var results = await SendAsync(OpCode.Multi, null, MultiBody(list), ReadMultiResults, null, cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < results.Count; i++)
        {
            if (results[i] is OpResult.Error { Code: not ErrorCode.Ok and not ErrorCode.RuntimeInconsistency } failed)
            {
                throw new MultiOperationException(failed.Code, list[i].Path, results, i);
            }
        }
        return results;
    }

    /// <summary>
    /// Reads several nodes (getData, getChildren) in one round trip. Not atomic: each result stands alone, and a
    /// failed read is an <see cref="OpResult.Error"/> in its place rather than an exception.
    /// </summary>
    public Task<IReadOnlyList<OpResult>> MultiReadAsync(IEnumerable<Op> ops, CancellationToken cancellationToken = default)
    {
        var list = ops.ToList();
        if (list.Any(op => !op.IsRead)) throw new ArgumentException("multiRead takes only getData and getChildren; use MultiAsync for writes");
        if (list.Count == 0) return Task.FromResult<IReadOnlyList<OpResult>>([]);
        return SendAsync(OpCode.MultiRead, null, MultiBody(list), ReadMultiResults, null, cancellationToken);
    }

    private MultiRequestBody MultiBody(List<Op> ops)
    {
        var serverPaths = ops.Select(op => ServerPath(op.Path, op.IsSequential)).ToList();
        // TTL arguments are checked here, before anything is sent, as for a single create.
        foreach (var create in ops.OfType<CreateOp>()) CreateRequests.TtlMs(create.Mode, create.Ttl);
        return new MultiRequestBody(ops, serverPaths);
    }

    /// <summary>
    /// Reads a MultiResponse: a MultiHeader before each result, the last one marked done. A failed operation has
    /// type −1 and an ErrorResponse body.
    /// </summary>
    private IReadOnlyList<OpResult> ReadMultiResults(ref JuteReader reader)
    {
        var results = new List<OpResult>();
        while (true)
        {
            var header = MultiHeader.Read(ref reader);
            if (header.Done) return results;
            results.Add((OpCode)header.Type switch
            {
                OpCode.Create => new OpResult.Create(_connectString.ToClientPath(reader.ReadRequiredString()), null),
                OpCode.Create2 or OpCode.CreateTtl or OpCode.CreateContainer => ReadCreate2Result(ref reader),
                OpCode.Delete => new OpResult.Delete(),
                OpCode.SetData => new OpResult.SetData(Stat.Read(ref reader)),
                OpCode.Check => new OpResult.Check(),
                OpCode.GetData => ReadGetDataResult(ref reader),
                OpCode.GetChildren => new OpResult.GetChildren(reader.ReadStringVector() ?? []),
                OpCode.Error => new OpResult.Error((ErrorCode)reader.ReadInt()),
                _ => throw new JuteException($"unknown result type {header.Type} in a multi reply"),
            });
        }
    }

    private OpResult ReadCreate2Result(ref JuteReader reader)
    {
        var response = Create2Response.Read(ref reader);
        return new OpResult.Create(_connectString.ToClientPath(response.Path), response.Stat);
    }

    private static OpResult ReadGetDataResult(ref JuteReader reader)
    {
        var response = GetDataResponse.Read(ref reader);
        return new OpResult.GetData(response.Data ?? [], response.Stat);
    }

    /// <summary>MultiOperationRecord: each op behind a MultiHeader{type, done=false, err=−1}, ended by {−1, true, −1}.</summary>
    private sealed record MultiRequestBody(List<Op> Ops, List<string> ServerPaths) : IJuteRecord
    {
        public void Write(JuteWriter writer)
        {
            for (int i = 0; i < Ops.Count; i++)
            {
                new MultiHeader((int)Ops[i].Code, false, -1).Write(writer);
                Ops[i].WriteBody(writer, ServerPaths[i]);
            }
            new MultiHeader(-1, true, -1).Write(writer);
        }
    }
}
