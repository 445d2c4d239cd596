namespace Warden.Server.Configuration;

/// <summary>
/// The knobs Apache ZooKeeper reads as Java system properties, each under the exact name Apache reads
/// (most with the zookeeper. prefix; jute.maxbuffer, znode.container.* and readonlymode.enabled without).
/// Apache reads most through Integer.getInteger, which silently keeps the default on a bad value; we keep
/// the default too but say so.
/// </summary>
internal sealed partial class ServerConfigReader
{
    /// <summary>Every four-letter word Apache 3.8 knows (FourLetterCommands).</summary>
    internal static readonly string[] AllFourLetterWords =
        ["conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk", "srst", "srvr", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash"];

    /// <summary>zoo.cfg keys QuorumPeerConfig parses itself; -D has no effect on them.</summary>
    private static readonly string[] ZooCfgKeys =
    [
        "dataDir", "dataLogDir", "clientPort", "clientPortAddress", "tickTime", "maxClientCnxns", "minSessionTimeout",
        "maxSessionTimeout", "initLimit", "syncLimit", "connectToLearnerMasterLimit", "electionAlg", "peerType",
        "standaloneEnabled", "reconfigEnabled", "localSessionsEnabled", "localSessionsUpgradingEnabled",
        "autopurge.snapRetainCount", "autopurge.purgeInterval", "syncEnabled", "quorumListenOnAllIPs", "dynamicConfigFile",
    ];

    /// <summary>Knobs read as zookeeper.&lt;name&gt;, so "name" in zoo.cfg or "-Dzookeeper.name" sets them.</summary>
    private static readonly string[] PrefixedKnobs =
    [
        "maxCnxns", "snapCount", "preAllocSize", "forceSync", "globalOutstandingLimit", "4lw.commands.whitelist",
        "admin.enableServer", "admin.serverPort", "admin.serverAddress", "extendedTypesEnabled", "enforceQuota",
        "DigestAuthenticationProvider.superDigest", "skipACL", "datadir.autocreate",
    ];

    private void ApplySystemProperties()
    {
        WarnAboutIneffectiveCommandLineNames();
        _config = _config with
        {
            MaxConnections = IntKnob("zookeeper.maxCnxns", 0, "e.g. maxCnxns=1000 (0 means no limit)"),
            SnapCountTxns = SnapCount(),
            PreAllocSizeKb = PreAllocSize(),
            ForceSync = _system.Get("zookeeper.forceSync") != "no",
            GlobalOutstandingLimitRequests = IntKnob("zookeeper.globalOutstandingLimit", 1000, "e.g. globalOutstandingLimit=1000"),
            FourLetterWordWhitelist = FourLetterWords(),
            ReadOnlyModeEnabled = JavaNumbers.ParseBoolean(_system.Get("readonlymode.enabled")),
            AdminServerEnabled = _system.Get("zookeeper.admin.enableServer") != "false",
            AdminServerPort = IntKnob("zookeeper.admin.serverPort", 8080, "e.g. admin.serverPort=8080"),
            AdminServerAddress = _system.Get("zookeeper.admin.serverAddress") ?? "0.0.0.0",
            JuteMaxBufferBytes = IntKnobHonouredFromZooCfg("jute.maxbuffer", ServerConfig.DefaultJuteMaxBufferBytes, "in bytes, e.g. jute.maxbuffer=1048575"),
            ExtendedTypesEnabled = JavaNumbers.ParseBoolean(_system.Get("zookeeper.extendedTypesEnabled")),
            ContainerCheckIntervalMs = IntKnobHonouredFromZooCfg("znode.container.checkIntervalMs", 60000, "in milliseconds, e.g. znode.container.checkIntervalMs=60000"),
            ContainerMaxPerMinute = IntKnobHonouredFromZooCfg("znode.container.maxPerMinute", 10000, "e.g. znode.container.maxPerMinute=10000"),
            EnforceQuota = JavaNumbers.ParseBoolean(_system.Get("zookeeper.enforceQuota")),
            SuperDigest = _system.Get("zookeeper.DigestAuthenticationProvider.superDigest"),
            SkipAcl = _system.Get("zookeeper.skipACL") == "yes",
            DataDirAutoCreate = JavaNumbers.ParseBoolean(_system.Get("zookeeper.datadir.autocreate") ?? "true"),
            SystemProperties = _system.Snapshot(),
        };
    }

    private int SnapCount()
    {
        int snapCount = IntKnob("zookeeper.snapCount", 100000, "e.g. snapCount=100000");
        if (snapCount >= 2)
        {
            return snapCount;
        }
        _system.TryGet("zookeeper.snapCount", out _, out string origin);
        _warnings.Add($"{origin}: snapCount {snapCount} is below 2, so 2 is used (as in Apache ZooKeeper); write snapCount=2 or more");
        return 2;
    }

    /// <summary>FilePadding reads preAllocSize with Long.parseLong (not decode) and keeps 64 MiB on a bad value.</summary>
    private long PreAllocSize()
    {
        if (!_system.TryGet("zookeeper.preAllocSize", out string text, out string origin))
        {
            return 65536;
        }
        if (JavaNumbers.TryParseLong(text, out long kilobytes))
        {
            return kilobytes;
        }
        _warnings.Add($"{origin}: preAllocSize \"{text}\" is not a whole number, so the default 65536 KB is used (as in Apache ZooKeeper); write it in kilobytes, e.g. preAllocSize=65536");
        return 65536;
    }

    /// <summary>Integer.getInteger: decimal, 0x/# hex or 0-octal; a bad value leaves the default.</summary>
    private int IntKnob(string name, int defaultValue, string hint)
    {
        if (!_system.TryGet(name, out string text, out string origin))
        {
            return defaultValue;
        }
        if (JavaNumbers.TryDecodeInt(text, out int value))
        {
            return value;
        }
        string key = name.StartsWith("zookeeper.", StringComparison.Ordinal) ? name["zookeeper.".Length..] : name;
        _warnings.Add($"{origin}: {key} \"{Printable(text)}\" is not a whole number, so the default {defaultValue} is used (as in Apache ZooKeeper); write {hint}");
        return defaultValue;
    }

    /// <summary>
    /// For knobs Apache reads only without the zookeeper. prefix (so only as -D), we also honour the zoo.cfg
    /// key, which arrives as zookeeper.&lt;name&gt;, and say that Apache would ignore it. -D wins, as it would there.
    /// </summary>
    private int IntKnobHonouredFromZooCfg(string name, int defaultValue, string hint)
    {
        if (_system.TryGet(name, out _, out _))
        {
            return IntKnob(name, defaultValue, hint);
        }
        string prefixed = "zookeeper." + name;
        if (!_system.TryGet(prefixed, out string text, out string origin))
        {
            return defaultValue;
        }
        if (_system.IsFromZooCfg(prefixed))
        {
            _warnings.Add($"{origin}: Warden honours {name}={text} from zoo.cfg, but Apache ZooKeeper ignores it there (it reads only -D{name}); pass -D{name}={text} as well if Apache servers share this file");
        }
        return IntKnob(prefixed, defaultValue, hint);
    }

    private HashSet<string> FourLetterWords()
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        if (_system.TryGet("zookeeper.4lw.commands.whitelist", out string list, out string origin))
        {
            foreach (string word in list.Split(',').Select(w => w.JavaTrim()).Where(w => w.Length > 0))
            {
                if (word == "*")
                {
                    words.UnionWith(AllFourLetterWords);
                    break;
                }
                if (!AllFourLetterWords.Contains(word))
                {
                    _warnings.Add($"{origin}: \"{word}\" in 4lw.commands.whitelist is not a four-letter word; use some of {string.Join(",", AllFourLetterWords)} or *");
                }
                words.Add(word);
            }
        }
        // Apache always allows srvr (zkServer.sh status needs it), and isro when read-only mode is on.
        if (_system.Get("readonlymode.enabled") == "true")
        {
            words.Add("isro");
        }
        words.Add("srvr");
        return words;
    }

    private void WarnAboutIneffectiveCommandLineNames()
    {
        foreach (string name in _system.CommandLineNames)
        {
            string bare = name.StartsWith("zookeeper.", StringComparison.Ordinal) ? name["zookeeper.".Length..] : name;
            if (ZooCfgKeys.Contains(bare))
            {
                _warnings.Add($"-D{name} has no effect: {bare} is read only from zoo.cfg; put {bare}=... in zoo.cfg instead");
            }
            else if (bare == name && PrefixedKnobs.Contains(name))
            {
                _warnings.Add($"-D{name} has no effect: Apache ZooKeeper reads this knob as -Dzookeeper.{name}; use that name, or write {name}=... in zoo.cfg");
            }
        }
    }

    /// <summary>Keys zoo.cfg takes besides those above, for the nearest-key hint.</summary>
    private static readonly string[] OtherKnownKeys =
    [
        "jute.maxbuffer", "secureClientPort", "secureClientPortAddress", "multiAddress.enabled", "metricsProvider.className",
        "serverCnxnFactory", "ssl.keyStore.location", "ssl.keyStore.password", "ssl.keyStore.passwordPath", "ssl.keyStore.type",
        "ssl.trustStore.location", "ssl.trustStore.password", "ssl.trustStore.passwordPath", "ssl.trustStore.type",
        "ssl.clientAuth", "ssl.protocol", "ssl.enabledProtocols", "ssl.ciphersuites", "ssl.hostnameVerification", "ssl.authProvider",
        "X509AuthenticationProvider.superUser",
        "znode.container.checkIntervalMs", "znode.container.maxPerMinute", "readonlymode.enabled",
    ];

    /// <summary>
    /// Apache takes any key it does not know as a system property, so a misspelt key is silently ignored:
    /// "ticktime=2000" or "tickTme=2000" sets zookeeper.ticktime and tickTime stays 3000. A key that differs from
    /// a known one by case, or by at most two typing slips, gets a warning naming the key that was meant.
    /// </summary>
    private void WarnIfMisspelt(string key, PropertyEntry entry)
    {
        if (PrefixedKnobs.Contains(key) || OtherKnownKeys.Contains(key) || key.StartsWith("znode.container.", StringComparison.Ordinal))
        {
            return;
        }
        var known = ZooCfgKeys.Concat(PrefixedKnobs).Concat(OtherKnownKeys).ToArray();
        string? meant = known.FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase));
        string why = "keys are case-sensitive";
        if (meant is null && key.Length >= 5)
        {
            (meant, int distance) = known.Select(k => (k, TypingDistance(key.ToLowerInvariant(), k.ToLowerInvariant())))
                .MinBy(pair => pair.Item2);
            if (distance > 2) meant = null;
            why = "a known key is spelt differently";
        }
        if (meant is not null)
        {
            _warnings.Add($"{At(entry)}: unknown key \"{key}\", so it only sets the system property zookeeper.{key}; {why}, did you mean {meant}?");
        }
    }

    /// <summary>Edits between two keys: a letter added, dropped, changed, or two neighbours swapped each count one.</summary>
    internal static int TypingDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
