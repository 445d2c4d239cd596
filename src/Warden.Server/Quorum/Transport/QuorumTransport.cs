using Microsoft.Extensions.Logging;
using Warden.Consensus;
using Warden.Consensus.Wire;

namespace Warden.Server.Quorum.Transport;

/// <summary>
/// The two ports a quorum member speaks on, byte for byte as Apache ZooKeeper 3.8: the election port, where
/// notifications travel between every pair of servers, and the quorum port, where each learner holds one stream of
/// QuorumPackets with its leader. The host hands it envelopes from the consensus core and receives envelopes back
/// through <see cref="Received"/>; nothing here blocks the caller or decides anything about the protocol.
/// </summary>
public sealed class QuorumTransport : IAsyncDisposable
{
    private readonly QuorumTransportOptions _options;
    private readonly ElectionLinks _election;
    private readonly QuorumPort _quorum;
    private readonly ILogger _log;

    public QuorumTransport(QuorumTransportOptions options, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(options);
        _ = options.SelfAddress;
        _options = options;
        _log = log;
        _election = new ElectionLinks(options, log, Raise) { LinkDown = peer => ElectionLinkDown?.Invoke(peer) };
        _quorum = new QuorumPort(options, log, Raise, RaiseDisconnected);
    }

    /// <summary>Raised on I/O threads for each message that arrives, in order per connection.</summary>
    public event Action<Envelope>? Received;

    /// <summary>Raised when a quorum-port connection with that peer broke, timed out or was closed by the other side.</summary>
    public event Action<ServerId>? Disconnected;

    /// <summary>Raised when the election link with that peer closed, or dialling it failed: its votes cannot arrive now.</summary>
    public event Action<ServerId>? ElectionLinkDown;

    /// <summary>Why each peer cannot be reached on the election port right now; peers with a live link are absent.</summary>
    public IReadOnlyDictionary<ServerId, string> ElectionLinkProblems => _election.Problems;

    /// <summary>The bound election endpoint, once started.</summary>
    internal System.Net.IPEndPoint? ElectionEndPoint => _election.LocalEndPoint;

    /// <summary>The bound quorum endpoint, while leading.</summary>
    internal System.Net.IPEndPoint? QuorumEndPoint => _quorum.LocalEndPoint;

    /// <summary>Binds this server's election port; throws <see cref="InvalidOperationException"/> naming the port when it is taken.</summary>
    public void Start()
    {
        _election.Start();
        if (_options.Security.AcceptsTls) _log.LogInformation("Election and quorum ports: {Mode}", _options.Security.Describe());
    }

    /// <summary>Sends an envelope on the channel it names. Never blocks: dials and writes happen in the background.</summary>
    public void Send(Envelope envelope)
    {
        if (envelope.From != _options.Self)
        {
            throw new ArgumentException($"this transport sends as {_options.Self}, not {envelope.From}", nameof(envelope));
        }
        switch (envelope.Channel)
        {
            case Channel.Election when envelope.Message is ElectionMessage election:
                _election.Send(envelope.To, election.Notification);
                break;
            case Channel.Election:
                throw new ArgumentException($"an election envelope must carry a notification, not {envelope.Message.GetType().Name}", nameof(envelope));
            default:
                _quorum.Send(envelope);
                break;
        }
    }

    /// <summary>Dials every configured peer that has no election link (Apache's connectAll after an empty poll).</summary>
    public void ConnectAll() => _election.ConnectAll();

    /// <summary>Binds the quorum port and accepts learners; only the leader listens there, as in Apache.</summary>
    public void StartLeading() => _quorum.StartLeading();

    /// <summary>Closes the quorum listener and every learner connection, without raising <see cref="Disconnected"/>.</summary>
    public void StopLeading() => _quorum.StopLeading();

    /// <summary>Closes this learner's connection to its leader, without raising <see cref="Disconnected"/>.</summary>
    public void CloseLeaderConnection() => _quorum.CloseLeaderConnection();

    /// <summary>A leader closes the connection of a learner it gave up on.</summary>
    public void CloseLearnerConnection(ServerId learner) => _quorum.CloseLearnerConnection(learner);

    private void Raise(Envelope envelope) => Received?.Invoke(envelope);

    private void RaiseDisconnected(ServerId peer) => Disconnected?.Invoke(peer);

    public async ValueTask DisposeAsync()
    {
        await _quorum.DisposeAsync().ConfigureAwait(false);
        await _election.DisposeAsync().ConfigureAwait(false);
    }
}
