using System.Text;
using Warden.Data;
using Warden.Server.Configuration;

namespace Warden.Server.Quorum;

/// <summary>
/// The files Apache's QuorumPeer keeps when the configuration changes, so that a server restarts into the ensemble
/// it last knew: <c>zoo.cfg.dynamic.&lt;hex version&gt;</c> next to zoo.cfg (the server lines, sorted, without the
/// version, which is the file name's suffix), and zoo.cfg rewritten without its server lines and with
/// <c>dynamicConfigFile=</c> naming the newest dynamic file. Before the first change, zoo.cfg is kept as zoo.cfg.bak.
/// Each file is written whole to a temporary name and then moved over the old one, so a crash leaves either.
/// </summary>
public static class DynamicConfigFiles
{
    /// <summary>Apache's backupOldConfig: a copy of the static file as it was before any rewrite.</summary>
    public static void BackUpStaticFile(string configFilePath)
    {
        string backup = configFilePath + ".bak";
        if (File.Exists(configFilePath) && !File.Exists(backup)) WriteWhole(backup, File.ReadAllBytes(configFilePath));
    }

    /// <summary>Writes the dynamic file for <paramref name="text"/> and points zoo.cfg at it; returns its path.</summary>
    public static string Write(string configFilePath, string text, long version, long myId)
    {
        var (members, _) = Reconfiguration.ParseConfigText(text);
        string dynamicPath = configFilePath + ".dynamic." + version.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        WriteWhole(dynamicPath, Encoding.UTF8.GetBytes(Reconfiguration.DynamicFileText(members)));
        var self = members.FirstOrDefault(m => m.Id == myId);
        EditStaticFile(configFilePath, dynamicPath, eraseClientAddress: self?.ClientPort is not null);
        return dynamicPath;
    }

    /// <summary>
    /// Apache's editStaticConfig: every key but server.*, group*, weight*, dynamicConfigFile and peerType (and
    /// clientPort and clientPortAddress when this server's line carries its client address) written back as
    /// key=value in the order java.util.Properties iterates them, then dynamicConfigFile=.
    /// </summary>
    private static void EditStaticFile(string configFilePath, string dynamicPath, bool eraseClientAddress)
    {
        var properties = JavaProperties.Load(File.ReadAllBytes(configFilePath));
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var keys = new List<string>();
        foreach (var entry in properties.Entries)
        {
            if (!values.ContainsKey(entry.Key)) keys.Add(entry.Key);
            values[entry.Key] = entry.Value.Trim();
        }
        int capacity = 16;
        while (keys.Count >= capacity - capacity / 4) capacity *= 2;
        var text = new StringBuilder();
        foreach (string key in JavaHashOrder.Order(keys, capacity))
        {
            string trimmed = key.Trim();
            bool dropped = trimmed.StartsWith("server.", StringComparison.Ordinal) || trimmed.StartsWith("group", StringComparison.Ordinal)
                || trimmed.StartsWith("weight", StringComparison.Ordinal) || trimmed.StartsWith("dynamicConfigFile", StringComparison.Ordinal)
                || trimmed.StartsWith("peerType", StringComparison.Ordinal)
                || (eraseClientAddress && trimmed.StartsWith("clientPort", StringComparison.Ordinal));
            if (!dropped) text.Append(trimmed).Append('=').Append(values[key]).Append('\n');
        }
        text.Append("dynamicConfigFile=").Append(Path.GetFullPath(dynamicPath).Replace('\\', '/')).Append('\n');
        WriteWhole(configFilePath, Encoding.UTF8.GetBytes(text.ToString()));
    }

    private static void WriteWhole(string path, byte[] bytes)
    {
        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
