using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Warden.Data;
using Warden.Protocol;

namespace Warden.Storage;

/// <summary>
/// The bytes a leader sends on the quorum port right after a SNAP packet, and a learner reads before the next
/// QuorumPacket: LearnerHandler calls ZKDatabase.serializeSnapshot (SerializeUtils.serializeSnapshot: sessions,
/// then DataTree.serialize: ACL cache and nodes) and then writes the signature string.
/// <code>
/// body        sessions, ACL cache, nodes ended by "/" (drawn on <see cref="SnapshotBody"/>)
/// signature   ustring "BenWasHere"
/// </code>
/// Unlike a snapshot file (FileSnap.serialize) there is no file header, no Adler32 seal and no ZxidDigest: in
/// Apache 3.8 the digest is written only by FileSnap, never by ZKDatabase.serializeSnapshot. The stream does not
/// say its zxid either; that is the SNAP packet's zxid, which the learner takes as its last processed zxid.
/// </summary>
public static class SnapStream
{
    public const string Signature = "BenWasHere";

    private const int SessionBytes = 8 + 4;

    // StatPersisted: czxid, mzxid, ctime, mtime (longs), version, cversion, aversion (ints), ephemeralOwner, pzxid.
    private const int StatPersistedBytes = (8 * 4) + (4 * 3) + (8 * 2);

    /// <summary>Writes one SNAP stream from a captured image; safe on any thread. The stream is not flushed.</summary>
    public static void Write(Stream stream, SnapshotImage image) => Write(stream, image.SessionTimeoutsMs, () => image.Nodes);

    /// <summary>Writes one SNAP stream straight from the tree, which must not change meanwhile.</summary>
    public static void Write(Stream stream, DataTree tree, IReadOnlyDictionary<long, int> sessionTimeoutsMs) =>
        Write(stream, sessionTimeoutsMs, () => tree.PreOrder().Select(NodeImage.Of));

    /// <summary>One SNAP stream as a byte array, for a transport that sends buffers.</summary>
    public static byte[] ToBytes(SnapshotImage image)
    {
        using var buffer = new MemoryStream();
        Write(buffer, image);
        return buffer.ToArray();
    }

    private static void Write(Stream stream, IReadOnlyDictionary<long, int> sessionTimeoutsMs, Func<IEnumerable<NodeImage>> nodes)
    {
        var writer = new ChecksummedWriter(stream);
        SnapshotBody.Write(writer, sessionTimeoutsMs, nodes);
        writer.WriteString(Signature);
        writer.Complete();
    }

    /// <summary>
    /// Decodes exactly one SNAP stream (nothing may follow it) into a new tree whose last processed zxid is
    /// <paramref name="zxid"/>, the SNAP packet's. Damage is an <see cref="InvalidDataException"/>.
    /// </summary>
    public static Snapshot Read(byte[] bytes, long zxid, int maxFieldBytes = SnapshotFile.DefaultMaxFieldBytes)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        return Read(stream, zxid, maxFieldBytes, wholeStream: true);
    }

    /// <summary>
    /// Decodes one SNAP stream from <paramref name="stream"/>. The reader buffers, so it may consume bytes past
    /// the signature: hand it only the stream's own bytes (see <see cref="ReadRawAsync"/>).
    /// </summary>
    public static Snapshot Read(Stream stream, long zxid, int maxFieldBytes = SnapshotFile.DefaultMaxFieldBytes) =>
        Read(stream, zxid, maxFieldBytes, wholeStream: false);

    private static Snapshot Read(Stream stream, long zxid, int maxFieldBytes, bool wholeStream)
    {
        try
        {
            var reader = new ChecksummedReader(stream, maxFieldBytes);
            var (sessions, tree) = SnapshotBody.Read(reader, zxid, onNodesRead: null);
            string signature = reader.ReadString();
            if (signature != Signature)
            {
                throw new InvalidDataException($"signature \"{Shorten(signature)}\" where \"{Signature}\" ends the stream");
            }
            if (wholeStream && !reader.AtEnd()) throw new InvalidDataException("bytes follow the signature");
            return new Snapshot
            {
                File = "SNAP stream", Zxid = zxid, Tree = tree, SessionTimeoutsMs = sessions,
            };
        }
        catch (Exception e) when (e is EndOfStreamException or JuteException or InvalidDataException)
        {
            throw new InvalidDataException($"SNAP stream is not valid: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads exactly one SNAP stream off a network stream and returns its bytes, parsing only the counts and
    /// lengths needed to find its end, so a transport can pass it on without decoding the tree. It never reads a
    /// byte past the signature, so the next QuorumPacket stays in <paramref name="network"/>; since it asks for a
    /// few bytes at a time, give it the transport's buffered stream rather than a bare socket stream.
    /// </summary>
    /// <param name="maxFieldBytes">Longest string or node data accepted (jute.maxbuffer); a longer length
    /// is an <see cref="InvalidDataException"/> before anything is buffered for it.</param>
    /// <exception cref="EndOfStreamException">The connection ended inside the stream.</exception>
    public static Task<byte[]> ReadRawAsync(Stream network, int maxFieldBytes, CancellationToken cancellationToken) =>
        ReadRawAsync(network, maxFieldBytes, Array.MaxLength, cancellationToken);

    /// <summary>As above, refusing a stream longer than <paramref name="maxStreamBytes"/> (a garbled count is
    /// refused at once rather than after buffering that much).</summary>
    public static async Task<byte[]> ReadRawAsync(Stream network, int maxFieldBytes, long maxStreamBytes,
        CancellationToken cancellationToken)
    {
        var raw = new RawReader(network, maxFieldBytes, Math.Min(maxStreamBytes, Array.MaxLength), cancellationToken);
        int sessions = await raw.CountAsync("session count").ConfigureAwait(false);
        await raw.SkipAsync((long)sessions * SessionBytes).ConfigureAwait(false);
        int aclLists = await raw.CountAsync("ACL cache size").ConfigureAwait(false);
        for (int i = 0; i < aclLists; i++)
        {
            await raw.SkipAsync(8).ConfigureAwait(false);
            int acls = await raw.LengthAsync("ACL vector").ConfigureAwait(false);
            for (int j = 0; j < acls; j++)
            {
                await raw.SkipAsync(4).ConfigureAwait(false);
                await raw.SkipLengthPrefixedAsync("ACL scheme").ConfigureAwait(false);
                await raw.SkipLengthPrefixedAsync("ACL id").ConfigureAwait(false);
            }
        }
        while (!await raw.IsEndPathAsync().ConfigureAwait(false))
        {
            await raw.SkipLengthPrefixedAsync("node data").ConfigureAwait(false);
            await raw.SkipAsync(8 + StatPersistedBytes).ConfigureAwait(false);
        }
        await raw.ExpectSignatureAsync().ConfigureAwait(false);
        return raw.ToArray();
    }

    /// <summary>The stream without its signature: the body a snapshot file holds between header and seal.</summary>
    internal static ReadOnlyMemory<byte> BodyOf(byte[] stream)
    {
        int signatureBytes = 4 + Signature.Length;
        if (stream.Length < signatureBytes ||
            !stream.AsSpan(stream.Length - Signature.Length).SequenceEqual(Encoding.ASCII.GetBytes(Signature)))
        {
            throw new InvalidDataException($"SNAP stream does not end with the signature \"{Signature}\"");
        }
        return stream.AsMemory(0, stream.Length - signatureBytes);
    }

    private static string Shorten(string text) => text.Length > 40 ? text[..40] + "..." : text;

    /// <summary>Copies fields off the network into one growing buffer, reading each field exactly.</summary>
    private sealed class RawReader(Stream network, int maxFieldBytes, long maxStreamBytes, CancellationToken cancellationToken)
    {
        private static readonly byte[] EndPathBytes = Encoding.UTF8.GetBytes(SnapshotBody.EndPath);
        private static readonly byte[] SignatureBytes = Encoding.UTF8.GetBytes(Signature);
        private readonly ArrayBufferWriter<byte> _copied = new(1 << 16);

        public byte[] ToArray() => _copied.WrittenSpan.ToArray();

        private void CheckRoomFor(long size)
        {
            if (_copied.WrittenCount + size > maxStreamBytes)
            {
                throw new InvalidDataException(
                    $"SNAP stream would pass {maxStreamBytes} bytes: {size} more needed after {_copied.WrittenCount}");
            }
        }

        private async ValueTask<ReadOnlyMemory<byte>> TakeAsync(int size)
        {
            CheckRoomFor(size);
            var target = _copied.GetMemory(size)[..size];
            await network.ReadExactlyAsync(target, cancellationToken).ConfigureAwait(false);
            _copied.Advance(size);
            return _copied.WrittenMemory[^size..];
        }

        private async ValueTask<int> IntAsync() => BinaryPrimitives.ReadInt32BigEndian((await TakeAsync(4).ConfigureAwait(false)).Span);

        /// <summary>A record count: never negative (jute writes -1 only for a null vector or string).</summary>
        public async ValueTask<int> CountAsync(string what)
        {
            int count = await IntAsync().ConfigureAwait(false);
            if (count < 0) throw new InvalidDataException($"SNAP stream has a negative {what} ({count})");
            return count;
        }

        /// <summary>A length that may be -1 for null; read as 0 bytes to follow.</summary>
        public async ValueTask<int> LengthAsync(string what)
        {
            int length = await IntAsync().ConfigureAwait(false);
            if (length < -1 || length > maxFieldBytes)
            {
                throw new InvalidDataException($"SNAP stream has a {what} length of {length} (limit {maxFieldBytes})");
            }
            return Math.Max(length, 0);
        }

        public async ValueTask SkipLengthPrefixedAsync(string what) =>
            await SkipAsync(await LengthAsync(what).ConfigureAwait(false)).ConfigureAwait(false);

        /// <summary>Copies <paramref name="size"/> bytes in chunks, so a large count is never allocated up front.</summary>
        public async ValueTask SkipAsync(long size)
        {
            CheckRoomFor(size);
            while (size > 0)
            {
                int chunk = (int)Math.Min(size, 1 << 16);
                await TakeAsync(chunk).ConfigureAwait(false);
                size -= chunk;
            }
        }

        /// <summary>Reads a node path; true when it is the "/" that ends the nodes.</summary>
        public async ValueTask<bool> IsEndPathAsync()
        {
            int length = await LengthAsync("path").ConfigureAwait(false);
            var path = await TakeAsync(length).ConfigureAwait(false);
            return path.Span.SequenceEqual(EndPathBytes);
        }

        public async ValueTask ExpectSignatureAsync()
        {
            int length = await LengthAsync("signature").ConfigureAwait(false);
            var signature = await TakeAsync(length).ConfigureAwait(false);
            if (!signature.Span.SequenceEqual(SignatureBytes))
            {
                string found = Shorten(Encoding.UTF8.GetString(signature.Span));
                throw new InvalidDataException($"SNAP stream ends with \"{found}\" where the signature \"{Signature}\" belongs");
            }
        }
    }
}
