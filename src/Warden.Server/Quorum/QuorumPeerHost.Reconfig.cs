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
    /// The peer took a configuration without a txn: a new leader versioned it, or NEWLEADER brought the leader's. It goes
    /// into /zookeeper/config (behind the commits already posted) and into the dynamic file.
    /// </summary>
    private void OnConfigAdopted(ConfigChange change)
    {
        _core!.Post(new ConfigNodeWork(change.Text, change.Version));
        RecordConfig(Encoding.UTF8.GetString(change.Text), change.Version);
    }

    /// <summary>A reconfig txn committed: the loop has set /zookeeper/config from it; the files follow.</summary>
    private void OnReconfigCommitted(TxnHeaderAndBody txn)
    {
        if (txn.Body is not SetDataTxn { Data: { } data }) return;
        string text = Encoding.UTF8.GetString(data);
        RecordConfig(text, ConfigTexts.VersionOf(data));
        _log.LogInformation("Reconfigured: version 0x{Version:x}, members {Members}", ConfigTexts.VersionOf(data),
            string.Join(", ", text.Split('\n').Where(l => l.StartsWith("server.", StringComparison.Ordinal))));
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
