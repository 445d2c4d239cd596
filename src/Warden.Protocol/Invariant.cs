namespace Warden.Protocol;

/// <summary>
/// A rule the server's own logic must never break, in any layer: zxids strictly rising, a commit never past the
/// last logged txn, an epoch never below the accepted one, a txn committed as it was proposed. It means a bug or
/// corrupted storage, never bad input from a client or a peer, and the process stops loudly rather than carry on
/// with a history nobody can trust. Bad input and I/O failures are ordinary errors with clear messages.
/// </summary>
public sealed class InvariantViolationException(string message) : Exception(message);

/// <summary>Checks that hold in every build, Release included.</summary>
public static class Invariant
{
    public static void Require(bool condition, string message)
    {
        if (!condition) throw new InvariantViolationException(message);
    }
}
