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
}
