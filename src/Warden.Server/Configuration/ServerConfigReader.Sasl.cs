using Warden.Server.Security;

namespace Warden.Server.Configuration;

internal sealed partial class ServerConfigReader
{
    /// <summary>SASL and auth enforcement come from system properties (zoo.cfg keys included); see AuthenticationConfig.</summary>
    private void ReadAuthentication()
    {
        _config = _config with { Authentication = AuthenticationConfig.Read(_system.Snapshot(), _errors, _warnings) };
    }
}
