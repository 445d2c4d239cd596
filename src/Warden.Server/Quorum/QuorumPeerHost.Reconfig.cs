using System.Text;
using Microsoft.Extensions.Logging;
using Warden.Consensus;
using Warden.Data;
using Warden.Server.Processing;

namespace Warden.Server.Quorum;

// Dynamic reconfiguration: what the request loop needs to prepare a reconfig, /zookeeper/config, and the dynamic
// configuration files.
public sealed partial class QuorumPeerHost
{
    private QuorumView? _quorumView;

    /// <summary>/zookeeper/config starts as this server's configuration, as Apache's QuorumPeer puts it there at start.</summary>
    private void AttachReconfiguration(ServerCore core)
    {
        core.QuorumView = () => Volatile.Read(ref _quorumView);
        core.Post(new ConfigNodeWork(Encoding.UTF8.GetBytes(_ensemble.ConfigText()), _ensemble.ConfigVersion));
        // Apache keeps the zoo.cfg it started from before it ever rewrites it (QuorumPeerConfig.backupOldConfig).
        if (_settings.ReconfigEnabled && _ensemble.DynamicConfigFilePath is null && _ensemble.ConfigFilePath is { } path)
        {
            TryFiles(() => DynamicConfigFiles.BackUpStaticFile(path));
        }
    }

    /// <summary>On an established leader, the followers synchronised with it now (Apache's Leader.isQuorumSynced reads these).</summary>
    private void NoteQuorumView(IReadOnlyList<LearnerStatus> learners)
    {
        QuorumView? view = _peer.IsEstablishedLeader
            ? new QuorumView(_ensemble.MyId, learners.Where(l => l.Synced && !l.IsObserver).Select(l => l.Id.Value).ToHashSet())
            : null;
        Volatile.Write(ref _quorumView, view);
    }

    /// <summary>
    /// Whether a batch may have changed which learners are synchronised: a role change, a learner let go, or an UPTODATE
    /// sent. The reconfig check reads the view at once, as Apache's reads its learners live, not a tick later.
    /// </summary>
    private static bool LearnersChanged(Ready ready)
    {
        if (ready.RoleChanged || ready.ClosedLearners.Count > 0) return true;
        foreach (var envelope in ready.SendAfterPersist)
        {
            if (envelope.Message is PacketMessage { Packet.Type: Consensus.Wire.PacketType.UpToDate }) return true;
        }
        return false;
    }

    /// <summary>
    /// The peer took a configuration without a txn: a new leader versioned it, or NEWLEADER brought the leader's. It goes
    /// into /zookeeper/config (behind the commits already posted) and into the dynamic file.
    /// </summary>
    private void OnConfigAdopted(ConfigChange change)
    {
        _core!.Post(new ConfigNodeWork(change.Text, change.Version));
        string text = Encoding.UTF8.GetString(change.Text);
        RecordConfig(text, change.Version);
        ReachMembers(text);
    }

    /// <summary>A reconfig txn committed: the peer put it in force (see <see cref="OnConfigAdopted"/>); say so.</summary>
    private void OnReconfigCommitted(TxnHeaderAndBody txn)
    {
        if (txn.Body is not SetDataTxn { Data: { } data }) return;
        string text = Encoding.UTF8.GetString(data);
        _log.LogInformation("Reconfigured: version 0x{Version:x}, members {Members}", ConfigTexts.VersionOf(data),
            string.Join(", ", text.Split('\n').Where(l => l.StartsWith("server.", StringComparison.Ordinal))));
    }

    /// <summary>The election and quorum transports address the members of the new configuration (and this server still).</summary>
    private void ReachMembers(string text)
    {
        List<EnsembleMember> members;
        try
        {
            members = Reconfiguration.ParseConfigText(text).Members;
        }
        catch (ReconfigArgumentException e)
        {
            _log.LogWarning("A configuration this server took does not parse ({Reason}); its peers' addresses stay as they were", e.Message);
            return;
        }
        var peers = members.Select(m => new Transport.QuorumPeerAddress(new ServerId(m.Id), m.Host, m.QuorumPort, m.ElectionPort)).ToList();
        if (peers.All(p => p.Id != _transportOptions.Self)) peers.Add(_transportOptions.SelfAddress);
        _transportOptions.Peers = peers;
    }

    /// <summary>The configuration text a reconfig txn carries; null for every other txn (the core asks this of each txn it commits).</summary>
    private static byte[]? ReconfigText(byte[] txnData)
    {
        // TxnHeader{long clientId; int cxid; long zxid; long time; int type}: the type is at byte 28, read first so that
        // every other txn costs one comparison.
        const int typeOffset = 28;
        if (txnData.Length < typeOffset + 4
            || System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(txnData.AsSpan(typeOffset)) != (int)Protocol.OpCode.Reconfig)
        {
            return null;
        }
        try
        {
            var txn = DecodeTxn(txnData);
            return txn.Header.OpCode == Protocol.OpCode.Reconfig && txn.Body is SetDataTxn { Data: { } data } ? data : null;
        }
        catch (Protocol.JuteException)
        {
            return null;
        }
    }

    private void RecordConfig(string text, long version)
    {
        if (!_settings.ReconfigEnabled || _ensemble.ConfigFilePath is not { } path) return;
        TryFiles(() => DynamicConfigFiles.Write(path, text, version, _ensemble.MyId));
    }

    /// <summary>A configuration file that cannot be written costs this server its memory of the change on restart, not its service.</summary>
    private void TryFiles(Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogError("Cannot write the dynamic configuration next to {Config}: {Reason}", _ensemble.ConfigFilePath, e.Message);
        }
    }
}
