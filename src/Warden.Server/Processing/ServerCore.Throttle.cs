using Microsoft.Extensions.Logging;

namespace Warden.Server.Processing;

// Limits on incoming work that Apache applies in its ZooKeeperServer: the connection throttle.
public sealed partial class ServerCore
{
    private ConnectionThrottle? _connectionThrottle;
    private Network.RateLimitedLog? _throttleLog;

    /// <summary>
    /// zookeeper.connection_throttle_*: a connect request that finds the token bucket short is refused by closing
    /// its connection, before any session is made or resumed (Apache: ClientCnxnLimitException, counted in
    /// connection_rejected). Refusals are logged at most once a second.
    /// </summary>
    private bool PassesConnectionThrottle(IClientConnection connection, bool resumesSession)
    {
        if (_connectionThrottle is null)
        {
            _connectionThrottle = new ConnectionThrottle(_settings.ConnectionThrottle, NowMs);
            if (_connectionThrottle.Enabled && _settings.ConnectionThrottle.FreezeTimeMs != -1)
            {
                _log.LogWarning("connection_throttle_freeze_time={Freeze}: BLUE's random early dropping is not supported; only the token bucket applies",
                    _settings.ConnectionThrottle.FreezeTimeMs);
            }
        }
        var throttle = _connectionThrottle;
        if (!throttle.Enabled) return true;
        if (throttle.TryTake(throttle.Cost(resumesSession), NowMs)) return true;
        Stats.ConnectionsRejected++;
        _throttleLog ??= new Network.RateLimitedLog(_log, _time, TimeSpan.FromSeconds(1));
        _throttleLog.Warn($"Closing connection from {connection.RemoteAddress}: the connection throttle is out of tokens " +
            $"(connection_throttle_tokens={_settings.ConnectionThrottle.Tokens}, fill_count={_settings.ConnectionThrottle.FillCount} " +
            $"every fill_time={_settings.ConnectionThrottle.FillTimeMs} ms)");
        return false;
    }
}
