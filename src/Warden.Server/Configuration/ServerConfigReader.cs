namespace Warden.Server.Configuration;

/// <summary>
/// Turns zoo.cfg entries into a <see cref="ServerConfig"/> with QuorumPeerConfig.parseProperties' rules:
/// keys and values are trimmed, the keys it knows are parsed strictly (a bad number refuses the file),
/// server.N lines form the ensemble, and every other key becomes the Java system property zookeeper.&lt;key&gt;.
/// Problems are collected rather than thrown at the first one, so a person fixes them all in one go.
/// </summary>
internal sealed partial class ServerConfigReader
{
    /// <summary>Keys Apache parses itself and Warden accepts but does not act on (SSL, SASL, JVM, metrics...).</summary>
    private static readonly HashSet<string> ApacheKeysWardenIgnores = new(StringComparer.Ordinal)
    {
        "observerMasterPort", "clientPortListenBacklog",
        "sslQuorumReloadCertFiles", "quorum.auth.enableSasl",
        "quorum.auth.serverRequireSasl", "quorum.auth.learnerRequireSasl", "quorum.auth.learner.saslLoginContext",
        "quorum.auth.server.saslLoginContext", "quorum.auth.kerberos.servicePrincipal", "quorum.cnxn.threads.size",
        "jvm.pause.info-threshold.ms", "jvm.pause.warn-threshold.ms", "jvm.pause.sleep.time.ms", "jvm.pause.monitor",
        "multiAddress.reachabilityCheckTimeoutMs", "multiAddress.reachabilityCheckEnabled", "oraclePath",
    };

    private static readonly HashSet<string> BooleanKeysWardenIgnores = new(StringComparer.Ordinal)
    {
        "sslQuorumReloadCertFiles", "quorum.auth.enableSasl",
        "quorum.auth.serverRequireSasl", "quorum.auth.learnerRequireSasl", "jvm.pause.monitor",
        "multiAddress.reachabilityCheckEnabled",
    };

    private readonly ConfigSource _source;
    private readonly List<string> _errors = [];
    private readonly List<string> _warnings = [];
    private readonly SystemPropertySet _system;
    private readonly List<(string Where, string Value, long Id)> _serverEntries = [];
    private readonly HashSet<long> _brokenServerIds = [];
    private ServerConfig _config = new();
    private PropertyEntry? _dataDirEntry;
    private PropertyEntry? _dataLogDirEntry;
    private PropertyEntry? _clientPortEntry;
    private int _clientPort;
    private string? _clientPortAddress;
    private int _secureClientPort;
    private string? _secureClientPortAddress;
    private bool _snapRetainCountSet;

    private ServerConfigReader(ConfigSource source, IReadOnlyDictionary<string, string>? systemProperties)
    {
        _source = source;
        _system = new SystemPropertySet(systemProperties);
    }

    public static ConfigLoadResult Read(
        JavaProperties properties,
        ConfigSource source,
        IReadOnlyDictionary<string, string>? systemProperties,
        bool checkFileSystem)
    {
        var reader = new ServerConfigReader(source, systemProperties);
        reader.ReadSyntax(properties);
        bool hasDynamicFile = properties.Entries.Any(e => e.Key.JavaTrim() == "dynamicConfigFile");
        foreach (PropertyEntry entry in properties.Entries)
        {
            reader.ReadEntry(entry, hasDynamicFile);
        }
        reader.ApplySystemProperties();
        reader.CheckMetricsProvider();
        reader.ReadAuthentication();
        reader.ReadTls(checkFileSystem);
        reader.CheckCoreValues();
        reader.ReadEnsemble();
        if (checkFileSystem && reader._config.DataDir.Length > 0)
        {
            reader.CheckFileSystem();
        }
        reader.CheckEnsemble();
        if (reader._errors.Count > 0)
        {
            return ConfigLoadResult.Failure(reader._errors, reader._warnings);
        }
        return ConfigLoadResult.Success(reader._config with { ConfigFilePath = source.FullPath }, reader._warnings);
    }

    private string At(PropertyEntry entry) => $"{_source.Name} line {entry.LineNumber}";

    private void ReadSyntax(JavaProperties properties)
    {
        foreach (PropertySyntaxError error in properties.Errors)
        {
            _errors.Add($"{_source.Name} line {error.LineNumber}: {error.Message}; write a backslash as \\\\ or a character as \\u followed by four hex digits");
        }
        if (properties.StartsWithUtf8ByteOrderMark && properties.AllEntries.Count > 0)
        {
            PropertyEntry first = properties.AllEntries[0];
            _warnings.Add($"{_source.Name} starts with a UTF-8 byte-order mark, which Java reads as part of the first key (\"{first.Key}\"), so that line does nothing; save the file without a BOM");
        }
        foreach (PropertyEntry entry in properties.AllEntries)
        {
            if (entry.HasSwallowedBackslash)
            {
                string key = entry.Key.JavaTrim();
                string value = entry.RawValue.JavaTrim();
                _warnings.Add($"{At(entry)}: {key}={value} is read as \"{Printable(entry.Value.JavaTrim())}\" because a single backslash is an escape in zoo.cfg; write {key}={value.Replace("\\", "\\\\")} or {key}={value.Replace('\\', '/')}");
            }
            else if (entry.RawLine.Any(c => c >= 0x80) && !(properties.StartsWithUtf8ByteOrderMark && entry == properties.AllEntries[0]))
            {
                _warnings.Add($"{At(entry)}: \"{Printable(entry.RawLine)}\" has non-ASCII bytes, which zoo.cfg reads as ISO-8859-1 (as Apache ZooKeeper does), so UTF-8 text arrives garbled; write such characters as \\uXXXX escapes");
            }
        }
    }

    /// <summary>Shows control characters (what \t or \n escapes produced) so the person can see them.</summary>
    internal static string Printable(string text) =>
        string.Concat(text.Select(c => c switch
        {
            '\t' => "\\t",
            '\n' => "\\n",
            '\r' => "\\r",
            '\f' => "\\f",
            < ' ' or '\u00a0' => $"\\u{(int)c:x4}",
            _ => c.ToString(),
        }));

    private void ReadEntry(PropertyEntry entry, bool hasDynamicFile)
    {
        string key = entry.Key.JavaTrim();
        string value = entry.Value.JavaTrim();
        if (key.StartsWith("server.", StringComparison.Ordinal) || key.StartsWith("group", StringComparison.Ordinal) || key.StartsWith("weight", StringComparison.Ordinal))
        {
            ReadEnsembleKey(entry, key, hasDynamicFile);
            // Apache's key switch has no case for these, so they also fall through to System.setProperty.
            _system.SetFromZooCfg("zookeeper." + key, value, At(entry), key, _warnings);
            return;
        }
        if (ApplyCoreKey(key, value, entry) || ApplyQuorumKey(key, value, entry) || ApplyIgnoredKey(key, value, entry))
        {
            return;
        }
        WarnIfMisspelt(key, entry);
        _system.SetFromZooCfg("zookeeper." + key, value, At(entry), key, _warnings);
    }

    private void ReadEnsembleKey(PropertyEntry entry, string key, bool hasDynamicFile)
    {
        if (hasDynamicFile)
        {
            _errors.Add($"{At(entry)}: {key} must be in the dynamic config file when dynamicConfigFile is set; move the line there or remove dynamicConfigFile");
            return;
        }
        if (!key.StartsWith("server.", StringComparison.Ordinal))
        {
            _errors.Add($"{At(entry)}: {key} sets up a hierarchical quorum, which Warden does not support yet; remove the group/weight lines to use a majority quorum");
            return;
        }
        string idText = key["server.".Length..];
        if (!JavaNumbers.TryParseLong(idText, out long id))
        {
            _errors.Add($"{At(entry)}: \"{key}\" needs a number after \"server.\"; write e.g. server.1=localhost:2888:3888");
            return;
        }
        _serverEntries.Add((At(entry), entry.Value, id));
    }

    private bool ApplyCoreKey(string key, string value, PropertyEntry e)
    {
        switch (key)
        {
            case "dataDir": _dataDirEntry = e; return true;
            case "dataLogDir": _dataLogDirEntry = e; return true;
            case "clientPort":
                _clientPortEntry = e;
                _clientPort = Int(e, value, "write e.g. clientPort=2181") ?? _clientPort;
                return true;
            case "clientPortAddress": _clientPortAddress = value; return true;
            case "secureClientPort":
                _secureClientPort = Int(e, value, "write e.g. secureClientPort=2281") ?? _secureClientPort;
                return true;
            case "secureClientPortAddress": _secureClientPortAddress = value; return true;
            case "tickTime":
                Set(Int(e, value, "write it in milliseconds, e.g. tickTime=2000"), v => _config with { TickTimeMs = v });
                return true;
            case "maxClientCnxns":
                Set(Int(e, value, "write e.g. maxClientCnxns=60 (0 means no limit)"), v => _config with { MaxClientConnectionsPerIp = v });
                return true;
            case "minSessionTimeout":
                Set(Int(e, value, "write it in milliseconds, e.g. minSessionTimeout=4000"), v => _config with { MinSessionTimeoutMs = v });
                return true;
            case "maxSessionTimeout":
                Set(Int(e, value, "write it in milliseconds, e.g. maxSessionTimeout=40000"), v => _config with { MaxSessionTimeoutMs = v });
                return true;
            case "localSessionsEnabled":
                SetBool(e, value, v => _config with { LocalSessionsEnabled = v });
                return true;
            case "localSessionsUpgradingEnabled":
                SetBool(e, value, v => _config with { LocalSessionsUpgradingEnabled = v });
                return true;
            case "autopurge.snapRetainCount":
                _snapRetainCountSet = true;
                Set(Int(e, value, "write e.g. autopurge.snapRetainCount=3"), v => _config with { SnapRetainCount = v });
                return true;
            case "autopurge.purgeInterval":
                Set(Int(e, value, "write it in hours, e.g. autopurge.purgeInterval=1 (0 turns purging off)"), v => _config with { PurgeIntervalHours = v });
                return true;
            case "dynamicConfigFile":
                return ApplyStructuralKey(key, e);
            default:
                return key.StartsWith("metricsProvider.", StringComparison.Ordinal) && ReadMetricsProviderKey(key, value, e);
        }
    }

    private bool ApplyQuorumKey(string key, string value, PropertyEntry e)
    {
        switch (key)
        {
            case "initLimit":
                Set(Int(e, value, "write it in ticks, e.g. initLimit=10"), v => _config with { InitLimitTicks = v });
                return true;
            case "syncLimit":
                Set(Int(e, value, "write it in ticks, e.g. syncLimit=5"), v => _config with { SyncLimitTicks = v });
                return true;
            case "connectToLearnerMasterLimit":
                Set(Int(e, value, "write it in ticks, e.g. connectToLearnerMasterLimit=10"), v => _config with { ConnectToLearnerMasterLimitTicks = v });
                return true;
            case "electionAlg":
                int? algorithm = Int(e, value, "write electionAlg=3");
                if (algorithm is not null and not 3)
                {
                    _errors.Add($"{At(e)}: electionAlg {algorithm} is not supported, only fast leader election (3) is; write electionAlg=3 or remove the line");
                }
                return true;
            case "peerType":
                ReadPeerType(value, e);
                return true;
            case "quorumListenOnAllIPs":
                SetBool(e, value, v => _config with { QuorumListenOnAllIps = v });
                return true;
            case "sslQuorum":
                SetBool(e, value, v => _config with { SslQuorum = v });
                return true;
            case "portUnification":
                SetBool(e, value, v => _config with { QuorumPortUnification = v });
                return true;
            case "syncEnabled":
                SetBool(e, value, v => _config with { SyncEnabled = v });
                return true;
            case "standaloneEnabled":
                SetBool(e, value, v => _config with { StandaloneEnabled = v });
                return true;
            case "reconfigEnabled":
                SetBool(e, value, v => _config with { ReconfigEnabled = v });
                return true;
            case "multiAddress.enabled":
                SetBool(e, value, v => _config);
                return true;
            default:
                return false;
        }
    }

    private void ReadPeerType(string value, PropertyEntry e)
    {
        switch (value.ToLowerInvariant())
        {
            case "observer": _config = _config with { PeerType = PeerRole.Observer }; break;
            case "participant": _config = _config with { PeerType = PeerRole.Participant }; break;
            default:
                _errors.Add($"{At(e)}: peerType \"{value}\" is neither participant nor observer; write peerType=participant or peerType=observer");
                break;
        }
    }

    private bool ApplyStructuralKey(string key, PropertyEntry e)
    {
        ReadDynamicConfigFile(e);
        return true;
    }

    private bool ApplyIgnoredKey(string key, string value, PropertyEntry e)
    {
        if (!ApacheKeysWardenIgnores.Contains(key))
        {
            return false;
        }
        if (BooleanKeysWardenIgnores.Contains(key))
        {
            SetBool(e, value, v => _config);
        }
        _warnings.Add($"{At(e)}: {key} is not supported by Warden yet and is ignored; remove it, or run Apache ZooKeeper if you depend on it");
        return true;
    }

    private int? Int(PropertyEntry e, string value, string hint)
    {
        if (JavaNumbers.TryParseInt(value, out int parsed))
        {
            return parsed;
        }
        string key = e.Key.JavaTrim();
        string what = JavaNumbers.TryParseLong(value, out _) ? "is too large" : "is not a whole number";
        _errors.Add($"{At(e)}: {key} \"{Printable(value)}\" {what}{JavaStrings.NonBreakingSpaceNote(value)}; {hint}");
        return null;
    }

    private void Set(int? value, Func<int, ServerConfig> apply)
    {
        if (value is int v)
        {
            _config = apply(v);
        }
    }

    /// <summary>QuorumPeerConfig.parseBoolean: "true" or "false" in any case, anything else refuses the file.</summary>
    private void SetBool(PropertyEntry e, string value, Func<bool, ServerConfig> apply)
    {
        if (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            _config = apply(value.Equals("true", StringComparison.OrdinalIgnoreCase));
            return;
        }
        string key = e.Key.JavaTrim();
        _errors.Add($"{At(e)}: {key} \"{Printable(value)}\" is not true or false; write {key}=true or {key}=false");
    }
}
