using System.Text;
using Warden.Server.Configuration;

namespace Warden.Server.Tests.Configuration;

/// <summary>A throwaway working directory holding a zoo.cfg, data folders and myid files.</summary>
internal sealed class ConfigSandbox : IDisposable
{
    public ConfigSandbox()
    {
        Root = Path.Combine(Path.GetTempPath(), "warden-config-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Writes zoo.cfg; "{root}" in the text is replaced by the sandbox folder.</summary>
    public string WriteConfig(string text, string name = "zoo.cfg")
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, Encoding.Latin1.GetBytes(text.Replace("{root}", Root)));
        return path;
    }

    public string MakeDirectory(string relative)
    {
        string path = PathOf(relative);
        Directory.CreateDirectory(path);
        return path;
    }

    public void WriteMyId(string dataDir, string content) =>
        File.WriteAllBytes(Path.Combine(PathOf(dataDir), "myid"), Encoding.Latin1.GetBytes(content));

    public ConfigLoadResult Load(string zooCfg, IReadOnlyDictionary<string, string>? systemProperties = null) =>
        ServerConfig.Load(WriteConfig(zooCfg), systemProperties, Root);

    public ServerConfig LoadValid(string zooCfg, IReadOnlyDictionary<string, string>? systemProperties = null)
    {
        ConfigLoadResult result = Load(zooCfg, systemProperties);
        Assert.True(result.Succeeded, "expected the config to load, got: " + string.Join(" | ", result.Errors));
        return result.Config!;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; never fail a test on cleanup.
        }
    }
}
