using Warden.Testing;

namespace Warden.Ensemble.Tests;

/// <summary>
/// Which implementation the tests run (WARDEN_ENSEMBLE_SUBJECT, Warden by default). Against Apache ZooKeeper
/// the assertions on Warden's own log lines are left out; everything a client or monitoring sees is asserted
/// the same way.
/// </summary>
internal static class Subject
{
    public static ServerKind Kind { get; } = EnsembleProcess.SubjectFromEnvironment();

    public static bool IsWarden => Kind == ServerKind.Warden;

    /// <summary>
    /// tickTime for every ensemble (WARDEN_ENSEMBLE_TICK_MS, 500 ms by default). A longer tick separates a
    /// timing-dependent fault from one that is not; the session timeouts the tests ask for suit 500 to 2000 ms.
    /// </summary>
    public static int TickTimeMs { get; } = int.TryParse(Environment.GetEnvironmentVariable("WARDEN_ENSEMBLE_TICK_MS"), out var tick)
        ? tick
        : EnsembleProcess.DefaultTickTimeMs;
}
