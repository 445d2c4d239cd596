using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Warden.Client;

public static class ZooKeeperServiceCollectionExtensions
{
    /// <summary>
    /// Registers one shared <see cref="ZooKeeperClient"/> (a singleton: one session per application) configured
    /// through <see cref="ZooKeeperClientOptions"/>. It starts connecting when first resolved; the container
    /// closes the session when it is disposed.
    /// </summary>
    public static IServiceCollection AddZooKeeperClient(this IServiceCollection services, Action<ZooKeeperClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (configure is not null) services.Configure(configure);
        else services.AddOptions<ZooKeeperClientOptions>();
        services.TryAddSingleton(provider => new ZooKeeperClient(
            provider.GetRequiredService<IOptions<ZooKeeperClientOptions>>(),
            provider.GetService<ILogger<ZooKeeperClient>>()));
        return services;
    }
}
