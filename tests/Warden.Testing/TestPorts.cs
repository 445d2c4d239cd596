using System.Net;
using System.Net.Sockets;

namespace Warden.Testing;

/// <summary>
/// Ports for the servers tests start, chosen so that nothing else takes one between choosing it and the server
/// binding it. Asking the kernel for port 0 and letting it go gives a port from the ephemeral range, which the
/// kernel hands out again as the source port of any outgoing connection (the suite makes thousands); these ports
/// come from below that range instead. Test processes running side by side do not pick the same port: each port
/// is claimed with a lock file that its process holds until it exits. A port something already listens on is
/// skipped.
/// </summary>
public static class TestPorts
{
    // Below Linux's default ephemeral range (32768-60999) and Windows' (49152-65535), above the well-known ports.
    private const int First = 20000;
    private const int Count = 12000;

    private static readonly Lock Gate = new();
    private static readonly List<FileStream> Claims = [];
    private static readonly string ClaimDirectory = Path.Combine(Path.GetTempPath(), "warden-test-ports");
    private static int _cursor = Random.Shared.Next(Count);

    static TestPorts()
    {
        // The claims end with the process anyway; closing them deletes their files too.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (Gate)
            {
                foreach (var claim in Claims) claim.Dispose();
                Claims.Clear();
            }
        };
    }

    /// <summary>One port no other test process holds and nothing listens on.</summary>
    public static int Next()
    {
        lock (Gate)
        {
            Directory.CreateDirectory(ClaimDirectory);
            for (var tried = 0; tried < Count; tried++)
            {
                var port = First + _cursor;
                _cursor = (_cursor + 1) % Count;
                if (TryClaim(port)) return port;
            }
            throw new InvalidOperationException($"no free test port left in {First}-{First + Count - 1}");
        }
    }

    /// <summary>Distinct ports, as <see cref="Next()"/>.</summary>
    public static int[] Next(int count) => Enumerable.Range(0, count).Select(_ => Next()).ToArray();

    private static bool TryClaim(int port)
    {
        FileStream claim;
        try
        {
            // FileShare.None is an exclusive advisory lock on Unix: a second process cannot open it while this one lives.
            claim = new FileStream(Path.Combine(ClaimDirectory, port + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite,
                FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
        if (!NothingListensOn(port))
        {
            claim.Dispose();
            return false;
        }
        Claims.Add(claim);
        return true;
    }

    private static bool NothingListensOn(int port)
    {
        try
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
