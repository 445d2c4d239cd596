using System.Text;

namespace Warden.Testing;

/// <summary>
/// A server's stdout and stderr, interleaved as they arrive, kept for failure messages.
/// Bounded: a chatty server in a long run keeps only the newest text, which is what explains a
/// failure anyway.
/// </summary>
internal sealed class OutputLog
{
    private const int MaxChars = 2_000_000;
    private readonly StringBuilder text = new();
    private readonly Lock gate = new();
    private bool truncated;
    private TaskCompletionSource appended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Append(string stream, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (gate)
        {
            text.Append(stream).Append("| ").Append(line).Append('\n');
            if (text.Length > MaxChars)
            {
                text.Remove(0, text.Length - MaxChars / 2);
                truncated = true;
            }
            appended.TrySetResult();
            appended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>
    /// Waits until the text so far satisfies <paramref name="condition"/>, checking again as each line arrives;
    /// false when <paramref name="timeout"/> passes first.
    /// </summary>
    public async Task<bool> WaitForAsync(Func<string, bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(timeout);
        while (true)
        {
            Task next;
            lock (gate) next = appended.Task;
            if (condition(ToString())) return true;
            try
            {
                await next.WaitAsync(bound.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return condition(ToString());
            }
        }
    }

    public override string ToString()
    {
        lock (gate)
        {
            return truncated ? "[older output dropped]\n" + text : text.ToString();
        }
    }
}
