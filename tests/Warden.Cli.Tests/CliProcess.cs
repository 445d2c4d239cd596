using System.Diagnostics;
using System.Text;
using Warden.Testing;

namespace Warden.Cli.Tests;

/// <summary>
/// `warden cli` as a child process fed line by line on its standard input, with its two output streams
/// collected as they come, so a test can act between commands (stop a server, start it again).
/// </summary>
public sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _printed = new(0);

    private CliProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(_out, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_err, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Keeps a line (null: the stream ended) and wakes whoever waits for output.</summary>
    private void Append(StringBuilder stream, string? line)
    {
        if (line is not null)
        {
            lock (_gate) stream.Append(line).Append('\n');
        }
        _printed.Release();
    }

    public static CliProcess Start(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(InstalledTools.WardenDll);
        info.ArgumentList.Add("cli");
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        return new CliProcess(Process.Start(info)!);
    }

    public string Output { get { lock (_gate) return _out.ToString(); } }

    public string Error { get { lock (_gate) return _err.ToString(); } }

    public string Describe() => $"--- stdout\n{Output}--- stderr\n{Error}";

    public async Task SendAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Waits (bounded) until the stream holds <paramref name="text"/> at least <paramref name="times"/> times.</summary>
    public async Task WaitForAsync(Func<CliProcess, string> stream, string text, int times = 1, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (Occurrences(stream(this), text) < times)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"waited {seconds} s for \"{text}\" ×{times}\n{Describe()}");
            // Woken by every line either stream prints, and when both streams end.
            await _printed.WaitAsync(left);
            if (_process.HasExited)
            {
                // Once the process is gone, waiting for it also drains what is left of its output.
                _process.WaitForExit();
                if (Occurrences(stream(this), text) < times) throw new InvalidOperationException($"warden cli exited ({_process.ExitCode}) before \"{text}\"\n{Describe()}");
            }
        }
    }

    public static int Occurrences(string haystack, string needle)
    {
        int count = 0;
        for (int at = haystack.IndexOf(needle, StringComparison.Ordinal); at >= 0; at = haystack.IndexOf(needle, at + needle.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    /// <summary>Closes standard input and waits (bounded) for the exit code.</summary>
    public async Task<int> FinishAsync(int seconds = 30)
    {
        _process.StandardInput.Close();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        await _process.WaitForExitAsync(bound.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
        _process.Dispose();
    }
}
