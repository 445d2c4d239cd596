using Warden.Data;
using Warden.Protocol;

namespace Warden.Server.Processing;

// The commit stream and the replies: every committed txn is applied in zxid order, whichever server proposed it,
// and answers the local request it belongs to (Apache's CommitProcessor and FinalRequestProcessor).
public sealed partial class ServerCore
{
    private void OnCommit(TxnHeaderAndBody txn)
    {
        var header = txn.Header;
        if (header.Zxid <= Tree.LastProcessedZxid)
        {
            throw new InvariantViolationException(
                $"commit of 0x{header.Zxid:x} arrived after 0x{Tree.LastProcessedZxid:x} was applied; txns must be applied in zxid order");
        }
        var result = Tree.Apply(header, txn.Body);
        _preparer.Pending.OnApplied(header.Zxid);
        var proposal = _awaiting.Match(header.ClientId, header.Cxid, header.Zxid);
        switch (header.OpCode)
        {
            case OpCode.CreateSession:
                OnSessionCreated(proposal, header.ClientId, (txn.Body as CreateSessionTxn)?.TimeoutMs ?? _settings.MinSessionTimeoutMs);
                return;
            case OpCode.CloseSession:
                OnSessionClosed(proposal, header.ClientId);
                return;
        }
        if (proposal is null) return;
        var connection = proposal.Connection;
        if (connection is null || connection.State.Closed) return;
        TakeAnswered(connection, proposal.Entry);
        var request = new PendingRequest(proposal.Xid, proposal.RequestType, [], proposal.ReceivedAtMs);
        // The txn is applied whatever happens next; a fault while answering costs only this connection.
        Guarded(connection, () =>
        {
            if (proposal.ReplyError is { } replyError) Reply(connection, request, replyError, null);
            else if (header.OpCode == OpCode.Error) Reply(connection, request, result.Error, null);
            else if (result.Error != ErrorCode.Ok && header.OpCode != OpCode.Multi) Reply(connection, request, result.Error, null);
            else Reply(connection, request, ErrorCode.Ok, WriteReplyBody(proposal.RequestType, result));
            // Rule 3: the reads queued behind this write are answered now, before the next commit is applied.
            Advance(connection);
        });
    }

    private IJuteRecord? WriteReplyBody(OpCode requestType, ApplyResult result) => requestType switch
    {
        // Apache answers a reconfig with the new configuration and the stat of /zookeeper/config, as getData would.
        OpCode.Reconfig => new GetDataResponse(Tree.GetNode(DataTree.ConfigPath)?.Data, result.Stat!.Value),
        OpCode.Create => new CreateResponse(result.Path!),
        OpCode.Create2 or OpCode.CreateTtl or OpCode.CreateContainer => new Create2Response(result.Path!, result.Stat!.Value),
        OpCode.SetData or OpCode.SetAcl => new StatResponse(result.Stat!.Value),
        OpCode.Multi => MultiReplyBody(result),
        _ => null,
    };

    private static MultiResponse MultiReplyBody(ApplyResult result)
    {
        var results = new List<(OpCode, IJuteRecord?)>();
        foreach (var sub in result.MultiResults ?? [])
        {
            results.Add(sub.Type switch
            {
                OpCode.Create => (OpCode.Create, new CreateResponse(sub.Path!)),
                OpCode.Create2 or OpCode.CreateTtl or OpCode.CreateContainer => (sub.Type, new Create2Response(sub.Path!, sub.Stat!.Value)),
                OpCode.SetData => (OpCode.SetData, new StatResponse(sub.Stat!.Value)),
                OpCode.Delete or OpCode.Check => (sub.Type, null),
                _ => (OpCode.Error, new ErrorResponse((int)sub.Error)),
            });
        }
        return new MultiResponse(results);
    }

    private void Reply(IClientConnection connection, PendingRequest request, ErrorCode error, IJuteRecord? body, long? zxidOverride = null)
    {
        var state = connection.State;
        long zxid = zxidOverride ?? Tree.LastProcessedZxid;
        SendFrame(connection, new ReplyHeader(request.Xid, zxid, (int)error), error == ErrorCode.Ok ? body : null);
        long latency = Math.Max(0, NowMs - request.ReceivedAtMs);
        state.RecordLatency(latency);
        Stats.RecordLatency(latency, request.Type);
        if (error == ErrorCode.AuthFailed) Stats.AuthFailures++;
        state.LastCxid = request.Xid;
        state.LastZxid = zxid;
        state.LastOperation = OperationName(request.Type);
        state.LastResponseAtMs = NowMs;
        Answered(connection);
    }

    private void SendFrame(IClientConnection connection, ReplyHeader header, IJuteRecord? body)
    {
        _writer.Reset();
        _writer.BeginFrame();
        header.Write(_writer);
        body?.Write(_writer);
        _writer.EndFrame();
        Stats.RecordResponse(_writer.Length - 4);
        connection.Send(_writer.ToFrame());
        connection.State.PacketsSent++;
        Stats.PacketsSent++;
    }

    /// <summary>The four-letter operation names Apache shows in cons output.</summary>
    private static string OperationName(OpCode type) => type switch
    {
        OpCode.Ping => "PING", OpCode.Create or OpCode.Create2 or OpCode.CreateTtl or OpCode.CreateContainer => "CREA",
        OpCode.Delete => "DELE", OpCode.SetData => "SETD", OpCode.SetAcl => "SETA", OpCode.GetAcl => "GETA",
        OpCode.Exists => "EXIS", OpCode.GetData => "GETD", OpCode.GetChildren or OpCode.GetChildren2 => "GETC",
        OpCode.Sync => "SYNC", OpCode.Multi => "MULT", OpCode.MultiRead => "MLTR", OpCode.CloseSession => "CLOS",
        OpCode.SetWatches => "SETW", OpCode.SetWatches2 => "STW2", OpCode.Check => "CHEC", OpCode.AddWatch => "ADDW",
        OpCode.CheckWatches => "CHKW", OpCode.RemoveWatches => "REMW", OpCode.WhoAmI => "HOMI",
        OpCode.GetEphemerals => "GETE", OpCode.GetAllChildrenNumber => "GETACN", OpCode.Auth => "AUTH",
        _ => "NA",
    };
}
