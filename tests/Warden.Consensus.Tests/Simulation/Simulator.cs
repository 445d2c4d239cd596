using System.Text;
using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus.Tests.Simulation;

/// <summary>
/// Runs the production core, unchanged, on simulated servers, disks and network, all driven by one seed. Every
/// delivery and every tick is a step; the safety checkers run after each step. A run is a fault phase and then a
/// liveness phase that heals a quorum and requires a leader, new commits and convergence within a bound.
/// Scripted tests use the same machinery with faults off and drive it step by step.
/// </summary>
public sealed class Simulator
{
    private readonly SimRandom _random;
    private readonly Dictionary<ServerId, SimNode> _byId = [];
    private readonly HashSet<(ServerId Leader, long Zxid)> _awaitingReport = [];
    private readonly List<DurableView> _voterDisks = [];
    private bool _faultsOn;
    private bool _proposing;
    private int _nextValue;
    private ulong _trace = Fnv.Offset;

    /// <summary>Draws for sync requests only, so that turning them on leaves every other draw of a seed as it was.</summary>
    private readonly SimRandom _syncRandom;
    private readonly List<(ServerId Learner, ServerId Leader)> _brokenConnections = [];

    /// <summary>For each (learner, leader, epoch), the leader's last proposed zxid at each sync it accepted, in order.</summary>
    private readonly Dictionary<(ServerId Learner, ServerId Leader, int Epoch), Queue<Zxid>> _syncsAwaited = [];

    public Simulator(ulong seed, SimConfig config)
    {
        Seed = seed;
        Config = config;
        _random = new SimRandom(seed);
        Network = new SimNetwork(_random) { Faults = config.Faults };
        _syncRandom = new SimRandom(seed ^ 0x5A1CUL);
        if (config.ReportDisconnects) Network.ConnectionBroken = (learner, leader) => _brokenConnections.Add((learner, leader));
        var voters = Enumerable.Range(1, config.Voters).Select(i => new ServerId(i)).ToList();
        var observers = Enumerable.Range(config.Voters + 1, config.Observers).Select(i => new ServerId(i)).ToList();
        Checker = new SafetyChecker(voters.Count / 2 + 1);
        foreach (var id in voters.Concat(observers))
        {
            var options = new PeerOptions
            {
                Id = id,
                Voters = voters,
                Observers = observers,
                InitLimitTicks = config.InitLimitTicks,
                SyncLimitTicks = config.SyncLimitTicks,
                RetainedCommittedTxns = config.RetainedCommittedTxns,
                FinalizeWaitMs = config.FinalizeWaitMs,
            };
            var node = new SimNode(options, new SimDisk { LiesAboutSync = config.DiskLiesAboutSync, ForgetsEpochs = config.DiskForgetsEpochs });
            Nodes.Add(node);
            _byId[id] = node;
        }
        foreach (var node in Nodes) Start(node);
    }

    public ulong Seed { get; }
    public SimConfig Config { get; }
    public SimNetwork Network { get; }
    public SafetyChecker Checker { get; }
    public List<SimNode> Nodes { get; } = [];
    public long Ticks { get; private set; }
    public long Messages { get; private set; }
    public int Crashes { get; private set; }
    public ulong TraceHash => _trace;

    /// <summary>How many runs ended with the request loops' trees compared (seeds that run ServerCore).</summary>
    public int TreesCompared { get; private set; }

    /// <summary>SYNCs learners received, each checked to follow every txn its leader had proposed when it accepted the sync.</summary>
    public int SyncsAnswered { get; private set; }

    /// <summary>Each protocol error a core reported, with when and where, for failure messages.</summary>
    public List<string> ProtocolErrorLog { get; } = [];

    /// <summary>Called with every message delivered to an up server, for scenario tests that watch the protocol.</summary>
    public Action<Envelope>? OnDeliver { get; set; }

    /// <summary>
    /// For scenario tests: a message for which this returns true is lost on arrival, and its connection breaks
    /// with it, as a TCP stream that lost data would.
    /// </summary>
    public Func<Envelope, bool>? LoseOnArrival { get; set; }

    public SimNode Node(int id) => _byId[new ServerId(id)];

    /// <summary>Runs the fault phase and the liveness phase; throws <see cref="SimulationFailedException"/> with the seed.</summary>
    public SimResult Run()
    {
        try
        {
            _faultsOn = true;
            _proposing = true;
            RunTicks(Config.SafetyTicks);
            _faultsOn = false;
            RunLiveness();
            return new SimResult(Seed, _trace, Checker.HistoryLength, Checker.ReportedCount, Messages, Crashes,
                Nodes.Sum(n => n.ProtocolErrors), ProtocolErrorLog.FirstOrDefault());
        }
        catch (Exception error) when (error is not SimulationFailedException)
        {
            throw new SimulationFailedException(Describe(error), error);
        }
    }

    public string Describe(Exception error)
    {
        var text = new StringBuilder();
        text.AppendLine($"simulation seed {Seed} failed at tick {Ticks}: {error.GetType().Name}: {error.Message}");
        text.AppendLine($"config: {Config}");
        foreach (var node in Nodes) text.AppendLine($"  {node}");
        text.AppendLine($"replay: WARDEN_SIM_SEED={Seed} dotnet test tests/Warden.Consensus.Tests --filter \"FullyQualifiedName~SimulationTests.ReplaySeed\"");
        return text.ToString();
    }

    private void RunLiveness()
    {
        Network.Faults = Config.BreakNetworkForLiveness ? new NetworkFaults(1, 0, 1, 1, 5) : NetworkFaults.None;
        Network.HealAll();
        // Heal a quorum: every server comes back except at most a minority of voters, chosen by the seed.
        int mayStayDown = _random.Next(Config.Voters / 2 + 1);
        foreach (var node in Nodes.Where(n => !n.IsUp))
        {
            if (node.IsVoter && mayStayDown > 0) mayStayDown--;
            else Restart(node);
        }
        int before = Checker.HistoryLength;
        if (!RunUntil(() => EstablishedLeader() is not null && Checker.HistoryLength >= before + 3, Config.LivenessTicks))
        {
            throw new LivenessViolationException(
                $"no leader committed 3 new txns within {Config.LivenessTicks} ticks of healing (history {before} -> {Checker.HistoryLength})");
        }
        _proposing = false;
        if (!RunUntil(Converged, Config.ConvergenceTicks))
        {
            throw new LivenessViolationException($"up replicas did not converge within {Config.ConvergenceTicks} ticks");
        }
        foreach (var node in Nodes.Where(n => n.IsUp)) Checker.CheckReportedKept(node.Id, node.State!.Applied);
        if (Config.ServerCoreStateMachine) CheckSameTrees();
    }

    /// <summary>Every up server's request loop holds the same tree as the leader's, byte for byte as a SNAP carries it.</summary>
    private void CheckSameTrees()
    {
        var leader = EstablishedLeader()!;
        var expected = leader.Core!.Image();
        foreach (var node in Nodes.Where(n => n.IsUp && n != leader))
        {
            if (node.Core!.LastProcessedZxid != node.State!.LastApplied.Value || !node.Core.Image().AsSpan().SequenceEqual(expected))
            {
                throw new InvalidOperationException(
                    $"{node.Id}'s request loop at 0x{node.Core.LastProcessedZxid:x} holds another tree than leader {leader.Id}'s at 0x{leader.Core.LastProcessedZxid:x}");
            }
        }
        TreesCompared++;
    }

    public SimNode? EstablishedLeader()
    {
        SimNode? found = null;
        foreach (var node in Nodes)
        {
            if (node.Peer is { IsEstablishedLeader: true } peer && (found is null || peer.CurrentEpoch > found.Peer!.CurrentEpoch)) found = node;
        }
        return found;
    }

    /// <summary>Every up server has applied exactly what the established leader has.</summary>
    public bool Converged()
    {
        var leader = EstablishedLeader();
        if (leader is null) return false;
        var target = leader.State!.LastApplied;
        return Nodes.Where(n => n.IsUp).All(n => n.State!.LastApplied == target && n.Peer!.State != PeerState.Looking);
    }

    public bool RunUntil(Func<bool> condition, int maxTicks)
    {
        for (int i = 0; i < maxTicks; i++)
        {
            if (condition()) return true;
            RunTick();
        }
        return condition();
    }

    public void RunTicks(int ticks)
    {
        for (int i = 0; i < ticks; i++) RunTick();
    }

    public void RunTick()
    {
        long end = (Ticks + 1) * SimNetwork.UnitsPerTick;
        ReportDisconnects();
        // One time unit at a time, so that election timers fire in their place among the deliveries.
        for (long unit = Ticks * SimNetwork.UnitsPerTick + 1; unit <= end; unit++)
        {
            FireElectionTimers(unit);
            while (Network.NextDue(unit) is { } envelope)
            {
                Deliver(envelope);
                ReportDisconnects();
            }
        }
        Network.Now = end;
        Ticks++;
        Mix(Ticks);
        if (_faultsOn) InjectFaults();
        if (_proposing) ProposeSome();
        if (_proposing && _syncRandom.Chance(Config.SyncRequestsPerTick)) RequestSync();
        foreach (var node in Nodes.Where(n => n.IsUp))
        {
            node.Peer!.Tick();
            Process(node);
        }
        AfterStep();
        ReportDisconnects();
    }

    /// <summary>A simulated tick stands for tickTime/2 of Apache's default tickTime 2000, so 1000 ms.</summary>
    public const int MillisecondsPerTick = 1000;

    private void FireElectionTimers(long unit)
    {
        foreach (var node in Nodes)
        {
            if (node.ElectionTimer is not { } timer || timer.Due > unit || node.Peer is not { } peer) continue;
            node.ElectionTimer = null;
            peer.OnElectionTimer(timer.Token);
            Process(node);
            AfterStep();
        }
    }

    /// <summary>Tells the up ends of each broken connection, as a failed socket read would.</summary>
    private void ReportDisconnects()
    {
        while (_brokenConnections.Count > 0)
        {
            var broken = _brokenConnections.ToList();
            _brokenConnections.Clear();
            foreach (var (learner, leader) in broken)
            {
                foreach (var (node, other) in new[] { (_byId[learner], leader), (_byId[leader], learner) })
                {
                    if (node.Peer is not { } peer) continue;
                    peer.OnDisconnected(other);
                    Process(node);
                    AfterStep();
                }
            }
        }
    }

    /// <summary>A serving learner forwards a client sync: a REQUEST of type 9 (sync) on its stream to the leader.</summary>
    private void RequestSync()
    {
        var learners = Nodes.Where(n => n.Peer is { IsServing: true, IsEstablishedLeader: false }).ToList();
        if (learners.Count == 0) return;
        var node = _syncRandom.Pick(learners);
        byte[] header = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9];
        Assert.True(node.Peer!.SendToLeader(new QuorumPacket(PacketType.Request, new Zxid(-1), header)));
        Process(node);
        AfterStep();
    }

    /// <summary>The leader's host: a forwarded sync is answered through the core; every PING reply carries a table.</summary>
    private void OnFromLearner(SimNode node, ServerId from, QuorumPacket packet)
    {
        var peer = node.Peer!;
        if (packet.Type == PacketType.Ping && packet.Data is null) throw new InvalidOperationException($"PING reply from {from} without its touch table");
        if (packet.Type != PacketType.Request) return;
        var before = peer.LastLoggedZxid;
        if (!peer.RequestSync(from)) return;
        var key = (from, node.Id, peer.CurrentEpoch);
        if (!_syncsAwaited.TryGetValue(key, out var queue)) _syncsAwaited[key] = queue = new Queue<Zxid>();
        queue.Enqueue(before);
    }

    /// <summary>
    /// The learner's host: a SYNC must come after the commits of everything its leader had proposed when it accepted
    /// the sync. A SYNC lost with a broken connection leaves its entry behind; the next one then checks against an
    /// older, lower zxid, which is weaker but never wrong.
    /// </summary>
    private void OnFromLeader(SimNode node, QuorumPacket packet)
    {
        var peer = node.Peer!;
        if (packet.Type != PacketType.Sync) return;
        // A packet that broke the protocol later in the same step may have sent the learner looking; nothing to check.
        if (peer.Leader is not { } leader) return;
        var key = (node.Id, leader, peer.CurrentEpoch);
        if (!_syncsAwaited.TryGetValue(key, out var queue) || queue.Count == 0) throw new InvalidOperationException($"{node.Id} got a SYNC nobody asked for");
        var required = queue.Dequeue();
        if (node.State!.LastApplied < required)
        {
            throw new InvalidOperationException($"{node.Id} got SYNC at {node.State.LastApplied}, before {required} that its leader had proposed");
        }
        SyncsAnswered++;
    }

    private void Deliver(Envelope envelope)
    {
        var node = _byId[envelope.To];
        if (node.Peer is null) return;
        if (LoseOnArrival?.Invoke(envelope) == true)
        {
            if (envelope.Channel != Channel.Election) Network.BreakConnection(envelope.From, envelope.To);
            return;
        }
        Messages++;
        Mix(Network.Now, envelope.From.Value, envelope.To.Value, TraceCode(envelope.Message));
        OnDeliver?.Invoke(envelope);
        node.Peer.Step(envelope);
        Process(node);
        AfterStep();
    }

    private static long TraceCode(Message message) => message switch
    {
        PacketMessage packet => ((long)packet.Packet.Type << 56) ^ packet.Packet.Zxid.Value,
        ElectionMessage election => (100L << 56) ^ election.Notification.Leader.Value ^ (election.Notification.ElectionEpoch << 8),
        _ => 0,
    };

    private void AfterStep()
    {
        _voterDisks.Clear();
        foreach (var node in Nodes)
        {
            if (node.IsVoter) _voterDisks.Add(node.Disk.Durable);
        }
        Checker.CheckDurable(_voterDisks);
    }

    /// <summary>Carries out the core's batches as a correct host must (or as a planted bug does).</summary>
    private void Process(SimNode node)
    {
        if (node.Peer is { } current && current.ProtocolErrors > node.SeenProtocolErrors)
        {
            node.SeenProtocolErrors = current.ProtocolErrors;
            ProtocolErrorLog.Add($"tick {Ticks} {node.Id}: {current.LastProtocolError}");
        }
        while (node.Peer is { HasReady: true } peer)
        {
            var ready = peer.TakeReady();
            ready.AttachPingReplies(() => [0, 0, 0, 0, 0, 0, 0, (byte)node.Id.Value, 0, 0, 0x75, 0x30]);
            foreach (var envelope in ready.SendNow) Network.Send(envelope);
            if (ready.ElectionTimer is { } timer)
            {
                // At least one unit later, so that a timer never fires within the step that armed it.
                long units = Math.Max(1, (long)timer.DelayMs * SimNetwork.UnitsPerTick / MillisecondsPerTick);
                node.ElectionTimer = (timer.Token, Network.Now + units);
            }
            foreach (var op in ready.Persist)
            {
                if (_faultsOn && _random.Chance(Config.CrashDuringPersist))
                {
                    node.Disk.Write(op);
                    Crash(node);
                    return;
                }
                node.Disk.Write(op);
                if (op is AppendTxn append) Checker.OnLogged(node.Id, append.Txn);
                if (op is SaveSnapshot save) foreach (var txn in ReplicaState.DecodeSnapshot(save.Snapshot)) Checker.OnLogged(node.Id, txn);
            }
            // The planted bug syncs batches that promise nothing, so a promise can go out while its data is volatile.
            if (!Config.HostSkipsSync || ready.SendAfterPersist.Count == 0) node.Disk.Sync();
            foreach (var update in ready.StateMachine) Apply(node, update);
            ready.AttachSnapshots(node.State!);
            foreach (var envelope in ready.SendAfterPersist) Network.Send(envelope);
            peer.Advance(ready);
            // The host closes the connections of learners the leader gave up on.
            foreach (var learner in ready.ClosedLearners) Network.BreakConnection(node.Id, learner);
            foreach (var (from, packet) in ready.FromLearners) OnFromLearner(node, from, packet);
        }
    }

    private void Apply(SimNode node, StateMachineUpdate update)
    {
        var state = node.State!;
        switch (update)
        {
            case ApplyTxn apply:
                Checker.OnApplied(node.Id, state.Applied.Count, apply.Txn);
                state.Applied.Add(apply.Txn);
                node.Core?.Apply(apply.Txn);
                if (_awaitingReport.Remove((node.Id, apply.Txn.Zxid.Value))) Checker.OnReported(apply.Txn);
                break;
            case LeaderPacket leader:
                // A SYNC in its place between the commits: everything before it on the stream is applied by now.
                OnFromLeader(node, leader.Packet);
                break;
            case RestoreSnapshot restore:
                state.Applied.Clear();
                foreach (var txn in ReplicaState.DecodeSnapshot(restore.Snapshot))
                {
                    Checker.OnApplied(node.Id, state.Applied.Count, txn);
                    state.Applied.Add(txn);
                }
                if (state.LastApplied != restore.Zxid) throw new InvalidOperationException($"snapshot at {restore.Zxid} ends at {state.LastApplied}");
                node.Core?.Reset(state.Applied);
                break;
        }
    }

    private void Start(SimNode node)
    {
        var (recovered, snapshot) = node.Disk.Recover();
        var state = new ReplicaState();
        if (snapshot is not null)
        {
            foreach (var txn in ReplicaState.DecodeSnapshot(snapshot))
            {
                Checker.OnApplied(node.Id, state.Applied.Count, txn);
                state.Applied.Add(txn);
            }
        }
        node.State = state;
        if (Config.ServerCoreStateMachine)
        {
            node.Core ??= new ServerCoreReplica(node.Id) { CorruptsData = Config.LoopCorruptsData && node.Id.Value == 2 };
            node.Core.Reset(state.Applied);
        }
        node.ElectionTimer = null;
        node.Peer = new ZabPeer(node.Options, recovered);
        Process(node);
    }

    public void Crash(SimNode node)
    {
        if (!node.IsUp) return;
        Crashes++;
        Mix(-1, node.Id.Value);
        node.PastProtocolErrors += node.Peer!.ProtocolErrors;
        node.SeenProtocolErrors = 0;
        node.Peer = null;
        node.ElectionTimer = null;
        node.State = null;
        node.Disk.Crash(_random, Config.KeepUnsyncedOnCrash);
        Network.BreakConnectionsOf(node.Id);
        _awaitingReport.RemoveWhere(entry => entry.Leader == node.Id);
    }

    public void Restart(SimNode node)
    {
        if (node.IsUp) return;
        Mix(-2, node.Id.Value);
        Start(node);
    }

    /// <summary>Offers one client txn to every server that believes it is an established leader.</summary>
    public List<(SimNode Leader, Zxid Zxid, byte[] Data)> Propose()
    {
        var accepted = new List<(SimNode, Zxid, byte[])>();
        foreach (var node in Nodes.Where(n => n.Peer is { IsEstablishedLeader: true }).ToList())
        {
            var data = Config.ServerCoreStateMachine
                ? ServerCoreReplica.CreateTxn(node.Peer!.NextProposalZxid!.Value, _nextValue++)
                : Encoding.UTF8.GetBytes($"v{_nextValue++}");
            var result = node.Peer!.Propose(data);
            if (result.Accepted)
            {
                _awaitingReport.Add((node.Id, result.Zxid.Value));
                accepted.Add((node, result.Zxid, data));
            }
            Process(node);
            AfterStep();
        }
        return accepted;
    }

    private void ProposeSome()
    {
        int count = _random.Chance(Config.ProposePerTick) ? _random.Between(1, 3) : 0;
        for (int i = 0; i < count; i++) Propose();
    }

    private void InjectFaults()
    {
        if (_random.Chance(Config.CrashPerTick))
        {
            var up = Nodes.Where(n => n.IsUp).ToList();
            if (up.Count > 0) Crash(_random.Pick(up));
        }
        if (_random.Chance(Config.RestartPerTick))
        {
            var down = Nodes.Where(n => !n.IsUp).ToList();
            if (down.Count > 0) Restart(_random.Pick(down));
        }
        if (_random.Chance(Config.PartitionPerTick)) Partition();
        if (_random.Chance(Config.HealPerTick))
        {
            Mix(-3);
            Network.HealAll();
        }
    }

    /// <summary>Cuts the ensemble in two, both ways, or blocks one direction between two servers.</summary>
    private void Partition()
    {
        if (_random.Chance(0.3))
        {
            var from = _random.Pick(Nodes);
            var to = _random.Pick(Nodes);
            if (from != to) Network.Block(from.Id, to.Id);
            Mix(-4, from.Id.Value, to.Id.Value);
            return;
        }
        var side = Nodes.Where(_ => _random.Chance(0.5)).Select(n => n.Id).ToHashSet();
        foreach (var a in Nodes)
        {
            foreach (var b in Nodes)
            {
                if (side.Contains(a.Id) != side.Contains(b.Id)) Network.Block(a.Id, b.Id);
            }
        }
        Mix(-5, side.Sum(s => s.Value));
    }

    private void Mix(params long[] values)
    {
        foreach (var value in values) _trace = Fnv.Add(_trace, value);
    }
}
