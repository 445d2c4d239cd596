using Warden.Server.Network;

namespace Warden.Server.Tests.Network;

public sealed class FourLetterWordFormatTests
{
    /// <summary>Apache rounds the average half-up to four decimals and prints it as a Java double.</summary>
    [Theory]
    [InlineData(0.0, "0.0")]
    [InlineData(5.0, "5.0")]
    [InlineData(71.0 / 3, "23.6667")]
    [InlineData(1.402, "1.402")]
    [InlineData(2.00005, "2.0001")]
    [InlineData(1.0 / 3000, "3.0E-4")]
    [InlineData(0.00004, "0.0")]
    public void AverageLatencyPrintsAsApacheDoes(double average, string expected) =>
        Assert.Equal(expected, FourLetterWords.AverageLatency(average));
}
