using Warden.Testing;

namespace Warden.Compat.Tests;

/// <summary>
/// Apache Curator 5.4 (Debian's libcurator-*-java) against Apache ZooKeeper and the subject:
/// tests/compat/curator/CuratorChecks.java is compiled with javac at test time and run against
/// each server; it prints one line of facts per recipe (a contended InterProcessMutex, a
/// LeaderLatch losing its leader's session, a CuratorCache on a changing subtree, a queue with two
/// consumers). Both servers must print exactly the expected lines.
/// </summary>
public sealed class CuratorTests
{
    private static readonly string[] CuratorJars =
        ["curator-recipes.jar", "curator-framework.jar", "curator-client.jar", "zookeeper.jar"];

    private static readonly string[] Expected =
    [
        "mutex: acquisitions=40 overlaps=0 lock nodes left=0",
        "leader: first elected=true new leader after close=true",
        "cache: initialized=true required events seen=true",
        "cache: state={/curator/cache=, /curator/cache/a=3, /curator/cache/b=2, /curator/cache/d=5}",
        "queue: produced=30 consumed=30 distinct=30 duplicates=0",
        "done",
    ];

    [Fact]
    public async Task CuratorRecipesWorkAsOnApache()
    {
        // The jars' manifests name their own dependencies (guava, slf4j, jute), so these four suffice.
        var classPath = string.Join(':', CuratorJars.Select(jar =>
            InstalledTools.Require(Path.Combine("/usr/share/java", jar), "libcurator-recipes-java")));
        var javac = InstalledTools.Require("/usr/bin/javac", "openjdk-17-jdk-headless");
        var classes = Directory.CreateTempSubdirectory("warden-curator-");
        try
        {
            var source = Path.Combine(AppContext.BaseDirectory, "compat", "curator", "CuratorChecks.java");
            var compiled = await ProcessRunner.RunAsync(javac, ["-d", classes.FullName, "-cp", classPath, source], TimeSpan.FromMinutes(2));
            Assert.True(compiled.ExitCode == 0, $"javac failed: {compiled.Describe()}");
            var (oracle, subject) = await Transcripts.StartPairAsync();
            await using (oracle)
            await using (subject)
            {
                var runs = await Task.WhenAll(Run(oracle), Run(subject));
                Transcripts.AssertSame("Curator against Apache (expected)", "expected", string.Join('\n', Expected),
                    "Apache", runs[0].StandardOutput + (runs[0].ExitCode == 0 ? "" : runs[0].Describe()));
                Transcripts.AssertSame("Curator against " + subject.Kind, "expected", string.Join('\n', Expected),
                    subject.Kind.ToString(), runs[1].StandardOutput + (runs[1].ExitCode == 0 ? "" : runs[1].Describe()));
            }
        }
        finally
        {
            classes.Delete(recursive: true);
        }

        Task<ProcessResult> Run(ServerProcess server) => ProcessRunner.RunAsync(
            InstalledTools.Java,
            ["-cp", classes.FullName + ":" + classPath, "CuratorChecks", server.ConnectString],
            TimeSpan.FromMinutes(2));
    }
}
