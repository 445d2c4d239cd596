namespace Warden.Server.Configuration;

/// <summary>
/// Separates Java-style <c>-Dname=value</c> options from the other command-line arguments, so
/// <c>warden server -Dzookeeper.maxCnxns=5 zoo.cfg</c> takes the same knobs as Apache's
/// <c>SERVER_JVMFLAGS</c>. As in Java, <c>-Dname</c> alone sets the empty string and a later option wins.
/// </summary>
public static class SystemPropertyArguments
{
    public static IReadOnlyDictionary<string, string> Extract(IEnumerable<string> args, out IReadOnlyList<string> remaining)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        var rest = new List<string>();
        foreach (string arg in args)
        {
            if (!arg.StartsWith("-D", StringComparison.Ordinal) || arg.Length == 2)
            {
                rest.Add(arg);
                continue;
            }
            string body = arg[2..];
            int equals = body.IndexOf('=');
            if (equals == 0)
            {
                rest.Add(arg);
                continue;
            }
            if (equals < 0)
            {
                properties[body] = "";
            }
            else
            {
                properties[body[..equals]] = body[(equals + 1)..];
            }
        }
        remaining = rest;
        return properties;
    }
}
