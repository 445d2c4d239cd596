using System.Globalization;
using Warden.Client;
using Warden.Data;
using Warden.Protocol;

namespace Warden.Cli.Shell;

// setquota, listquota and delquota: quota records are ordinary nodes under /zookeeper/quota, written by the
// shell as zkCli writes them (the server only keeps the usage counts current).
public sealed partial class ShellSession
{
    private const string QuotaRoot = "/zookeeper/quota";

    private async Task SetQuotaAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ParseAtLeast(SetQuotaOptions, words, 2, "setquota");
        string path = cl.Arguments[1];
        if (path.StartsWith(QuotaRoot, StringComparison.Ordinal))
        {
            WriteErr($"cannot set a quota under the path: {QuotaRoot}");
            return;
        }
        var quota = new StatsTrack();
        quota.Set(StatsTrack.Count, -1);
        quota.Set(StatsTrack.Bytes, -1);
        quota.Set(StatsTrack.CountHardLimit, -1);
        quota.Set(StatsTrack.ByteHardLimit, -1);
        if (!ReadQuotaValues(cl, quota)) return;
        CheckPath(path);
        if (await zk.ExistsAsync(path, ct).ConfigureAwait(false) is null) throw new CliError($"{path} does not exist.");
        await CheckNoChildQuotaAsync(zk, path, ct).ConfigureAwait(false);
        await CheckNoParentQuotaAsync(zk, path, ct).ConfigureAwait(false);
        if (await zk.ExistsAsync(QuotaRoot, ct).ConfigureAwait(false) is null)
        {
            await CreateIgnoringExistsAsync(zk, "/zookeeper", ct).ConfigureAwait(false);
            await CreateIgnoringExistsAsync(zk, QuotaRoot, ct).ConfigureAwait(false);
        }
        string quotaPath = QuotaRoot;
        foreach (string part in path.Split('/').Skip(1))
        {
            quotaPath += "/" + part;
            if (await zk.ExistsAsync(quotaPath, ct).ConfigureAwait(false) is null) await CreateIgnoringExistsAsync(zk, quotaPath, ct).ConfigureAwait(false);
        }
        string statPath = quotaPath + "/" + QuotaPaths.StatNode;
        string limitPath = quotaPath + "/" + QuotaPaths.LimitNode;
        if (await zk.ExistsAsync(limitPath, ct).ConfigureAwait(false) is null)
        {
            await zk.CreateAsync(limitPath, quota.ToBytes(), CreateMode.Persistent, null, null, ct).ConfigureAwait(false);
            var usage = new StatsTrack();
            usage.Set(StatsTrack.Count, 0);
            usage.Set(StatsTrack.Bytes, 0);
            await zk.CreateAsync(statPath, usage.ToBytes(), CreateMode.Persistent, null, null, ct).ConfigureAwait(false);
            var written = new StatsTrack((await zk.GetDataAsync(limitPath, ct).ConfigureAwait(false)).Data);
            var counted = new StatsTrack((await zk.GetDataAsync(statPath, ct).ConfigureAwait(false)).Data);
            WarnIfBelowUsage(written, counted);
            return;
        }
        var existing = new StatsTrack((await zk.GetDataAsync(limitPath, ct).ConfigureAwait(false)).Data);
        foreach (string key in new[] { StatsTrack.Count, StatsTrack.Bytes, StatsTrack.CountHardLimit, StatsTrack.ByteHardLimit })
        {
            if (quota.Get(key) > -1) existing.Set(key, quota.Get(key));
        }
        var current = new StatsTrack((await zk.GetDataAsync(statPath, ct).ConfigureAwait(false)).Data);
        WarnIfBelowUsage(existing, current);
        await zk.SetDataAsync(limitPath, existing.ToBytes(), -1, ct).ConfigureAwait(false);
    }

    private bool ReadQuotaValues(ParsedOptions cl, StatsTrack quota)
    {
        foreach (var (option, key, isCount) in new[]
        {
            ("n", StatsTrack.Count, true), ("b", StatsTrack.Bytes, false),
            ("N", StatsTrack.CountHardLimit, true), ("B", StatsTrack.ByteHardLimit, false),
        })
        {
            if (!cl.Has(option)) continue;
            if (!long.TryParse(cl.Value(option), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ||
                (isCount && value is < int.MinValue or > int.MaxValue))
            {
                WriteErr("NumberFormatException happens when parsing the option value");
                return false;
            }
            if (isCount && value <= 0)
            {
                WriteErr("the num quota must be greater than zero");
                return false;
            }
            if (!isCount && value < 0)
            {
                WriteErr("the bytes quota must be greater than or equal to zero");
                return false;
            }
            quota.Set(key, value);
        }
        return true;
    }

    private void WarnIfBelowUsage(StatsTrack quota, StatsTrack usage)
    {
        long count = usage.Get(StatsTrack.Count), bytes = usage.Get(StatsTrack.Bytes);
        if ((quota.Get(StatsTrack.Count) > -1 && quota.Get(StatsTrack.Count) < count) ||
            (quota.Get(StatsTrack.CountHardLimit) > -1 && quota.Get(StatsTrack.CountHardLimit) < count))
        {
            WriteOut($"[Warning]: the count quota you create is less than the existing count:{count}");
        }
        if ((quota.Get(StatsTrack.Bytes) > -1 && quota.Get(StatsTrack.Bytes) < bytes) ||
            (quota.Get(StatsTrack.ByteHardLimit) > -1 && quota.Get(StatsTrack.ByteHardLimit) < bytes))
        {
            WriteOut($"[Warning]: the bytes quota you create is less than the existing bytes:{bytes}");
        }
    }

    private static async Task CreateIgnoringExistsAsync(ZooKeeperClient zk, string path, CancellationToken ct)
    {
        try
        {
            await zk.CreateAsync(path, null, CreateMode.Persistent, null, null, ct).ConfigureAwait(false);
        }
        catch (ZooKeeperException error) when (error.Code == ErrorCode.NodeExists)
        {
            // Someone else made it first; that is all we wanted.
        }
    }

    /// <summary>A quota on a node below <paramref name="path"/> forbids one on the path itself.</summary>
    private async Task CheckNoChildQuotaAsync(ZooKeeperClient zk, string path, CancellationToken ct)
    {
        string own = QuotaRoot + path;
        try
        {
            await zk.GetDataAsync(own, ct).ConfigureAwait(false);
        }
        catch (ZooKeeperException error) when (error.Code == ErrorCode.NoNode)
        {
            return;
        }
        async Task Check(string quotaNode)
        {
            List<string> children;
            try
            {
                children = [.. (await zk.GetChildrenAsync(quotaNode, ct).ConfigureAwait(false)).Children];
            }
            catch (ZooKeeperException error) when (error.Code == ErrorCode.NoNode)
            {
                return;
            }
            if (quotaNode != own && children.Contains(QuotaPaths.LimitNode))
            {
                throw new CliError($"{path} has a child {quotaNode[QuotaRoot.Length..]} which has a quota");
            }
        }
        await Check(own).ConfigureAwait(false);
        await VisitDepthFirstAsync(zk, own, false, Check, ct).ConfigureAwait(false);
    }

    /// <summary>A quota on an ancestor of <paramref name="path"/> forbids one on the path.</summary>
    private static async Task CheckNoParentQuotaAsync(ZooKeeperClient zk, string path, CancellationToken ct)
    {
        var parts = path.Split('/');
        string quotaPath = QuotaRoot;
        for (int i = 1; i < parts.Length - 1; i++)
        {
            quotaPath += "/" + parts[i];
            IReadOnlyList<string> children;
            try
            {
                children = (await zk.GetChildrenAsync(quotaPath, ct).ConfigureAwait(false)).Children;
            }
            catch (ZooKeeperException error) when (error.Code == ErrorCode.NoNode)
            {
                return;
            }
            if (children.Count == 0) return;
            if (children.Contains(QuotaPaths.LimitNode))
            {
                throw new CliError($"{path} has a parent {quotaPath[QuotaRoot.Length..]} which has a quota");
            }
        }
    }

    private async Task ListQuotaAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ParseAtLeast(NoOptions, words, 2, "listquota");
        string path = cl.Arguments[1];
        WriteErr($"absolute path is {QuotaPaths.LimitPath(path)}");
        CheckPath(QuotaPaths.LimitPath(path));
        try
        {
            var quota = new StatsTrack((await zk.GetDataAsync(QuotaPaths.LimitPath(path), ct).ConfigureAwait(false)).Data);
            var usage = new StatsTrack((await zk.GetDataAsync(QuotaPaths.StatPath(path), ct).ConfigureAwait(false)).Data);
            WriteOut($"Output quota for {path} {quota}\nOutput stat for {path} {usage}");
        }
        catch (ZooKeeperException error) when (error.Code == ErrorCode.NoNode)
        {
            WriteErr($"quota for {path} does not exist.");
        }
    }

    private async Task DelQuotaAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ParseAtLeast(DelQuotaOptions, words, 2, "delquota");
        string path = cl.Arguments[1];
        string quotaNode = QuotaRoot + path;
        string limitPath = QuotaPaths.LimitPath(path);
        CheckPath(limitPath);
        try
        {
            if (await zk.ExistsAsync(limitPath, ct).ConfigureAwait(false) is null)
            {
                WriteOut($"Quota does not exist for {path}");
                return;
            }
            var quota = new StatsTrack((await zk.GetDataAsync(limitPath, ct).ConfigureAwait(false)).Data);
            string[] flags = ["n", "b", "N", "B"];
            if (!flags.Any(cl.Has))
            {
                foreach (string child in (await zk.GetChildrenAsync(quotaNode, ct).ConfigureAwait(false)).Children)
                {
                    await zk.DeleteAsync(quotaNode + "/" + child, -1, ct).ConfigureAwait(false);
                }
                // Remove the quota node and each ancestor left empty, up to /zookeeper/quota.
                for (string at = quotaNode; at != QuotaRoot; at = at[..at.LastIndexOf('/')])
                {
                    if ((await zk.GetChildrenAsync(at, ct).ConfigureAwait(false)).Children.Count != 0) break;
                    await zk.DeleteAsync(at, -1, ct).ConfigureAwait(false);
                }
                return;
            }
            if (cl.Has("n")) quota.Set(StatsTrack.Count, -1);
            if (cl.Has("b")) quota.Set(StatsTrack.Bytes, -1);
            if (cl.Has("N")) quota.Set(StatsTrack.CountHardLimit, -1);
            if (cl.Has("B")) quota.Set(StatsTrack.ByteHardLimit, -1);
            await zk.SetDataAsync(limitPath, quota.ToBytes(), -1, ct).ConfigureAwait(false);
        }
        catch (ZooKeeperException error) when (error.Code == ErrorCode.NoNode)
        {
            WriteErr($"quota for {path} does not exist.");
        }
    }
}
