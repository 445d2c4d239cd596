using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Warden.Consensus;
using Warden.Consensus.Wire;
using Warden.Protocol;
using Warden.Server.Quorum.Transport;
using static Warden.Server.Tests.Quorum.Transport.TransportTestKit;

namespace Warden.Server.Tests.Quorum.Transport;

/// <summary>
/// Two Apache ZooKeeper 3.8 servers and this transport as the third member of their ensemble: the election
/// handshake must complete both ways, their notifications must decode, and they must answer ours.
/// </summary>
public sealed class ApacheElectionInteropTests
{
    private static readonly TimeSpan TestBound = TimeSpan.FromSeconds(30);

    [ApacheFact]
    public async Task Apache_servers_complete_the_election_handshake_with_us_and_answer_our_notification()
    {
        var addresses = new[] { Address(1), Address(2), Address(3) };
        var lines = addresses.Select(a => $"server.{a.Id.Value}=127.0.0.1:{a.QuorumPort}:{a.ElectionPort}").ToList();
        await using var transport = new QuorumTransport(Options(3, addresses), NullLogger.Instance);
        var inbox = new Inbox(transport);
        transport.Start();

        await using var one = ApacheQuorumPeer.Start(1, FreePort(), lines);
        await using var two = ApacheQuorumPeer.Start(2, FreePort(), lines);
        var deadline = DateTime.UtcNow + TestBound;
        string Diagnostics() =>
            $"problems: {string.Join("; ", transport.ElectionLinkProblems.Select(p => $"{p.Key}: {p.Value}"))}\n" +
            $"--- server 1 ---\n{one.Output}\n--- server 2 ---\n{two.Output}";

        // Each Apache server notifies every member when its election starts; being lower sids, they hang up and
        // we dial back, so these arrive on links this transport dialled.
        var firstFrom = new Dictionary<long, Notification>();
        while (firstFrom.Count < 2)
        {
            var envelope = await NextBefore(inbox, deadline, Diagnostics);
            if (envelope.From.Value is 1 or 2) firstFrom.TryAdd(envelope.From.Value, ((ElectionMessage)envelope.Message).Notification);
        }
        foreach (var (sid, notification) in firstFrom)
        {
            Assert.InRange((int)notification.State, 0, 2);
            Assert.Equal(Notification.CurrentVersion, notification.Version);
            var config = Encoding.UTF8.GetString(notification.Config);
            Assert.Contains($"server.3=127.0.0.1:{addresses[2].QuorumPort}:{addresses[2].ElectionPort}:participant", config);
            Assert.Contains($"server.{sid}=127.0.0.1:{addresses[sid - 1].QuorumPort}:{addresses[sid - 1].ElectionPort}:participant", config);
            Assert.EndsWith("version=0", config);
        }

        // Our notification is LOOKING with an election round (0) behind theirs, so it never sways their vote, and
        // with their own config, so it never restarts their election. A LOOKING server answers such a sender with
        // its vote; a FOLLOWING or LEADING one answers with its state. Ask again until both have settled.
        var config0 = firstFrom[1].Config;
        var settled = new Dictionary<long, Notification>();
        while (settled.Count < 2)
        {
            foreach (var sid in new long[] { 1, 2 }.Where(s => !settled.ContainsKey(s)))
            {
                transport.Send(new Envelope(new ServerId(3), new ServerId(sid), Channel.Election, new ElectionMessage(
                    new Notification(PeerState.Looking, new ServerId(3), Zxid.Zero, 0, 0, Notification.CurrentVersion, config0))));
            }
            // Their answers come within milliseconds; a round that brings none is asked again.
            var round = DateTime.UtcNow + TimeSpan.FromMilliseconds(500);
            while (DateTime.UtcNow < round && settled.Count < 2)
            {
                Envelope envelope;
                try
                {
                    envelope = await inbox.NextAsync(e => e.From.Value is 1 or 2, round - DateTime.UtcNow);
                }
                catch (TimeoutException)
                {
                    break;
                }
                var answer = ((ElectionMessage)envelope.Message).Notification;
                if (answer.State is PeerState.Following or PeerState.Leading) settled[envelope.From.Value] = answer;
            }
            Assert.True(DateTime.UtcNow < deadline, "the Apache servers did not report FOLLOWING/LEADING to us in time\n" + Diagnostics());
        }

        // Two servers of the same ensemble agree on one leader among themselves, and each knows its own role.
        Assert.Equal(settled[1].Leader, settled[2].Leader);
        var leader = settled[1].Leader.Value;
        Assert.Contains(leader, new long[] { 1, 2 });
        Assert.Equal(PeerState.Leading, settled[leader].State);
        Assert.Equal(PeerState.Following, settled[3 - leader].State);
        Assert.False(transport.ElectionLinkProblems.ContainsKey(new ServerId(1)), Diagnostics());
        Assert.False(transport.ElectionLinkProblems.ContainsKey(new ServerId(2)), Diagnostics());
    }

    private static async Task<Envelope> NextBefore(Inbox inbox, DateTime deadline, Func<string> diagnostics)
    {
        var left = deadline - DateTime.UtcNow;
        if (left <= TimeSpan.Zero) throw new TimeoutException("no notifications from the Apache servers in time\n" + diagnostics());
        try
        {
            return await inbox.NextAsync(bound: left);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException("no notifications from the Apache servers in time\n" + diagnostics());
        }
    }
}
