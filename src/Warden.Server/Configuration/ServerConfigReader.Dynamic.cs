namespace Warden.Server.Configuration;

/// <summary>
/// dynamicConfigFile: with reconfiguration, Apache keeps the ensemble (server.N lines) in a second file named
/// like zoo.cfg.dynamic.100000000, whose hex suffix is the configuration version. A team moving from Apache may
/// have such a pair, so we read it with Apache's rules: only server.N lines belong there, never "version".
/// </summary>
internal sealed partial class ServerConfigReader
{
    private void ReadDynamicConfigFile(PropertyEntry e)
    {
        string path = Path.GetFullPath(e.Value.JavaTrim(), _source.BaseDirectory);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            string why = ex is FileNotFoundException or DirectoryNotFoundException ? "does not exist" : $"cannot be read ({ex.Message.TrimEnd('.')})";
            _errors.Add($"{At(e)}: dynamicConfigFile {path} {why}; restore it, or copy its server.N lines into {_source.Name} and remove dynamicConfigFile");
            return;
        }
        string name = Path.GetFileName(path);
        JavaProperties dynamic = JavaProperties.Load(bytes);
        foreach (PropertySyntaxError error in dynamic.Errors)
        {
            _errors.Add($"{name} line {error.LineNumber}: {error.Message}; write a backslash as \\\\");
        }
        foreach (PropertyEntry entry in dynamic.Entries)
        {
            ReadDynamicEntry(name, entry);
        }
        _config = _config with { DynamicConfigFilePath = path, DynamicConfigVersion = VersionFromFileName(name) };
    }

    private void ReadDynamicEntry(string fileName, PropertyEntry entry)
    {
        string key = entry.Key.JavaTrim();
        string where = $"{fileName} line {entry.LineNumber}";
        if (key == "version")
        {
            _errors.Add($"{where}: a dynamic config file must not hold version (its version is the hex number at the end of the file name); remove the line");
        }
        else if (key.StartsWith("group", StringComparison.Ordinal) || key.StartsWith("weight", StringComparison.Ordinal))
        {
            _errors.Add($"{where}: {key} sets up a hierarchical quorum, which Warden does not support yet; remove the group/weight lines to use a majority quorum");
        }
        else if (!key.StartsWith("server.", StringComparison.Ordinal))
        {
            _errors.Add($"{where}: {key} does not belong in a dynamic config file, which holds only server.N lines; move it to {_source.Name}");
        }
        else if (!JavaNumbers.TryParseLong(key["server.".Length..], out long id))
        {
            _errors.Add($"{where}: \"{key}\" needs a number after \"server.\"; write e.g. server.1=localhost:2888:3888");
        }
        else
        {
            _serverEntries.Add((where, entry.Value, id));
        }
    }

    /// <summary>The hex number after the last dot of the file name, or null when there is none (then Apache uses 0).</summary>
    private static long? VersionFromFileName(string fileName)
    {
        int dot = fileName.LastIndexOf('.');
        string suffix = dot < 0 ? "" : fileName[(dot + 1)..];
        return suffix.Length is > 0 and <= 16 && suffix.All(char.IsAsciiHexDigit)
            ? Convert.ToInt64(suffix, 16)
            : null;
    }
}
