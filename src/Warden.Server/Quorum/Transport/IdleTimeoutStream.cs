namespace Warden.Server.Quorum.Transport;

/// <summary>
/// A read-only view of the connection's input for the snapshot reader. Each read must make progress within the
/// connection's current read timeout, as Apache's SO_TIMEOUT applies per read, so a large snapshot may take as
/// long as it needs while a stalled leader is still noticed.
/// </summary>
internal sealed class IdleTimeoutStream(Stream inner, int readTimeoutMs, CancellationToken closing) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closing);
        timeout.CancelAfter(readTimeoutMs);
        try
        {
            return await inner.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !closing.IsCancellationRequested)
        {
            throw new TimeoutException($"no snapshot bytes arrived within {readTimeoutMs} ms");
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Synchronous reads go through the asynchronous path so that the per-read timeout applies to them too.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
