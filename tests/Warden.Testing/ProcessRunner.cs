using System.Diagnostics;
using System.Text;

namespace Warden.Testing;

/// <summary>What a finished (or timed-out) child process left behind.</summary>
/// <param name="ExitCode">The exit code, or -1 when the process was killed for running too long.</param>
/// <param name="StandardOutput">Everything written to stdout.</param>
/// <param name="StandardError">Everything written to stderr.</param>
/// <param name="TimedOut">True when the process was killed at the timeout.</param>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError, bool TimedOut)
{
    /// <summary>A readable dump for assertion messages.</summary>
    public string Describe() =>
        $"exit code {ExitCode}{(TimedOut ? " (killed at timeout)" : "")}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}

/// <summary>
/// Runs a tool (zkCli.sh, cli_mt, a Python script) to completion with a hard time bound, feeding
/// optional stdin and capturing both output streams. A tool that hangs is killed with its whole
/// process tree, so a misbehaving server can never wedge the test run.
/// </summary>
public static class ProcessRunner
{
    /// <param name="fileName">The executable.</param>
    /// <param name="arguments">Arguments, passed without shell interpretation.</param>
    /// <param name="timeout">Kill the process tree after this long.</param>
    /// <param name="standardInput">Text written to stdin, which is then closed; null closes stdin at once.</param>
    /// <param name="environment">Extra environment variables for the child.</param>
    /// <param name="workingDirectory">The child's working directory; the current one when null.</param>
    /// <param name="mergeStandardError">
    /// Send stderr into the stdout pipe (through /bin/sh) so the two keep their relative order.
    /// Tools such as zkCli print results on stdout and errors on stderr, and a transcript is only
    /// comparable if the interleaving survives.
    /// </param>
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        string? standardInput = null,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null,
        bool mergeStandardError = false,
        CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (mergeStandardError)
        {
            // "$0" is the tool and "$@" its arguments: no quoting of our own can go wrong.
            startInfo.FileName = "/bin/sh";
            startInfo.ArgumentList.Add("-c");
            startInfo.ArgumentList.Add("exec \"$0\" \"$@\" 2>&1");
            startInfo.ArgumentList.Add(fileName);
        }
        else
        {
            startInfo.FileName = fileName;
        }
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        if (workingDirectory is not null)
        {
            startInfo.WorkingDirectory = workingDirectory;
        }
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                startInfo.Environment[key] = value;
            }
        }

        using var process = new Process { StartInfo = startInfo };
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {fileName}");
        }
        var stdoutTask = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderrTask = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            if (standardInput is not null)
            {
                await process.StandardInput.WriteAsync(standardInput.AsMemory(), cancellationToken);
                await process.StandardInput.FlushAsync(cancellationToken);
            }
        }
        catch (IOException)
        {
            // The child exited before reading all of stdin; its output says why.
        }
        finally
        {
            process.StandardInput.Close();
        }

        var timedOut = false;
        using (var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeoutSource.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(timeoutSource.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                KillTree(process);
            }
        }
        // The pipes close once every holder of them (the tree) is gone; bound that wait too.
        var drained = Task.WhenAll(stdoutTask, stderrTask);
        if (await Task.WhenAny(drained, Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None)) != drained)
        {
            KillTree(process);
        }
        var stdout = await stdoutTask;
        var stderr = await stderrTask;
        cancellationToken.ThrowIfCancellationRequested();
        return new ProcessResult(timedOut ? -1 : process.ExitCode, stdout, stderr, timedOut);
    }

    internal static void KillTree(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
    }
}
