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

    /// <summary>The size of a version-2 frame before the config bytes.</summary>
    public const int FixedSize = 44;

    /// <summary>The shortest frame Apache accepts: state, leader, zxid and election epoch, with no peer epoch.</summary>
    public const int MinimumSize = 28;

    /// <summary>The frame of servers before 3.4.6: the peer epoch is present, the version is not.</summary>
    public const int UnversionedSize = 40;

    /// <summary>
    /// Builds a version-2 notification. <paramref name="config"/> is the sender's quorum configuration text as
    /// Apache writes it (the <c>server.N=...</c> lines joined by newlines, then <c>version=&lt;hex&gt;</c>).
    /// </summary>
    public static Notification From(PeerState state, Vote vote, long electionEpoch, byte[]? config = null) =>
        new(state, vote.Leader, vote.Zxid, electionEpoch, vote.PeerEpoch, CurrentVersion, config ?? []);

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

    /// <summary>
    /// Decodes a notification as Apache's FastLeaderElection receiver does: a 28-byte frame has no peer epoch (it is
    /// taken from the zxid), a 40-byte frame has no version, a longer one has a version and, above version 1, a
    /// config. Trailing bytes are ignored; frames shorter than 28 bytes, frames that end inside a field, config lengths
    /// that are negative or longer than the frame, and states outside 0-3 are rejected.
    /// </summary>
    public static Notification Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < MinimumSize) throw new JuteException($"notification of {bytes.Length} bytes, expected at least {MinimumSize}");
        var reader = new JuteReader(bytes);
        int state = reader.ReadInt();
        if (state is < 0 or > 3) throw new JuteException($"notification state {state} is not a server state");
        var leader = new ServerId(reader.ReadLong());
        var zxid = new Zxid(reader.ReadLong());
        long electionEpoch = reader.ReadLong();
        long peerEpoch;
        int version = 0;
        byte[] config = [];
        if (bytes.Length == MinimumSize)
        {
            peerEpoch = zxid.Epoch;
        }
        else
        {
            peerEpoch = reader.ReadLong();
            if (bytes.Length != UnversionedSize) version = reader.ReadInt();
            if (version > 1)
            {
                int length = reader.ReadInt();
                if (length < 0 || length > bytes.Length) throw new JuteException($"notification config of {length} bytes in a frame of {bytes.Length}");
                if (length > reader.Remaining) throw new JuteException($"notification config of {length} bytes, {reader.Remaining} left");
                config = bytes.Slice(bytes.Length - reader.Remaining, length).ToArray();
            }
        }
        return new Notification((PeerState)state, leader, zxid, electionEpoch, peerEpoch, version, config);
    }
}
