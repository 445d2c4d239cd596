namespace Warden.Server.Configuration;

/// <summary>
/// What the filesystem says: the data directories must be usable folders, and dataDir/myid must hold this
/// server's number. Apache finds these problems only when it starts (FileTxnSnapLog, QuorumPeerConfig.setupMyId);
/// we find them before, and point at the path.
/// </summary>
internal sealed partial class ServerConfigReader
{
    private string MyIdPath => Path.Combine(_config.DataDir, "myid");

    private void CheckFileSystem()
    {
        CheckDirectory("dataDir", _config.DataDir, _dataDirEntry);
        if (_config.DataLogDir != _config.DataDir)
        {
            CheckDirectory("dataLogDir", _config.DataLogDir, _dataLogDirEntry);
        }
        ReadMyId();
    }

    private void CheckDirectory(string key, string path, PropertyEntry? entry)
    {
        string where = entry is null ? _source.Name : At(entry);
        string mangled = entry is { HasSwallowedBackslash: true } ? " (backslashes in the path were read as escapes; see the warning about that line)" : "";
        if (File.Exists(path))
        {
            _errors.Add($"{where}: {key} {path} is a file, not a folder; point {key} at a folder, or move the file away{mangled}");
            return;
        }
        if (!Directory.Exists(path))
        {
            CheckCanCreate(key, path, where, mangled);
            return;
        }
        if (!CanWriteInto(path, out string why))
        {
            _errors.Add($"{where}: {key} {path} exists but is not writable ({why}); give the user running the server write access, or choose another folder");
        }
    }

    private void CheckCanCreate(string key, string path, string where, string mangled)
    {
        if (!_config.DataDirAutoCreate)
        {
            _errors.Add($"{where}: {key} {path} does not exist and zookeeper.datadir.autocreate is false; create the folder, or allow creation with datadir.autocreate=true{mangled}");
            return;
        }
        string? ancestor = Path.GetDirectoryName(path);
        while (ancestor is not null && !Directory.Exists(ancestor))
        {
            if (File.Exists(ancestor))
            {
                _errors.Add($"{where}: {key} {path} cannot be created because {ancestor} is a file; point {key} somewhere else{mangled}");
                return;
            }
            ancestor = Path.GetDirectoryName(ancestor);
        }
        if (ancestor is not null && !CanWriteInto(ancestor, out string why))
        {
            _errors.Add($"{where}: {key} {path} does not exist and cannot be created, because {ancestor} is not writable ({why}); create it yourself or choose another folder{mangled}");
        }
    }

    /// <summary>
    /// Asks the filesystem itself by creating and deleting a probe file: permission bits do not tell the whole
    /// story (ACLs, read-only mounts, root, Windows attributes).
    /// </summary>
    private static bool CanWriteInto(string directory, out string why)
    {
        string probe = Path.Combine(directory, $".warden-write-check-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
            why = "";
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The runtime's own text names our probe file, which would only confuse; say what it means instead.
            why = ex switch
            {
                UnauthorizedAccessException => "permission denied",
                _ when ex.Message.Contains("read-only", StringComparison.OrdinalIgnoreCase) => "read-only file system",
                _ => "a test file could not be created there",
            };
            return false;
        }
    }

    /// <summary>
    /// Apache reads myid whenever the file exists, even for a standalone server, with Long.parseLong on its first
    /// line: no blanks, no byte-order mark. A quorum server without it refuses to start.
    /// </summary>
    private void ReadMyId()
    {
        string path = MyIdPath;
        if (!File.Exists(path))
        {
            if (_config.IsDistributed)
            {
                string example = _config.Servers[0].Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
                string mangled = _dataDirEntry is { HasSwallowedBackslash: true } ? $" (dataDir was read as \"{Printable(_dataDirEntry.Value.JavaTrim())}\" because of single backslashes; see the warning about that line)" : "";
                _errors.Add($"{path} is missing; a server in an ensemble needs it: create it holding only this server's number N from its server.N line, e.g. {example}{mangled}");
            }
            return;
        }
        string firstLine;
        try
        {
            firstLine = ReadFirstLine(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _errors.Add($"{path} cannot be read ({ex.Message.TrimEnd('.')}); make it readable by the user running the server");
            return;
        }
        if (!JavaNumbers.TryParseLong(firstLine, out long id))
        {
            _errors.Add($"{path} holds \"{Printable(firstLine)}\"{MyIdHint(firstLine)}, not a number; write only this server's number N from its server.N line, e.g. 1");
            return;
        }
        if (_config.ExtendedTypesEnabled && id > 254)
        {
            _errors.Add($"{path} says {id}, but with extendedTypesEnabled server ids must be 254 or less; renumber the server.N lines and myid files, or turn extendedTypesEnabled off");
            return;
        }
        _config = _config with { MyId = id };
    }

    private static string ReadFirstLine(string path)
    {
        // BufferedReader.readLine: the text up to the first \n or \r; an empty file yields nothing at all.
        // Bytes are decoded by hand because File.ReadAllText would silently strip a byte-order mark that Java keeps.
        string text = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(path));
        int end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }

    private static string MyIdHint(string line)
    {
        if (line.Length == 0)
        {
            return " (the file is empty)";
        }
        if (line.StartsWith("\u00ef\u00bb\u00bf", StringComparison.Ordinal))
        {
            return " (it starts with a byte-order mark; save it as plain ASCII)";
        }
        string note = JavaStrings.NonBreakingSpaceNote(line);
        return note.Length > 0 ? note : line.JavaTrim() != line ? " (remove the blanks around the number)" : "";
    }
}
