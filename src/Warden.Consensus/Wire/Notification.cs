using Warden.Protocol;

namespace Warden.Consensus.Wire;

/// <summary>
/// A leader election notification as Apache's FastLeaderElection sends it (format version 2).
/// <code>
/// int  state            LOOKING 0, FOLLOWING 1, LEADING 2, OBSERVING 3
/// long leader           the proposed or elected leader
/// long zxid             the proposed leader's last logged zxid
/// long electionEpoch    the sender's election round (logical clock)
/// long peerEpoch        the epoch of the proposed leader's history
/// int  version          2
/// int  configLength, then that many bytes of the sender's quorum configuration
/// </code>
/// </summary>
public sealed record Notification(
    PeerState State, ServerId Leader, Zxid Zxid, long ElectionEpoch, long PeerEpoch, int Version, byte[] Config)
{
    public const int CurrentVersion = 2;

    /// <summary>The size of everything before the config bytes.</summary>
    public const int FixedSize = 44;

    public static Notification From(PeerState state, Vote vote, long electionEpoch) =>
        new(state, vote.Leader, vote.Zxid, electionEpoch, vote.PeerEpoch, CurrentVersion, []);

    public Vote Vote => new(Leader, Zxid, ElectionEpoch, PeerEpoch);

    public void Write(JuteWriter writer)
    {
        writer.WriteInt((int)State);
        writer.WriteLong(Leader.Value);
        writer.WriteLong(Zxid.Value);
        writer.WriteLong(ElectionEpoch);
        writer.WriteLong(PeerEpoch);
        writer.WriteInt(Version);
        writer.WriteBuffer(Config.AsSpan());
    }

    public byte[] Encode()
    {
        using var writer = new JuteWriter(FixedSize + Config.Length);
        Write(writer);
        return writer.ToArray();
    }

    /// <summary>Decodes a version-2 notification; anything shorter or with an unknown state is rejected.</summary>
    public static Notification Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < FixedSize) throw new JuteException($"notification of {bytes.Length} bytes, expected at least {FixedSize}");
        var reader = new JuteReader(bytes);
        int state = reader.ReadInt();
        if (state is < 0 or > 3) throw new JuteException($"notification state {state} is not a server state");
        var leader = new ServerId(reader.ReadLong());
        var zxid = new Zxid(reader.ReadLong());
        long electionEpoch = reader.ReadLong();
        long peerEpoch = reader.ReadLong();
        int version = reader.ReadInt();
        var config = reader.ReadBuffer() ?? [];
        if (!reader.End) throw new JuteException($"{reader.Remaining} bytes left after a notification");
        return new Notification((PeerState)state, leader, zxid, electionEpoch, peerEpoch, version, config);
    }
}
