namespace Warden.Server.Configuration;

/// <summary>Checks across keys: required keys, timeouts, ports, and the shape of the ensemble.</summary>
internal sealed partial class ServerConfigReader
{
    private void CheckCoreValues()
    {
        ResolveDirectories();
        if (_config.SnapRetainCount < 3)
        {
            if (_snapRetainCountSet)
            {
                _warnings.Add($"{_source.Name}: autopurge.snapRetainCount {_config.SnapRetainCount} is below the minimum 3, so 3 is used (as in Apache ZooKeeper); write autopurge.snapRetainCount=3 or more");
            }
            _config = _config with { SnapRetainCount = 3 };
        }
        if (_config.TickTimeMs <= 0)
        {
            _errors.Add($"{_source.Name}: tickTime is {_config.TickTimeMs}; it must be a positive number of milliseconds, e.g. tickTime=2000");
            return;
        }
        CheckSessionTimeouts();
        CheckClientPort();
    }

    private void ResolveDirectories()
    {
        string? dataDir = _source.DataDirOverride ?? _dataDirEntry?.Value.JavaTrim();
        if (dataDir is null)
        {
            _errors.Add($"{_source.Name}: dataDir is not set; add a line such as dataDir=/var/lib/zookeeper (the folder that holds snapshots and myid)");
            return;
        }
        if (dataDir.Length == 0)
        {
            _errors.Add($"{At(_dataDirEntry!)}: dataDir is empty; write the folder that holds snapshots and myid, e.g. dataDir=/var/lib/zookeeper");
            return;
        }
        string? dataLogDir = _dataLogDirEntry?.Value.JavaTrim();
        if (dataLogDir is { Length: 0 })
        {
            _errors.Add($"{At(_dataLogDirEntry!)}: dataLogDir is empty; write a folder for transaction logs, or remove the line to keep them in dataDir");
            return;
        }
        string fullDataDir = Path.GetFullPath(dataDir, _source.BaseDirectory);
        _config = _config with
        {
            DataDir = fullDataDir,
            DataLogDir = dataLogDir is null ? fullDataDir : Path.GetFullPath(dataLogDir, _source.BaseDirectory),
        };
    }

    private void CheckSessionTimeouts()
    {
        int tick = _config.TickTimeMs;
        bool minDefaulted = _config.MinSessionTimeoutMs == -1;
        bool maxDefaulted = _config.MaxSessionTimeoutMs == -1;
        int min = minDefaulted ? tick * 2 : _config.MinSessionTimeoutMs;
        int max = maxDefaulted ? tick * 20 : _config.MaxSessionTimeoutMs;
        _config = _config with { MinSessionTimeoutMs = min, MaxSessionTimeoutMs = max };
        if (min <= max)
        {
            return;
        }
        string minNote = minDefaulted ? $", 2 × tickTime {tick}" : "";
        string maxNote = maxDefaulted ? $", 20 × tickTime {tick} since it is not set" : "";
        _errors.Add($"{_source.Name}: minSessionTimeout ({min} ms{minNote}) is above maxSessionTimeout ({max} ms{maxNote}); lower minSessionTimeout or raise maxSessionTimeout");
    }

    private void CheckClientPort()
    {
        if (_clientPort is < 0 or > 65535)
        {
            _errors.Add($"{At(_clientPortEntry!)}: clientPort {_clientPort} is outside 0-65535; write e.g. clientPort=2181");
            return;
        }
        if (_clientPort == 0 && _clientPortAddress is not null)
        {
            _errors.Add($"{_source.Name}: clientPortAddress is set but clientPort is not; add clientPort=2181 (or the port you want), or remove clientPortAddress");
            return;
        }
        _config = _config with
        {
            ClientPort = _clientPort == 0 ? null : _clientPort,
            ClientPortAddress = _clientPort == 0 ? null : _clientPortAddress,
        };
    }

    private void ReadEnsemble()
    {
        var servers = new SortedDictionary<long, QuorumServer>();
        foreach ((string where, string value, long id) in _serverEntries)
        {
            QuorumServer? server = QuorumServer.TryParse(id, value, $"{where} (server.{id})", _errors);
            if (server is null)
            {
                // The line's own error is the root cause; what follows from the server missing is not reported.
                _brokenServerIds.Add(id);
                continue;
            }
            if (servers.ContainsKey(id))
            {
                _warnings.Add($"{where}: server.{id} is defined twice (ids are numbers, so server.01 is server.1); this line wins, remove the other");
            }
            servers[id] = server;
        }
        _config = _config with { Servers = servers.Values.ToList() };
        CheckEnsembleShape();
    }

    /// <summary>QuorumPeerConfig.parseDynamicConfig's rules on how many voters and observers make sense.</summary>
    private void CheckEnsembleShape()
    {
        if (_brokenServerIds.Count > 0)
        {
            return; // counting servers is meaningless until every server.N line parses
        }
        int participants = _config.ParticipantCount;
        int observers = _config.Servers.Count - participants;
        if (participants == 0)
        {
            if (!_config.StandaloneEnabled)
            {
                _errors.Add($"{_source.Name}: standaloneEnabled=false needs at least one server.N participant line; add e.g. server.1=localhost:2888:3888, or set standaloneEnabled=true");
            }
            else if (observers > 0)
            {
                _errors.Add($"{_source.Name}: there are observers but no participants; make at least one server.N a participant (drop its :observer)");
            }
        }
        else if (participants == 1 && _config.StandaloneEnabled)
        {
            if (observers > 0)
            {
                _errors.Add($"{_source.Name}: observers need a quorum, but there is one participant; add participants or set standaloneEnabled=false");
            }
            else
            {
                _warnings.Add($"{_source.Name}: only one server.N line, so this runs as a standalone server (as in Apache ZooKeeper); add at least 3 servers for an ensemble, or remove the line");
            }
        }
        else if (participants <= 2)
        {
            _warnings.Add($"{_source.Name}: {participants} voting servers tolerate no failure; use at least 3");
        }
        else if (participants % 2 == 0)
        {
            _warnings.Add($"{_source.Name}: {participants} voting servers survive no more failures than {participants - 1} would; an odd number is better");
        }
    }

    private void CheckEnsemble()
    {
        if (!_config.IsDistributed)
        {
            return;
        }
        if (_config.InitLimitTicks == 0)
        {
            _errors.Add($"{_source.Name}: initLimit is not set and an ensemble needs it; add initLimit=10 (ticks a follower may take to connect and sync with the leader)");
        }
        if (_config.SyncLimitTicks == 0)
        {
            _errors.Add($"{_source.Name}: syncLimit is not set and an ensemble needs it; add syncLimit=5 (ticks a follower may lag behind the leader)");
        }
        CheckSelf();
        CheckPortClashes();
    }

    private void CheckSelf()
    {
        if (_config.MyId is not long myId)
        {
            return; // reported with its path by the filesystem check
        }
        QuorumServer? self = _config.Self;
        if (self is null && _brokenServerIds.Contains(myId))
        {
            return; // its server.N line is there but broken, and says so
        }
        if (self is null)
        {
            string ids = string.Join(", ", _config.Servers.Select(s => s.Id));
            _errors.Add($"{MyIdPath}: says {myId}, but {_source.Name} has no server.{myId} line; write this server's own number ({ids}) into it, or add server.{myId}");
            return;
        }
        if (self.Role != _config.PeerType)
        {
            string role = self.Role.ToString().ToLowerInvariant();
            _warnings.Add($"{_source.Name}: peerType={_config.PeerType.ToString().ToLowerInvariant()} disagrees with server.{myId}, which is a {role}; the server.N line wins (as in Apache ZooKeeper), so fix or remove peerType");
            _config = _config with { PeerType = self.Role };
        }
        MergeClientPort(self);
    }

    /// <summary>The client port may come from clientPort or from this server's own server.N line; they must agree.</summary>
    private void MergeClientPort(QuorumServer self)
    {
        if (self.ClientPort is not int linePort)
        {
            return;
        }
        if (_config.ClientPort is int staticPort && staticPort != linePort)
        {
            _errors.Add($"{_source.Name}: clientPort={staticPort} but server.{self.Id} gives client port {linePort}; make them the same or remove one");
            return;
        }
        _config = _config with { ClientPort = linePort, ClientPortAddress = self.ClientHost == "0.0.0.0" ? _config.ClientPortAddress : self.ClientHost };
    }
}
