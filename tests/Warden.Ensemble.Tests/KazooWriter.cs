using System.Diagnostics;
using Warden.Testing;

namespace Warden.Ensemble.Tests;

/// <summary>
/// A kazoo session (scripts/acked_writer.py under the system Python) creating sequential znodes under its own
/// parent through the whole host list, remembering every create the ensemble acknowledged. Dispose ends the
/// process by its pid if it is still running.
/// </summary>
internal sealed class KazooWriter : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _acknowledged = [];
    private readonly System.Text.StringBuilder _errors = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _acked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _lost;

    private KazooWriter(string parent, Process process)
    {
        Parent = parent;
        _process = process;
    }

    public string Parent { get; }

    public IReadOnlyList<string> Acknowledged
    {
        get { lock (_acknowledged) return _acknowledged.ToArray(); }
    }

    public int AcknowledgedCount
    {
        get { lock (_acknowledged) return _acknowledged.Count; }
    }

    /// <summary>Creates whose outcome is unknown because the connection broke while they were in flight.</summary>
    public int ConnectionLosses => Volatile.Read(ref _lost);

    public static async Task<KazooWriter> StartAsync(string hosts, string parent)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "scripts", "acked_writer.py");
        var startInfo = new ProcessStartInfo(InstalledTools.Require(InstalledTools.Python, "python3-kazoo"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { script, hosts, parent }) startInfo.ArgumentList.Add(argument);
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("python did not start");
        var writer = new KazooWriter(parent, process);
        process.OutputDataReceived += (_, e) => writer.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (writer._errors) writer._errors.Append(e.Data).Append('\n');
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(Clients.StepTimeout);
        await Task.WhenAny(writer._started.Task, process.WaitForExitAsync(timeout.Token));
        if (!writer._started.Task.IsCompleted) throw new InvalidOperationException($"kazoo writer {parent} did not start: {writer.Errors}");
        return writer;
    }

    private string Errors
    {
        get { lock (_errors) return _errors.ToString(); }
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        if (line == "started") _started.TrySetResult();
        else if (line.StartsWith("ack ", StringComparison.Ordinal))
        {
            TaskCompletionSource acked;
            lock (_acknowledged)
            {
                _acknowledged.Add(line[4..]);
                acked = _acked;
                _acked = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            acked.TrySetResult();
        }
        else if (line == "lost") Interlocked.Increment(ref _lost);
        else if (line.StartsWith("done ", StringComparison.Ordinal)) _done.TrySetResult();
    }

    /// <summary>Waits (bounded) until <paramref name="more"/> further creates are acknowledged, woken by each ack line.</summary>
    public async Task WaitForProgressAsync(int more, TimeSpan timeout)
    {
        int target = AcknowledgedCount + more;
        using var bound = new CancellationTokenSource(timeout);
        var exited = _process.WaitForExitAsync(bound.Token);
        while (true)
        {
            Task acked;
            lock (_acknowledged)
            {
                if (_acknowledged.Count >= target) return;
                acked = _acked.Task;
            }
            var first = await Task.WhenAny(acked, exited);
            if (first == exited)
            {
                if (_process.HasExited) throw new InvalidOperationException($"kazoo writer {Parent} exited: {Errors}");
                throw new TimeoutException($"kazoo writer {Parent} acknowledged {AcknowledgedCount}, not {target}, within {timeout.TotalSeconds:0} s");
            }
        }
    }

    /// <summary>Closes stdin and waits (bounded) for the writer to finish on the session it started with.</summary>
    public async Task StopAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(Clients.StepTimeout);
        await _process.WaitForExitAsync(timeout.Token);
        _process.WaitForExit();
        Assert.True(_process.ExitCode == 0 && _done.Task.IsCompleted,
            $"kazoo writer {Parent} ended with exit code {_process.ExitCode}: {Errors}");
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
