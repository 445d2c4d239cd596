namespace Warden.Server.Configuration;

/// <summary>
/// The Java system properties a server sees: first the -D options, then each zoo.cfg key Apache does not parse
/// itself, stored as zookeeper.&lt;key&gt;. Apache calls System.setProperty for those while reading zoo.cfg,
/// after the JVM took its -D options, so the zoo.cfg entry wins; we keep that order (seen on Apache ZooKeeper
/// 3.8.0: -Dzookeeper.foo=fromD plus foo=fromcfg in zoo.cfg gives zookeeper.foo=fromcfg).
/// Each value remembers where it came from so a message can point at the line or option to change.
/// </summary>
internal sealed class SystemPropertySet
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _origins = new(StringComparer.Ordinal);
    private readonly HashSet<string> _fromZooCfg = new(StringComparer.Ordinal);

    public SystemPropertySet(IReadOnlyDictionary<string, string>? commandLine)
    {
        foreach ((string name, string value) in commandLine ?? new Dictionary<string, string>())
        {
            _values[name] = value;
            _origins[name] = $"-D{name}";
        }
        CommandLineNames = commandLine?.Keys.ToList() ?? [];
    }

    public IReadOnlyList<string> CommandLineNames { get; }

    public void SetFromZooCfg(string name, string value, string where, string key, List<string> warnings)
    {
        if (_values.TryGetValue(name, out string? earlier) && !_fromZooCfg.Contains(name) && earlier != value)
        {
            warnings.Add($"{where}: {key}={value} replaces -D{name}={earlier}, as in Apache ZooKeeper (zoo.cfg is applied after -D options); remove one of the two");
        }
        _values[name] = value;
        _origins[name] = where;
        _fromZooCfg.Add(name);
    }

    public bool TryGet(string name, out string value, out string origin)
    {
        if (_values.TryGetValue(name, out string? found))
        {
            value = found;
            origin = _origins[name];
            return true;
        }
        value = "";
        origin = "";
        return false;
    }

    public string? Get(string name) => _values.GetValueOrDefault(name);

    public bool IsFromZooCfg(string name) => _fromZooCfg.Contains(name);

    public IReadOnlyDictionary<string, string> Snapshot() => new Dictionary<string, string>(_values, StringComparer.Ordinal);
}
