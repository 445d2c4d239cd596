using Warden.Testing;

namespace Warden.Compat.Tests;

/// <summary>
/// Bad input to the 3.5+ features on raw frames: malformed and invalid ACL lists, unknown schemes,
/// TTLs out of range, addWatch on odd paths. The same script runs against Apache and the subject
/// (both with extended types on); each case records the reply (or that the server closed the
/// connection) and whether the node appeared, and the two records must be equal. Afterwards the
/// server must still serve a fresh session.
/// </summary>
public sealed class FeatureBadInputTests
{
    private const int CreateOp = 1;
    private const int SetAclOp = 7;
    private const int CreateTtlOp = 21;
    private const int AddWatchOp = 106;

    private static readonly (string Name, int Op, Func<JuteBuffer> Body, string? Path)[] Cases =
    [
        ("create with a null ACL vector", CreateOp, () => new JuteBuffer().String("/bad-null").Buffer([]).Int(-1).Int(0), "/bad-null"),
        ("create with an empty ACL list", CreateOp, () => new JuteBuffer().String("/bad-empty").Buffer([]).Int(0).Int(0), "/bad-empty"),
        ("create whose ACL count runs past the frame", CreateOp,
            () => new JuteBuffer().String("/bad-short").Buffer([]).Int(3).Int(31).String("world").String("anyone"), "/bad-short"),
        ("create with an unknown ACL scheme", CreateOp,
            () => new JuteBuffer().String("/bad-scheme").Buffer([]).Int(1).Int(31).String("nosuch").String("x").Int(0), "/bad-scheme"),
        ("create with a digest id lacking its hash", CreateOp,
            () => new JuteBuffer().String("/bad-digest").Buffer([]).Int(1).Int(31).String("digest").String("alice").Int(0), "/bad-digest"),
        ("create with an ip ACL out of range", CreateOp,
            () => new JuteBuffer().String("/bad-ip").Buffer([]).Int(1).Int(31).String("ip").String("10.0.0.1/40").Int(0), "/bad-ip"),
        ("create with an auth ACL and no credentials", CreateOp,
            () => new JuteBuffer().String("/bad-auth").Buffer([]).Int(1).Int(31).String("auth").String("").Int(0), "/bad-auth"),
        ("setACL of / to an empty list", SetAclOp, () => new JuteBuffer().String("/").Int(0).Int(-1), null),
        ("createTTL with ttl 0", CreateTtlOp, () => TtlCreate("/ttl-zero", 5, 0), "/ttl-zero"),
        ("createTTL with ttl past 2^40 - 1", CreateTtlOp, () => TtlCreate("/ttl-big", 5, 0x100_0000_0000L), "/ttl-big"),
        ("createTTL with a negative ttl", CreateTtlOp, () => TtlCreate("/ttl-negative", 6, -1), "/ttl-negative"),
        ("createTTL in ephemeral mode", CreateTtlOp, () => TtlCreate("/ttl-ephemeral", 1, 1000), "/ttl-ephemeral"),
        ("createTTL with unknown flags", CreateTtlOp, () => TtlCreate("/ttl-flags", 99, 1000), "/ttl-flags"),
        ("addWatch with an unknown mode", AddWatchOp, () => new JuteBuffer().String("/").Int(7), null),
        ("addWatch on a path without a slash", AddWatchOp, () => new JuteBuffer().String("nowhere").Int(1), null),
    ];

    [Fact]
    public async Task BadFeatureInputIsAnsweredAsApacheAnswersIt()
    {
        var (oracle, subject) = await Transcripts.StartPairAsync(
            FeatureDifferentialTests.FeatureConfig(), FeatureDifferentialTests.FeatureProperties());
        await using (oracle)
        await using (subject)
        {
            var records = await Task.WhenAll(RunCasesAsync(oracle), RunCasesAsync(subject));
            Assert.Contains("createTTL with ttl 0: reply -8 (BADARGUMENTS), node absent", records[0]);
            Assert.Contains("create with an unknown ACL scheme: reply -114 (INVALIDACL), node absent", records[0]);
            Transcripts.AssertSame("bad feature input", "Apache", records[0], subject.Kind.ToString(), records[1]);
            await BadInputTests.AssertServerCarriesOnAsync(oracle);
            await BadInputTests.AssertServerCarriesOnAsync(subject);
        }
    }

    /// <summary>
    /// createTTL with a non-TTL mode and a negative TTL passes Apache 3.8.0's checks and then stops
    /// its SyncThread, taking the server down (and again on every restart, replaying the log). Warden
    /// refuses it as a bad argument and stays up; the oracle is deliberately not asked.
    /// </summary>
    [Fact]
    public async Task CreateTtlWithANonTtlModeAndNegativeTtlIsRefused()
    {
        await using var server = await ServerProcess.StartAsync(ServerProcess.SubjectFromEnvironment(),
            FeatureDifferentialTests.FeatureConfig(), systemProperties: FeatureDifferentialTests.FeatureProperties());
        if (server.Kind == ServerKind.Apache)
        {
            return;
        }
        var (connection, _) = await RawConnection.OpenSessionAsync(server.EndPoint);
        using (connection)
        {
            await connection.SendRequestAsync(1, CreateTtlOp, TtlCreate("/not-ttl", 0, -5));
            var reply = await connection.ReadReplyAsync();
            Assert.True(reply is { Xid: 1, Error: -8 }, $"createTTL in persistent mode with ttl -5 got {reply}");
            Assert.Equal("node absent", await NodeStateAsync(connection, 2, "/not-ttl"));
        }
        await BadInputTests.AssertServerCarriesOnAsync(server);
    }

    private static JuteBuffer TtlCreate(string path, int flags, long ttl) =>
        new JuteBuffer().String(path).Buffer([]).OpenAcl().Int(flags).Long(ttl);

    private static async Task<string> RunCasesAsync(ServerProcess server)
    {
        var lines = new List<string>();
        foreach (var (name, op, body, path) in Cases)
        {
            var (connection, _) = await RawConnection.OpenSessionAsync(server.EndPoint, name);
            using (connection)
            {
                await connection.SendRequestAsync(1, op, body());
                string answer;
                try
                {
                    var reply = await connection.ReadReplyAsync();
                    answer = reply is null ? "connection closed" : $"reply {reply.Error}{Describe(reply.Error)}";
                }
                catch (InvalidDataException e)
                {
                    answer = "bad reply: " + e.Message;
                }
                string node = "";
                if (path is not null)
                {
                    // A fresh session, as the one that sent the bad frame may be gone.
                    var (checker, _) = await RawConnection.OpenSessionAsync(server.EndPoint, "a check after " + name);
                    using (checker)
                    {
                        node = ", " + await NodeStateAsync(checker, 1, path);
                    }
                }
                lines.Add($"{name}: {answer}{node}");
            }
        }
        return string.Join('\n', lines);
    }

    private static async Task<string> NodeStateAsync(RawConnection connection, int xid, string path)
    {
        await connection.SendRequestAsync(xid, Op.Exists, new JuteBuffer().String(path).Bool(false));
        var reply = await connection.ReadReplyAsync();
        return reply switch
        {
            { Error: -101 } => "node absent",
            { Error: 0 } => "node created",
            null => "exists: connection closed",
            _ => $"exists: error {reply.Error}",
        };
    }

    private static string Describe(int error) => error switch
    {
        0 => " (OK)",
        -5 => " (MARSHALLINGERROR)",
        -6 => " (UNIMPLEMENTED)",
        -8 => " (BADARGUMENTS)",
        -114 => " (INVALIDACL)",
        _ => "",
    };
}
