using System.Text;
using Warden.Data;
using Warden.Protocol;
using Warden.Server.Quorum;
using Warden.Server.Security;

namespace Warden.Server.Processing;

/// <summary>
/// What the leader's quorum looks like to the request loop when it prepares a reconfig: this server's id and the
/// followers (participants, known to the configuration or not) that are connected and synchronised with it now.
/// </summary>
public sealed record QuorumView(long MyId, IReadOnlySet<long> SyncedFollowers);

// reconfig: the new configuration becomes a txn that sets /zookeeper/config (Apache's PrepRequestProcessor).
public sealed partial class RequestPreparer
{
    /// <summary>
    /// Checks a reconfig in Apache's order, so that the same request fails with the same code: ReconfigDisabled;
    /// Unimplemented on a standalone server; ReconfigInProgress while an earlier one is uncommitted; BadVersion when
    /// curConfigId is neither -1 nor the current version; BadArguments for a malformed or unworkable membership
    /// (a malformed leaving id fails as Apache's NumberFormatException does, with MarshallingError);
    /// NewConfigNoQuorum unless a quorum of the new voters is synchronised with this leader; and last, NoAuth unless
    /// the ACL of /zookeeper/config (world:anyone:r) grants WRITE, which only the super user gets.
    /// The txn sets /zookeeper/config to the new configuration, whose version is this txn's zxid, with version -1.
    /// </summary>
    private Txn PrepareReconfig(ReconfigRequest request, long zxid, long timeMs, IReadOnlyList<Id> authInfo)
    {
        if (!settings.ReconfigEnabled) throw new KeeperException(ErrorCode.ReconfigDisabled);
        var view = quorumView?.Invoke();
        if (settings.Ensemble is null || view is null) throw new KeeperException(ErrorCode.Unimplemented);
        if (Pending.HasPending(DataTree.ConfigPath)) throw new KeeperException(ErrorCode.ReconfigInProgress);

        var node = Pending.GetExisting(DataTree.ConfigPath);
        var (current, version) = Reconfiguration.ParseConfigText(Encoding.UTF8.GetString(tree.GetNode(DataTree.ConfigPath)?.Data ?? []));
        if (request.CurrentConfigId != -1 && request.CurrentConfigId != version) throw new KeeperException(ErrorCode.BadVersion);

        List<EnsembleMember> next;
        try
        {
            next = request.NewMembers is { } members
                ? Reconfiguration.Bulk(members)
                : Reconfiguration.Incremental(current, request.JoiningServers, request.LeavingServers);
            Reconfiguration.CheckVoters(next, settings.StandaloneEnabled);
        }
        catch (ReconfigArgumentException)
        {
            throw new KeeperException(ErrorCode.BadArguments);
        }
        catch (FormatException)
        {
            throw new KeeperException(ErrorCode.MarshallingError);
        }

        var voters = next.Where(m => !m.IsObserver).Select(m => m.Id).ToHashSet();
        int synced = voters.Count(id => id == view.MyId || view.SyncedFollowers.Contains(id));
        if (synced < voters.Count / 2 + 1) throw new KeeperException(ErrorCode.NewConfigNoQuorum);

        if (!AclPolicy.Allows(node.Acl, Perms.Write, authInfo, settings.Authentication)) throw new KeeperException(ErrorCode.NoAuth);
        byte[] text = Encoding.UTF8.GetBytes(Reconfiguration.ConfigText(next, zxid));
        Pending.Add(node with { Zxid = zxid, Version = -1, DataLength = text.Length });
        return new SetDataTxn(DataTree.ConfigPath, text, -1, OpCode.Reconfig);
    }
}
