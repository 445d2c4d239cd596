using System.Globalization;
using Warden.Testing;

namespace Warden.Compat.Tests;

/// <summary>
/// What clients read but rarely show: reply-header zxids (the Java client sends the last one
/// back as lastZxidSeen on reconnect, so a server that reports a different zxid breaks
/// reconnects later), frame sizes, and the negotiated session timeout. The same raw script runs
/// against Apache and the subject and the recorded lines must be equal.
/// </summary>
public sealed class WireHeaderTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Ping = 11, Sync = 9, Delete = 2, GetChildren2 = 12;

    [Fact]
    public async Task ReplyHeadersAndNegotiatedTimeoutsMatchApache()
    {
        var (oracle, subject) = await Transcripts.StartPairAsync();
        await using (oracle)
        await using (subject)
        {
            var records = await Task.WhenAll(RecordAsync(oracle), RecordAsync(subject));
            output.WriteLine($"{subject}:\n{records[1]}");
            Assert.Contains("unknown op 999: xid 12 err -6", records[0]);
            Transcripts.AssertSame("raw reply headers", "Apache", records[0], subject.Kind.ToString(), records[1]);
        }
    }

    private static async Task<string> RecordAsync(ServerProcess zk)
    {
        var lines = new List<string>();
        // tickTime 2000: Apache clamps to [4000, 40000].
        foreach (var askedMs in new[] { 1, 3999, 4000, 10000, 40000, 40001, 100000 })
        {
            using var connection = await RawConnection.OpenAsync(zk.EndPoint);
            var answer = await connection.HandshakeAsync(timeoutMs: askedMs);
            lines.Add(answer is null
                ? $"asked {askedMs} ms: refused"
                : $"asked {askedMs} ms: got {answer.TimeoutMs} ms, protocol {answer.ProtocolVersion}, password {answer.Password.Length} bytes");
            if (answer is not null)
            {
                await BadInputTests.CloseSessionAsync(connection);
            }
        }

        var (session, _) = await RawConnection.OpenSessionAsync(zk.EndPoint);
        using (session)
        {
            var steps = new (string Name, int OpCode, JuteBuffer Body)[]
            {
                ("create /h", Op.Create, new JuteBuffer().String("/h").Buffer([1, 2, 3]).OpenAcl().Int(0)),
                ("create /h again", Op.Create, new JuteBuffer().String("/h").Buffer([]).OpenAcl().Int(0)),
                ("create /h/s- sequential", Op.Create, new JuteBuffer().String("/h/s-").Buffer([]).OpenAcl().Int(2)),
                ("getData /h", Op.GetData, new JuteBuffer().String("/h").Bool(false)),
                ("exists /missing", Op.Exists, new JuteBuffer().String("/missing").Bool(false)),
                ("setData /h bad version", Op.SetData, new JuteBuffer().String("/h").Buffer([]).Int(5)),
                ("setData /h", Op.SetData, new JuteBuffer().String("/h").Buffer([9]).Int(0)),
                ("sync /h", Sync, new JuteBuffer().String("/h")),
                ("getChildren2 /h", GetChildren2, new JuteBuffer().String("/h").Bool(false)),
                ("delete /h not empty", Delete, new JuteBuffer().String("/h").Int(-1)),
                ("delete /missing", Delete, new JuteBuffer().String("/missing").Int(-1)),
            };
            var xid = 0;
            foreach (var (name, opCode, body) in steps)
            {
                await session.SendRequestAsync(++xid, opCode, body);
                lines.Add($"{name}: {Describe(await session.ReadReplyAsync())}");
            }
            await session.SendRequestAsync(-2, Ping, new JuteBuffer());
            lines.Add($"ping: {Describe(await session.ReadReplyAsync())}");
            await session.SendRequestAsync(++xid, 999, new JuteBuffer());
            lines.Add($"unknown op 999: {Describe(await session.ReadReplyAsync())}");
        }
        return string.Join('\n', lines) + '\n';
    }

    private static string Describe(Reply? reply)
    {
        if (reply is null)
        {
            return "connection closed";
        }
        // The body's size only: stats hold wall-clock times.
        var bodyBytes = reply.Body.Remaining;
        return string.Format(CultureInfo.InvariantCulture, "xid {0} err {1} zxid {2} body {3} bytes", reply.Xid, reply.Error, reply.Zxid, bodyBytes);
    }
}
