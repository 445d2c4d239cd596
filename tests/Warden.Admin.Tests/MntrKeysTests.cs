using Warden.Testing;

namespace Warden.Admin.Tests;

/// <summary>
/// mntr prints only Apache's keys, and every Apache key it does not print is on the documented list
/// (MntrKeysLeftOut.txt, summarised in README.md), so the list stays true as keys are added.
/// </summary>
public sealed class MntrKeysTests
{
    [Fact]
    public async Task EveryMntrKeyIsApachesAndEveryMissingOneIsListed()
    {
        await using var server = await ServerProcess.StartAsync(ServerKind.Warden);
        var warden = ApacheAdmin.ParseMntr(await server.FourLetterWordAsync("mntr", TimeSpan.FromSeconds(10))).Keys.ToHashSet();
        var apache = ApacheAdmin.Keys("standalone", "monitor").Where(k => k is not "command" and not "error").ToHashSet();

        Assert.Empty(warden.Except(apache));
        var missing = apache.Except(warden).Order().ToList();
        Assert.All(missing, k => Assert.True(ApacheAdmin.IsLeftOut(k), $"{k} is neither printed nor listed as left out"));
        Assert.All(warden, k => Assert.False(ApacheAdmin.IsLeftOut(k), $"{k} is printed but still listed as left out"));
        // Every listed name stands for at least one of Apache's keys (no stale or misspelt entries).
        var anyRole = new[] { "standalone", "leader", "follower" }.SelectMany(role => ApacheAdmin.Keys(role, "monitor")).ToHashSet();
        foreach (var name in ApacheAdmin.LeftOutList)
        {
            Assert.Contains(anyRole, ApacheAdmin.IsLeftOutName(name));
        }
    }
}
