using System.Runtime.InteropServices;

namespace Warden.Cli;

/// <summary>
/// Turns Ctrl-C (SIGINT), SIGTERM and SIGQUIT into a cancellation, so that a long-running command stops cleanly
/// in the same way whether a person presses Ctrl-C or a service manager or script sends SIGTERM. Without this the
/// runtime ends the process on SIGTERM at once, with exit code 143 and no clean-up.
/// </summary>
public sealed class TerminationSignals
{
    private readonly CancellationTokenSource _source;
    private readonly List<PosixSignalRegistration> _registrations = [];

    /// <summary>
    /// Registers for the rest of the process's life: a second signal that arrives while the command is finishing
    /// (a terminal's Ctrl-C reaches a whole process group, and `warden ensemble` also sends SIGTERM) must not end
    /// the process with the signal's exit code once the clean stop is under way.
    /// </summary>
    public static TerminationSignals ForProcess(CancellationToken outer) => new(outer);

    private TerminationSignals(CancellationToken outer)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(outer);
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT })
        {
            try
            {
                _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
            }
            catch (PlatformNotSupportedException)
            {
                // SIGQUIT and SIGTERM do not exist on Windows; Ctrl-C still arrives as SIGINT there.
            }
        }
    }

    /// <summary>Cancelled at the first signal.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>The signal that cancelled <see cref="Token"/>, if one did.</summary>
    public PosixSignal? Received { get; private set; }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // the command ends itself, after cleaning up
        Received ??= context.Signal;
        // Off the signal thread: continuations of the cancellation must not run inside the handler.
        _ = Task.Run(_source.Cancel);
    }
}
