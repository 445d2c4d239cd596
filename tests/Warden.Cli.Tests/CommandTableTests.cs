using Warden.Cli.Shell;

namespace Warden.Cli.Tests;

public sealed class CommandTableTests
{
    [Fact]
    public void EveryZkCliCommandIsListedOnceInHelpOrder()
    {
        var names = CommandTable.All.Select(c => c.Name).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.Equal(28, names.Distinct().Count());
        Assert.Equal("[-s] [-w] [-R] path", CommandTable.Find("ls")!.Usage);
        Assert.Null(CommandTable.Find("help"));
    }
}
