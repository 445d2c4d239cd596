using System.Text;

namespace Warden.Server;

/// <summary>
/// Keeps a second server out of a dataDir or dataLogDir that a running server uses: two servers writing one txn log
/// destroy each other's data (the ZooKeeper guide's zk1/zk2 mistake), and Apache ZooKeeper does not notice until a
/// write fails. Each folder gets a file, <see cref="FileName"/>, holding who uses it; a byte range of that file is
/// locked with an operating-system lock for as long as the process lives, so a server that is killed releases it
/// without leaving anything to clean up. The locked range lies past the text, so that the refused server can read
/// the holder's name even where locks are mandatory (Windows).
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    public const string FileName = "warden.lock";

    // Far beyond the few bytes of text, which readers must still be able to read.
    private const long LockedOffset = 1L << 30;

    private readonly List<FileStream> _held = [];

    private DataDirectoryLock()
    {
    }

    /// <summary>
    /// Locks each folder (dataDir, then dataLogDir when it is another folder) for <paramref name="holder"/>, a
    /// description such as "server.1 (/etc/zk1/zoo.cfg, pid 4242)". Throws <see cref="DataDirectoryInUseException"/>
    /// naming the other server when one already holds a folder; nothing is kept locked then.
    /// </summary>
    public static DataDirectoryLock Acquire(IEnumerable<(string Key, string Path)> folders, string holder)
    {
        var taken = new DataDirectoryLock();
        try
        {
            foreach (var (key, path) in folders.DistinctBy(f => Normalise(f.Path)))
            {
                taken._held.Add(LockOne(key, path, holder));
            }
            return taken;
        }
        catch
        {
            taken.Dispose();
            throw;
        }
    }

    private static FileStream LockOne(string key, string folder, string holder)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, FileName);
        if (OperatingSystem.IsMacOS()) return LockWhole(key, folder, path, holder);
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            stream.Lock(LockedOffset, 1);
        }
        catch (IOException)
        {
            string other = ReadHolder(stream);
            stream.Dispose();
            throw new DataDirectoryInUseException(key, folder, other);
        }
        stream.SetLength(0);
        byte[] text = Encoding.UTF8.GetBytes(holder + "\n");
        stream.Write(text);
        stream.Flush(flushToDisk: false);
        return stream;
    }

    /// <summary>
    /// macOS has no byte-range locks in .NET; there the whole file is locked (flock), which also keeps its text from
    /// being read, so the other server cannot be named.
    /// </summary>
    private static FileStream LockWhole(string key, string folder, string path, string holder)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new DataDirectoryInUseException(key, folder, "another running server");
        }
        stream.SetLength(0);
        stream.Write(Encoding.UTF8.GetBytes(holder + "\n"));
        stream.Flush(flushToDisk: false);
        return stream;
    }

    private static string ReadHolder(FileStream stream)
    {
        try
        {
            stream.Position = 0;
            var buffer = new byte[4096];
            int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            string text = Encoding.UTF8.GetString(buffer, 0, read).Trim();
            // A holder that has only just taken the lock may not have written its name yet.
            return text.Length > 0 ? text : "another server that is starting";
        }
        catch (IOException)
        {
            return "another server";
        }
    }

    private static string Normalise(string path) =>
        Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    /// <summary>Releases the folders; the files stay, holding the last holder's name, and are harmless.</summary>
    public void Dispose()
    {
        foreach (var stream in _held) stream.Dispose();
        _held.Clear();
    }
}

/// <summary>A dataDir or dataLogDir is used by another running server.</summary>
public sealed class DataDirectoryInUseException(string key, string folder, string holder)
    : IOException($"{key} {folder} is in use by {holder}")
{
    public string Key { get; } = key;

    public string Folder { get; } = folder;

    public string Holder { get; } = holder;
}
