using Warden.Consensus.Wire;

namespace Warden.Consensus.Tests.Simulation;

/// <summary>The network's faults, as probabilities per message and delays in time units (ten to a tick).</summary>
public sealed record NetworkFaults(double Drop, double Duplicate, double BreakConnection, int MinDelay, int MaxDelay)
{
    public static readonly NetworkFaults None = new(0, 0, 0, 1, 5);
}

/// <summary>
/// An in-memory network. Election notifications are datagrams here: they may be dropped, duplicated, delayed and
/// so reordered. Quorum packets ride connections that behave as TCP does: a learner opens one with FOLLOWERINFO or
/// OBSERVERINFO, the leader accepts it on delivery, and within it packets arrive in order or, once anything is
/// lost (a partition, a reset, a crash), not at all until the learner opens a new one.
/// </summary>
public sealed class SimNetwork(SimRandom random)
{
    public const int UnitsPerTick = 10;

    private readonly PriorityQueue<InFlight, (long Time, long Sequence)> _queue = new();
    private readonly Dictionary<(ServerId Learner, ServerId Leader), Link> _links = [];
    private readonly HashSet<(ServerId From, ServerId To)> _blocked = [];
    private long _sequence;
    private long _nextConnection = 1;

    public NetworkFaults Faults { get; set; } = NetworkFaults.None;

    /// <summary>Called with (learner, leader) whenever a live quorum connection between them breaks.</summary>
    public Action<ServerId, ServerId>? ConnectionBroken { get; set; }
    public long Now { get; set; }
    public int Pending => _queue.Count;

    private sealed class Link
    {
        public long LearnerConnection;
        public long LeaderConnection;
        public long LastArrivalToLeader;
        public long LastArrivalToLearner;
    }

    private readonly record struct InFlight(Envelope Envelope, long Connection);

    public void Block(ServerId from, ServerId to) => _blocked.Add((from, to));

    public void HealAll() => _blocked.Clear();

    public bool IsBlocked(ServerId from, ServerId to) => _blocked.Contains((from, to));

    /// <summary>A crashed server's connections are gone; its peers find out by silence, as with a dead host.</summary>
    public void BreakConnectionsOf(ServerId server)
    {
        foreach (var ((learner, leader), link) in _links)
        {
            if (learner == server || leader == server) Break(learner, leader, link);
        }
    }

    /// <summary>Breaks the quorum connection between two servers, whichever of them leads.</summary>
    public void BreakConnection(ServerId a, ServerId b)
    {
        foreach (var key in new[] { (a, b), (b, a) })
        {
            if (_links.TryGetValue(key, out var link)) Break(key.Item1, key.Item2, link);
        }
    }

    private void Break(ServerId learner, ServerId leader, Link link)
    {
        bool wasLive = link.LearnerConnection != 0 || link.LeaderConnection != 0;
        link.LearnerConnection = link.LeaderConnection = 0;
        if (wasLive) ConnectionBroken?.Invoke(learner, leader);
    }

    public void Send(Envelope envelope)
    {
        if (envelope.Channel == Channel.Election)
        {
            SendDatagram(envelope);
            return;
        }
        bool toLeader = envelope.Channel == Channel.ToLeader;
        var key = toLeader ? (envelope.From, envelope.To) : (envelope.To, envelope.From);
        if (!_links.TryGetValue(key, out var link)) _links[key] = link = new Link();
        if (toLeader && envelope.Message is PacketMessage { Packet.Type: PacketType.FollowerInfo or PacketType.ObserverInfo })
        {
            link.LearnerConnection = _nextConnection++;
        }
        long connection = toLeader ? link.LearnerConnection : link.LeaderConnection;
        if (connection == 0) return;
        if (IsBlocked(envelope.From, envelope.To) || random.Chance(Faults.BreakConnection))
        {
            Break(key.Item1, key.Item2, link);
            return;
        }
        // In order within a connection: never before the previous packet (ties keep send order by sequence), but
        // any number may arrive at once, as a burst does, so a long DIFF does not crawl at one packet per unit.
        long arrival = Now + random.Between(Faults.MinDelay, Faults.MaxDelay);
        if (toLeader) arrival = link.LastArrivalToLeader = Math.Max(arrival, link.LastArrivalToLeader);
        else arrival = link.LastArrivalToLearner = Math.Max(arrival, link.LastArrivalToLearner);
        _queue.Enqueue(new InFlight(envelope, connection), (arrival, _sequence++));
    }

    private void SendDatagram(Envelope envelope)
    {
        if (IsBlocked(envelope.From, envelope.To) || random.Chance(Faults.Drop)) return;
        int copies = random.Chance(Faults.Duplicate) ? 2 : 1;
        for (int i = 0; i < copies; i++)
        {
            long arrival = Now + random.Between(Faults.MinDelay, Faults.MaxDelay);
            _queue.Enqueue(new InFlight(envelope, 0), (arrival, _sequence++));
        }
    }

    /// <summary>Takes the next message due at or before <paramref name="until"/>, or null; drops stale connection traffic.</summary>
    public Envelope? NextDue(long until)
    {
        while (_queue.TryPeek(out var next, out var priority) && priority.Time <= until)
        {
            _queue.Dequeue();
            Now = Math.Max(Now, priority.Time);
            if (Admit(next)) return next.Envelope;
        }
        return null;
    }

    private bool Admit(InFlight message)
    {
        var envelope = message.Envelope;
        if (envelope.Channel == Channel.Election) return true;
        bool toLeader = envelope.Channel == Channel.ToLeader;
        var link = _links[toLeader ? (envelope.From, envelope.To) : (envelope.To, envelope.From)];
        if (!toLeader) return message.Connection == link.LearnerConnection;
        if (envelope.Message is PacketMessage { Packet.Type: PacketType.FollowerInfo or PacketType.ObserverInfo })
        {
            // The leader accepts a connection only if the learner has not already given up on it.
            if (message.Connection != link.LearnerConnection) return false;
            link.LeaderConnection = message.Connection;
            return true;
        }
        return message.Connection == link.LeaderConnection;
    }
}
