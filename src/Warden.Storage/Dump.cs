using System.Globalization;
using System.Text;
using Warden.Data;
using Warden.Protocol;

namespace Warden.Storage;

/// <summary>
/// Text dumps of log and snapshot files for <c>warden log dump</c> and <c>warden snapshot dump</c>, shaped like
/// Apache's TxnLogToolkit and SnapshotFormatter so that people who know those can read them. They read files
/// without changing them: a damaged tail is reported, never cut.
/// </summary>
public static class Dump
{
    /// <summary>
    /// One line per txn: <c>&lt;time&gt; session 0x.. cxid 0x.. zxid 0x.. &lt;type&gt; &lt;fields&gt;</c>. The time is
    /// ISO 8601 UTC rather than Apache's locale format, and ACLs print as scheme:id:perms.
    /// </summary>
    public static string Log(string logFile)
    {
        var text = new StringBuilder();
        var reader = new TxnLogReader(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
        text.Append("ZooKeeper Transactional Log File with dbid 0 txnlog format version 2\n");
        int count = 0;
        foreach (var logged in reader.ReadFile(logFile))
        {
            text.Append(Line(logged.Entry)).Append('\n');
            count++;
        }
        foreach (var tail in reader.TornTails) text.Append(tail).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"EOF reached after {count} txns.\n");
        return text.ToString();
    }

    public static string Line(TxnLogEntry entry)
    {
        var header = entry.Header;
        string time = DateTimeOffset.FromUnixTimeMilliseconds(header.TimeMs).UtcDateTime
            .ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        string line = $"{time} session 0x{header.ClientId:x} cxid 0x{header.Cxid:x} zxid 0x{header.Zxid:x} {OpName(header.Type)}";
        string fields = entry.Txn is null ? "" : Fields(entry.Txn);
        return fields.Length == 0 ? line : line + " " + fields;
    }

    /// <summary>Apache's names for txn types (Request.op2String).</summary>
    public static string OpName(int type) => (OpCode)type switch
    {
        OpCode.Create => "create", OpCode.Create2 => "create2", OpCode.CreateContainer => "createContainer",
        OpCode.CreateTtl => "createTtl", OpCode.Delete => "delete", OpCode.DeleteContainer => "deleteContainer",
        OpCode.SetData => "setData", OpCode.SetAcl => "setACL", OpCode.Check => "check", OpCode.Multi => "multi",
        OpCode.Reconfig => "reconfig", OpCode.CreateSession => "createSession", OpCode.CloseSession => "closeSession",
        OpCode.Error => "error",
        _ => "unknown " + type,
    };

    private static string Fields(Txn txn) => txn switch
    {
        CreateTxn c => $"{c.Path},{Text(c.Data)},{Acls(c.Acl)},{(c.Ephemeral ? "true" : "false")},{c.ParentCversion}",
        CreateContainerTxn c => $"{c.Path},{Text(c.Data)},{Acls(c.Acl)},{c.ParentCversion}",
        CreateTtlTxn c => $"{c.Path},{Text(c.Data)},{Acls(c.Acl)},{c.ParentCversion},{c.TtlMs}",
        SetDataTxn s => $"{s.Path},{Text(s.Data)},{s.Version}",
        DeleteTxn d => d.Path,
        SetAclTxn s => $"{s.Path},{Acls(s.Acl)},{s.Version}",
        CheckVersionTxn c => $"{c.Path},{c.Version}",
        CreateSessionTxn s => s.TimeoutMs.ToString(CultureInfo.InvariantCulture),
        CloseSessionTxn c => "[" + string.Join(",", c.PathsToDelete ?? []) + "]",
        ErrorTxn e => $"{(int)e.Error} {e.Error}",
        MultiTxn m => string.Join(";", m.Txns.Select(t => OpName((int)t.Type) + ":" + Fields(t))),
        _ => "",
    };

    private static string Acls(IReadOnlyList<Acl> acls) => "[" + string.Join(",", acls.Select(a => $"{a.Id.Scheme}:{a.Id.Identity}:{a.Perms.ToLetters()}")) + "]";


    /// <summary>Data as text when it is UTF-8 without control characters, else as base64 so the line stays one line.</summary>
    private static string Text(byte[]? data)
    {
        if (data is null || data.Length == 0) return "";
        try
        {
            string text = new UTF8Encoding(false, true).GetString(data);
            if (!text.Any(char.IsControl)) return text;
        }
        catch (DecoderFallbackException)
        {
        }
        return "base64:" + Convert.ToBase64String(data);
    }

    /// <summary>
    /// The tree as Apache's SnapshotFormatter lists it: every node with its stored stat, then the sessions, then the
    /// last zxid. With <paramref name="withData"/>, data prints as base64 instead of its length.
    /// </summary>
    public static string Snapshot(string snapshotFile, bool withData = false)
    {
        var snapshot = SnapshotFile.Read(snapshotFile);
        var tree = snapshot.Tree;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"ZNode Details (count={tree.NodeCountAsReported}):\n");
        long lastZxid = 0;
        foreach (var (path, node) in tree.PreOrder())
        {
            text.Append("----\n").Append(path).Append('\n');
            AppendStat(text, node);
            text.Append(withData
                ? $"  data = {(node.Data is null ? "" : Convert.ToBase64String(node.Data))}\n"
                : $"  dataLength = {node.Data?.Length ?? 0}\n");
            lastZxid = Math.Max(lastZxid, Math.Max(node.Mzxid, node.Pzxid));
        }
        text.Append("----\nSession Details (sid, timeout, ephemeralCount):\n");
        foreach (var (sessionId, timeoutMs) in snapshot.SessionTimeoutsMs)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Hex(sessionId)}, {timeoutMs}, {tree.EphemeralsOf(sessionId).Count}\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"----\nLast zxid: 0x{Math.Max(snapshot.Zxid, lastZxid):x}\n");
        return text.ToString();
    }

    private static void AppendStat(StringBuilder text, DataNode node)
    {
        text.Append("  cZxid = ").Append(Hex(node.Czxid)).Append('\n');
        text.Append("  ctime = ").Append(JavaDate(node.CtimeMs)).Append('\n');
        text.Append("  mZxid = ").Append(Hex(node.Mzxid)).Append('\n');
        text.Append("  mtime = ").Append(JavaDate(node.MtimeMs)).Append('\n');
        text.Append("  pZxid = ").Append(Hex(node.Pzxid)).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"  cversion = {node.Cversion}\n");
        text.Append(CultureInfo.InvariantCulture, $"  dataVersion = {node.Version}\n");
        text.Append(CultureInfo.InvariantCulture, $"  aclVersion = {node.Aversion}\n");
        text.Append("  ephemeralOwner = ").Append(Hex(node.EphemeralOwner)).Append('\n');
    }

    /// <summary>Java's "%#016x": 0x and at least 14 hex digits.</summary>
    private static string Hex(long value) => "0x" + value.ToString("x14", CultureInfo.InvariantCulture);

    /// <summary>Java's Date.toString in UTC: "Fri Nov 27 15:08:35 UTC 2026".</summary>
    private static string JavaDate(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("ddd MMM dd HH:mm:ss 'UTC' yyyy", CultureInfo.InvariantCulture);
}
