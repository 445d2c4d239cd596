using Warden.Protocol;

namespace Warden.Server.Processing;

/// <summary>
/// This server's requests waiting for their txns to come back on the commit stream, one queue per session, as
/// Apache's CommitProcessor keeps them. A committed txn answers the oldest waiting request of its session when the
/// (session id, cxid) pair matches; otherwise it came from another server (or from the leader's own clock, such as
/// an expiry) and is applied with no reply here. A session's writes commit in the order it sent them, so only the
/// head of its queue can match.
/// </summary>
internal sealed class AwaitingCommits
{
    private readonly Dictionary<long, Queue<Proposal>> _bySession = [];

    public int Count { get; private set; }

    public void Add(Proposal proposal)
    {
        if (!_bySession.TryGetValue(proposal.SessionId, out var queue))
        {
            queue = new Queue<Proposal>();
            _bySession[proposal.SessionId] = queue;
        }
        queue.Enqueue(proposal);
        Count++;
    }

    /// <summary>Takes the waiting request a committed txn answers, if this server holds it.</summary>
    public Proposal? Match(long sessionId, int cxid, long zxid)
    {
        if (!_bySession.TryGetValue(sessionId, out var queue)) return null;
        var head = queue.Peek();
        if (head.Txn is { } proposed)
        {
            // A txn this server prepared itself must come back exactly as proposed and in order (rule 1); anything
            // else means the log or the consensus layer lost or reordered a txn.
            if (proposed.Header.Zxid > zxid) return null;
            if (proposed.Header.Zxid != zxid)
            {
                throw new InvariantViolationException(
                    $"txn 0x{proposed.Header.Zxid:x} of session 0x{sessionId:x} was proposed here but 0x{zxid:x} committed in its place");
            }
        }
        else if (head.Xid != cxid)
        {
            return null;
        }
        queue.Dequeue();
        if (queue.Count == 0) _bySession.Remove(sessionId);
        Count--;
        return head;
    }

    /// <summary>Forgets everything, when this server stops serving: those clients will retry elsewhere.</summary>
    public List<Proposal> Clear()
    {
        var all = _bySession.Values.SelectMany(q => q).ToList();
        _bySession.Clear();
        Count = 0;
        return all;
    }
}
