namespace Warden.Data;

/// <summary>
/// A rule the server's own logic must never break (zxids rising, a commit matching the proposal it answers).
/// It is not bad input: it stops the process loudly rather than carrying on with a state nobody can trust.
/// </summary>
public sealed class InvariantViolationException(string message) : Exception(message);
