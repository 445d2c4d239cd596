using System.Globalization;
using Warden.Testing;

namespace Warden.Faults.Tests.Harness;

/// <summary>
/// A small tmpfs on every member's dataLogDir (root only), so that one member's disk can be filled without
/// filling the machine's. Filling writes a file until the tmpfs says ENOSPC; emptying deletes it.
/// </summary>
public sealed class SmallDisks : IAsyncDisposable
{
    private const int SizeMiB = 256;
    private readonly List<string> mounted = [];

    private SmallDisks()
    {
    }

    public static async Task<SmallDisks> MountAsync(EnsembleProcess ensemble)
    {
        if (!string.Equals(Environment.UserName, "root", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("the full-disk faults mount a tmpfs per member and need root");
        }
        var disks = new SmallDisks();
        try
        {
            foreach (var member in ensemble.Members)
            {
                var result = await ProcessRunner.RunAsync("mount",
                    ["-t", "tmpfs", "-o", string.Create(CultureInfo.InvariantCulture, $"size={SizeMiB}m"), "tmpfs", member.DataLogDirectory],
                    TimeSpan.FromSeconds(30));
                if (result.ExitCode != 0)
                {
                    throw new InvalidOperationException($"cannot mount a tmpfs on {member.DataLogDirectory}: {result}");
                }
                disks.mounted.Add(member.DataLogDirectory);
            }
            return disks;
        }
        catch
        {
            await disks.DisposeAsync();
            throw;
        }
    }

    /// <summary>Fills the member's dataLogDir to the last byte; returns how many bytes it took.</summary>
    public static long Fill(EnsembleMember member)
    {
        var chunk = new byte[1024 * 1024];
        Array.Fill(chunk, (byte)0x5a);
        long written = 0;
        using var file = new FileStream(FillPath(member), FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
        // Bounded by the tmpfs size; each write allocates real pages, so ENOSPC comes when the disk is full.
        for (var i = 0; i <= SizeMiB * 2; i++)
        {
            try
            {
                file.Write(chunk);
                written += chunk.Length;
            }
            catch (IOException)
            {
                // Whatever fits of a smaller piece, so that not even a page is left.
                for (var size = chunk.Length / 2; size >= 4096; size /= 2)
                {
                    try
                    {
                        file.Write(chunk, 0, size);
                        written += size;
                    }
                    catch (IOException)
                    {
                    }
                }
                return written;
            }
        }
        throw new InvalidOperationException($"{member.DataLogDirectory} did not fill up after {written} bytes: is it the tmpfs?");
    }

    public static void Empty(EnsembleMember member) => File.Delete(FillPath(member));

    public async ValueTask DisposeAsync()
    {
        foreach (var path in mounted)
        {
            await ProcessRunner.RunAsync("umount", ["-l", path], TimeSpan.FromSeconds(30));
        }
        mounted.Clear();
    }

    private static string FillPath(EnsembleMember member) => Path.Combine(member.DataLogDirectory, "fill");
}
