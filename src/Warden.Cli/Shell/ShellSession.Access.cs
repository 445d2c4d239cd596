using System.Text;
using Warden.Client;
using Warden.Protocol;

namespace Warden.Cli.Shell;

// Who may do what: getAcl, setAcl, addauth, whoami, and zkCli's ACL syntax.
public sealed partial class ShellSession
{
    /// <summary>zkCli's AclParser: comma-separated scheme:id:perms; malformed entries are reported and skipped.</summary>
    private List<Acl> ParseAcl(string text)
    {
        var acl = new List<Acl>();
        foreach (string entry in text.Split(','))
        {
            int first = entry.IndexOf(':', StringComparison.Ordinal);
            int last = entry.LastIndexOf(':');
            if (first == -1 || first == last)
            {
                WriteErr($"{entry} does not have the form scheme:id:perm");
                continue;
            }
            var perms = Perms.None;
            foreach (char letter in entry[(last + 1)..])
            {
                switch (letter)
                {
                    case 'r': perms |= Perms.Read; break;
                    case 'w': perms |= Perms.Write; break;
                    case 'c': perms |= Perms.Create; break;
                    case 'd': perms |= Perms.Delete; break;
                    case 'a': perms |= Perms.Admin; break;
                    default: WriteErr($"Unknown perm type: {letter}"); break;
                }
            }
            acl.Add(new Acl(perms, new Id(entry[..first], entry[(first + 1)..last])));
        }
        return acl;
    }

    private async Task GetAclAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ParseAtLeast(StatsOption, words, 2, "getAcl");
        string path = cl.Arguments[1];
        CheckPath(path);
        var acl = await zk.GetAclAsync(path, ct).ConfigureAwait(false);
        foreach (var entry in acl.Acl) WriteOut(Formats.AclEntry(entry));
        if (cl.Has("s")) WriteStat(acl.Stat);
    }

    private async Task SetAclAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ParseAtLeast(SetAclOptions, words, 3, "setAcl");
        string path = cl.Arguments[1];
        var acl = ParseAcl(cl.Arguments[2]);
        int version = VersionValue(cl);
        CheckPath(path);
        if (acl.Count == 0) throw new CliError(Formats.CommandError(ErrorCode.InvalidAcl, null));
        if (cl.Has("R"))
        {
            await zk.GetDataAsync(path, ct).ConfigureAwait(false);
            async Task SetOne(string node)
            {
                try
                {
                    await zk.SetAclAsync(node, acl, version, ct).ConfigureAwait(false);
                }
                catch (ZooKeeperException error) when (!error.IsConnectionLoss)
                {
                    // zkCli prints the failure with no line break and goes on with the rest of the tree.
                    lock (_writeGate)
                    {
                        _out.Write(Formats.KeeperMessage(error.Code, error.Path));
                        _out.Flush();
                    }
                }
            }
            await SetOne(path).ConfigureAwait(false);
            await VisitDepthFirstAsync(zk, path, false, SetOne, ct).ConfigureAwait(false);
            return;
        }
        var stat = await zk.SetAclAsync(path, acl, version, ct).ConfigureAwait(false);
        if (cl.Has("s")) WriteStat(stat);
    }

    private async Task AddAuthAsync(ZooKeeperClient zk, List<string> words, CancellationToken ct)
    {
        var cl = ParseAtLeast(NoOptions, words, 2, "addauth");
        byte[]? auth = cl.Arguments.Count >= 3 ? Encoding.UTF8.GetBytes(cl.Arguments[2]) : null;
        try
        {
            await zk.AddAuthAsync(cl.Arguments[1], auth, ct).ConfigureAwait(false);
        }
        catch (ZooKeeperException error) when (error.Code == ErrorCode.AuthFailed)
        {
            // As in zkCli, a refusal shows as the AuthFailed event (and the prompt's AUTH_FAILED), not as an error.
        }
    }

    private async Task WhoAmIAsync(ZooKeeperClient zk, CancellationToken ct)
    {
        IReadOnlyList<ClientInfo> ids;
        try
        {
            ids = await zk.WhoAmIAsync(ct).ConfigureAwait(false);
        }
        catch (ZooKeeperException error) when (!error.IsConnectionLoss)
        {
            // zkCli ignores whoAmI's error code and prints the heading alone.
            ids = [];
        }
        var text = new StringBuilder("Auth scheme: User");
        foreach (var id in ids) text.Append('\n').Append(id.AuthScheme).Append(": ").Append(id.User);
        WriteOut(text.ToString());
    }
}
