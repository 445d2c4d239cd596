using System.Buffers.Binary;
using Warden.Consensus;
using Warden.Consensus.Wire;
using Warden.Protocol;

namespace Warden.Server.Quorum.Transport;

/// <summary>
/// Reads election notifications as leniently as Apache's FastLeaderElection does, so older senders are understood:
/// 28 bytes (no peerEpoch: it comes from the zxid's high half), 40 bytes (peerEpoch and an ignored int, version 0),
/// and otherwise a version, then the config when the version is above 1. Anything else is not a notification.
/// </summary>
internal static class NotificationCodec
{
    private const int MinimumBytes = 28;
    private const int WithPeerEpochBytes = 40;

    /// <summary>Decodes one frame; null with a reason when Apache would drop it too.</summary>
    public static Notification? TryDecode(ReadOnlySpan<byte> frame, out string? problem)
    {
        problem = null;
        if (frame.Length < MinimumBytes)
        {
            problem = $"a notification of {frame.Length} bytes (at least {MinimumBytes} expected)";
            return null;
        }
        int state = BinaryPrimitives.ReadInt32BigEndian(frame);
        if (state is < 0 or > 3)
        {
            problem = $"a notification with state {state}, which is not a server state";
            return null;
        }
        var leader = new ServerId(BinaryPrimitives.ReadInt64BigEndian(frame[4..]));
        var zxid = new Zxid(BinaryPrimitives.ReadInt64BigEndian(frame[12..]));
        long electionEpoch = BinaryPrimitives.ReadInt64BigEndian(frame[20..]);
        if (frame.Length == MinimumBytes)
        {
            return new Notification((PeerState)state, leader, zxid, electionEpoch, zxid.Value >> 32, 0, []);
        }
        if (frame.Length < 36)
        {
            problem = $"a notification of {frame.Length} bytes ends inside its peerEpoch";
            return null;
        }
        long peerEpoch = BinaryPrimitives.ReadInt64BigEndian(frame[28..]);
        if (frame.Length <= WithPeerEpochBytes)
        {
            return new Notification((PeerState)state, leader, zxid, electionEpoch, peerEpoch, 0, []);
        }
        int version = BinaryPrimitives.ReadInt32BigEndian(frame[36..]);
        if (version <= 1) return new Notification((PeerState)state, leader, zxid, electionEpoch, peerEpoch, version, []);
        try
        {
            var reader = new JuteReader(frame[40..]);
            var config = reader.ReadBuffer() ?? [];
            return new Notification((PeerState)state, leader, zxid, electionEpoch, peerEpoch, version, config);
        }
        catch (JuteException e)
        {
            problem = $"a notification whose config does not fit its frame ({e.Message})";
            return null;
        }
    }
}
