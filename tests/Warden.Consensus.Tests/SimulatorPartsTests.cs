using Warden.Consensus.Tests.Simulation;
using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Consensus.Tests;

/// <summary>The simulated disk and network do what the fault model promises; the checkers rely on it.</summary>
public sealed class SimulatorPartsTests
{
    private static Txn T(int counter) => new(Zxid.From(1, counter), new byte[100]);

    [Fact]
    public void Disk_keeps_synced_writes_and_loses_unsynced_ones_on_crash()
    {
        var disk = new SimDisk();
        disk.Write(new SaveAcceptedEpoch(1));
        disk.Write(new AppendTxn(T(1)));
        disk.Sync();
        disk.Write(new AppendTxn(T(2)));
        disk.Write(new SaveCurrentEpoch(1));
        Assert.False(disk.Durable.Holds(T(2).Zxid, Fnv.Of(T(2).Data)));
        disk.Crash(new SimRandom(1), keepSomeUnsyncedProbability: 0);
        var (state, snapshot) = disk.Recover();
        Assert.Null(snapshot);
        Assert.Equal(1, state.AcceptedEpoch);
        Assert.Equal(0, state.CurrentEpoch);
        Assert.Equal([T(1).Zxid], state.Log.Select(t => t.Zxid));
    }

    [Fact]
    public void Disk_cuts_a_torn_last_record_on_recovery()
    {
        // Across seeds, a crash keeps a random prefix of the unsynced bytes: whole records survive, a torn one never.
        var seen = new HashSet<int>();
        for (ulong seed = 1; seed <= 40; seed++)
        {
            var disk = new SimDisk();
            disk.Write(new AppendTxn(T(1)));
            disk.Sync();
            int recordSize = disk.Length;
            disk.Write(new AppendTxn(T(2)));
            disk.Write(new AppendTxn(T(3)));
            disk.Crash(new SimRandom(seed), keepSomeUnsyncedProbability: 1);
            bool torn = disk.Length % recordSize != 0;
            var (state, _) = disk.Recover();
            Assert.Equal(0, disk.Length % recordSize);
            Assert.Equal(Enumerable.Range(1, state.Log.Count).Select(i => T(i).Zxid), state.Log.Select(t => t.Zxid));
            seen.Add(torn ? -state.Log.Count : state.Log.Count);
        }
        Assert.Contains(seen, s => s < 0);
    }

    [Fact]
    public void Disk_recovers_a_snapshot_then_the_log_after_it()
    {
        var disk = new SimDisk();
        disk.Write(new AppendTxn(T(1)));
        disk.Write(new SaveSnapshot(T(5).Zxid, ReplicaState.EncodeSnapshot([T(4), T(5)])));
        disk.Write(new AppendTxn(T(6)));
        disk.Write(new TruncateLog(T(5).Zxid));
        disk.Write(new AppendTxn(T(7)));
        disk.Sync();
        var (state, snapshot) = disk.Recover();
        Assert.Equal(T(5).Zxid, state.SnapshotZxid);
        Assert.Equal([T(7).Zxid], state.Log.Select(t => t.Zxid));
        Assert.Equal([T(4).Zxid, T(5).Zxid], ReplicaState.DecodeSnapshot(snapshot).Select(t => t.Zxid));
        Assert.True(disk.Durable.Holds(T(4).Zxid, Fnv.Of(T(4).Data)));
        Assert.False(disk.Durable.Holds(T(6).Zxid, Fnv.Of(T(6).Data)));
    }

    [Fact]
    public void Connection_delivers_in_order_and_nothing_after_a_break()
    {
        var network = new SimNetwork(new SimRandom(3)) { Faults = new NetworkFaults(0, 0, 0, 1, 30) };
        ServerId learner = new(1), leader = new(2);
        var info = new QuorumPacket(PacketType.FollowerInfo, Zxid.Zero, new LearnerInfo(learner, QuorumPacket.ProtocolVersion, 0).Encode());
        network.Send(new Envelope(learner, leader, Channel.ToLeader, new PacketMessage(info)));
        for (int i = 1; i <= 20; i++)
        {
            network.Send(new Envelope(learner, leader, Channel.ToLeader, new PacketMessage(new QuorumPacket(PacketType.Ack, Zxid.From(1, i)))));
        }
        var order = new List<long>();
        while (network.NextDue(long.MaxValue) is { } e) order.Add(((PacketMessage)e.Message).Packet.Zxid.Value);
        Assert.Equal(order.Order(), order);
        Assert.Equal(21, order.Count);

        network.Send(new Envelope(leader, learner, Channel.ToLearner, new PacketMessage(new QuorumPacket(PacketType.Ping, Zxid.Zero))));
        network.Block(leader, learner);
        network.Send(new Envelope(leader, learner, Channel.ToLearner, new PacketMessage(new QuorumPacket(PacketType.Ping, Zxid.From(0, 1)))));
        network.HealAll();
        network.Send(new Envelope(leader, learner, Channel.ToLearner, new PacketMessage(new QuorumPacket(PacketType.Ping, Zxid.From(0, 2)))));
        // The first ping was already in flight on the connection the partition broke; nothing of it arrives.
        Assert.Null(network.NextDue(long.MaxValue));
    }

    [Fact]
    public void Election_datagrams_can_be_duplicated_and_reordered()
    {
        var network = new SimNetwork(new SimRandom(5)) { Faults = new NetworkFaults(0, 0.5, 0, 1, 50) };
        for (int i = 0; i < 50; i++)
        {
            var notification = new Notification(PeerState.Looking, new ServerId(1), Zxid.Zero, i, 0, 2, []);
            network.Send(new Envelope(new ServerId(1), new ServerId(2), Channel.Election, new ElectionMessage(notification)));
        }
        var epochs = new List<long>();
        while (network.NextDue(long.MaxValue) is { } e) epochs.Add(((ElectionMessage)e.Message).Notification.ElectionEpoch);
        Assert.True(epochs.Count > 50);
        Assert.NotEqual(epochs.Order(), epochs);
    }
}
