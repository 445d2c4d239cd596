using System.Globalization;

namespace Warden.Faults.Tests.Harness;

/// <summary>The faults a round can inject.</summary>
public enum FaultKind
{
    /// <summary>kill -9 the leader, restart it on its directories at heal.</summary>
    KillLeader,

    /// <summary>kill -9 one follower.</summary>
    KillFollower,

    /// <summary>kill -9 every member at once (only acknowledged writes on disk survive), restart all.</summary>
    KillAll,

    /// <summary>SIGSTOP the leader with its sockets open; SIGCONT at heal.</summary>
    PauseLeader,

    /// <summary>SIGSTOP one follower.</summary>
    PauseFollower,

    /// <summary>Cut the leader off from every other member (it is the minority), both directions.</summary>
    PartitionLeader,

    /// <summary>Cut one follower off, both directions.</summary>
    PartitionFollower,

    /// <summary>Split the members into a random majority and minority.</summary>
    PartitionRandom,

    /// <summary>The leader's outgoing bytes to its peers are stalled; it still hears them.</summary>
    OneWayLeaderMute,

    /// <summary>The leader hears nothing from its peers; its own messages still reach them.</summary>
    OneWayLeaderDeaf,

    /// <summary>Five members: two groups of two, joined only through the fifth (Jepsen's bridge).</summary>
    Bridge,

    /// <summary>The leader's dataLogDir (a tmpfs) filled to the last byte; emptied at heal, and the member restarted if it stopped.</summary>
    DiskFullLeader,

    /// <summary>One follower's dataLogDir filled.</summary>
    DiskFullFollower,
}

/// <summary>One round of the schedule: a fault, how long it is held, and a number that picks among candidates.</summary>
public sealed record Fault(int Round, FaultKind Kind, int HoldMs, int Pick)
{
    /// <summary>
    /// The faults drawn from unless others are named: every kind but the full disks, which need root (a tmpfs
    /// per member) and are asked for by name.
    /// </summary>
    public static readonly IReadOnlyList<FaultKind> DefaultKinds =
        Enum.GetValues<FaultKind>().Where(k => k is not (FaultKind.DiskFullLeader or FaultKind.DiskFullFollower)).ToArray();

    public bool IsDiskFull => Kind is FaultKind.DiskFullLeader or FaultKind.DiskFullFollower;

    public bool IsPartition => Kind is FaultKind.PartitionLeader or FaultKind.PartitionFollower or FaultKind.PartitionRandom
        or FaultKind.OneWayLeaderMute or FaultKind.OneWayLeaderDeaf or FaultKind.Bridge;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"round {Round}: {Name(Kind)} for {HoldMs} ms (pick {Pick})");

    public static string Name(FaultKind kind) => kind switch
    {
        FaultKind.KillLeader => "kill-leader",
        FaultKind.KillFollower => "kill-follower",
        FaultKind.KillAll => "kill-all",
        FaultKind.PauseLeader => "pause-leader",
        FaultKind.PauseFollower => "pause-follower",
        FaultKind.PartitionLeader => "partition-leader",
        FaultKind.PartitionFollower => "partition-follower",
        FaultKind.PartitionRandom => "partition-random",
        FaultKind.OneWayLeaderMute => "one-way-leader-mute",
        FaultKind.OneWayLeaderDeaf => "one-way-leader-deaf",
        FaultKind.Bridge => "bridge",
        FaultKind.DiskFullLeader => "disk-full-leader",
        FaultKind.DiskFullFollower => "disk-full-follower",
        _ => kind.ToString(),
    };

    public static FaultKind Parse(string name) =>
        Enum.GetValues<FaultKind>().FirstOrDefault(k => Name(k) == name.Trim(), (FaultKind)(-1)) is var kind && (int)kind >= 0
            ? kind
            : throw new ArgumentException($"unknown fault '{name}'; known: {string.Join(", ", Enum.GetValues<FaultKind>().Select(Name))}");
}

/// <summary>The whole schedule of a run, drawn from its seed: the same seed gives the same faults in the same order.</summary>
public static class Schedule
{
    /// <summary>
    /// <paramref name="rounds"/> faults drawn uniformly from <paramref name="kinds"/> (the bridge only with five
    /// members), each held between <paramref name="minHoldMs"/> and <paramref name="maxHoldMs"/>.
    /// </summary>
    public static IReadOnlyList<Fault> Generate(int seed, int rounds, int members, IReadOnlyList<FaultKind> kinds, int minHoldMs, int maxHoldMs)
    {
        var usable = kinds.Where(k => k != FaultKind.Bridge || members >= 5).ToList();
        if (usable.Count == 0)
        {
            throw new ArgumentException("no fault kind usable with this many members", nameof(kinds));
        }
        var random = new Random(seed);
        return Enumerable.Range(1, rounds)
            .Select(round => new Fault(round, usable[random.Next(usable.Count)], random.Next(minHoldMs, maxHoldMs + 1), random.Next(1_000_000)))
            .ToList();
    }
}
