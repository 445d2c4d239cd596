namespace Warden.Cli;

/// <summary>Splits Java-style -Dname=value arguments from the rest of the command line.</summary>
public static class SystemProperties
{
    public static (Dictionary<string, string> Properties, string[] Remaining) Extract(string[] args)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        var rest = new List<string>();
        foreach (var arg in args)
        {
            if (arg.StartsWith("-D", StringComparison.Ordinal) && arg.Length > 2)
            {
                int equals = arg.IndexOf('=');
                if (equals < 0) properties[arg[2..]] = "";
                else properties[arg[2..equals]] = arg[(equals + 1)..];
            }
            else
            {
                rest.Add(arg);
            }
        }
        return (properties, rest.ToArray());
    }
}
