using System.Buffers.Binary;
using System.Text;

namespace Warden.Server.Tests.Quorum.Transport;

/// <summary>
/// Reads exactly one of Apache's SNAP streams, field by field, and returns its bytes: the test's stand-in for the
/// host's snapshot reader, so that a SNAP from a real Apache leader can be consumed without reading past its end.
/// <code>
/// int n; (long session, int timeout)*n
/// int m; (long aclRef; int count; (int perms; ustring scheme; ustring id)*count)*m
/// (ustring path; buffer data; long acl; long czxid, mzxid, ctime, mtime; int version, cversion, aversion;
///  long ephemeralOwner, pzxid)* until the path "/"
/// ustring "BenWasHere"
/// </code>
/// </summary>
internal sealed class ApacheSnapshotReader(Stream stream, CancellationToken cancellation)
{
    private readonly MemoryStream _copy = new();

    public static Task<byte[]> ReadAsync(Stream stream, CancellationToken cancellation) =>
        new ApacheSnapshotReader(stream, cancellation).ReadAllAsync();

    private async Task<byte[]> ReadAllAsync()
    {
        int sessions = await IntAsync();
        for (int i = 0; i < sessions; i++)
        {
            await TakeAsync(12);
        }
        int acls = await IntAsync();
        for (int i = 0; i < acls; i++)
        {
            await TakeAsync(8);
            int count = await IntAsync();
            for (int j = 0; j < count; j++)
            {
                await TakeAsync(4);
                await StringAsync();
                await StringAsync();
            }
        }
        while (await StringAsync() != "/")
        {
            int data = await IntAsync();
            if (data > 0) await TakeAsync(data);
            await TakeAsync(8 + 4 * 8 + 3 * 4 + 2 * 8);
        }
        var signature = await StringAsync();
        if (signature != "BenWasHere") throw new InvalidDataException($"snapshot signature '{signature}'");
        return _copy.ToArray();
    }

    private async Task<byte[]> TakeAsync(int count)
    {
        var bytes = new byte[count];
        await stream.ReadExactlyAsync(bytes, cancellation);
        _copy.Write(bytes);
        return bytes;
    }

    private async Task<int> IntAsync() => BinaryPrimitives.ReadInt32BigEndian(await TakeAsync(4));

    private async Task<string?> StringAsync()
    {
        int length = await IntAsync();
        return length < 0 ? null : Encoding.UTF8.GetString(await TakeAsync(length));
    }
}
