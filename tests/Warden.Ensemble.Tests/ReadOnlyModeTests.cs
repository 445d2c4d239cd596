using System.Diagnostics;
using Warden.Testing;
using Xunit.Abstractions;

namespace Warden.Ensemble.Tests;

/// <summary>
/// readonlymode.enabled as Apache 3.8 has it without local sessions: a member cut off from its quorum goes read-only
/// after max(2 s, tickTime) (isro "ro", srvr "Mode: read-only"), and refuses read-write clients, new global sessions
/// and the resumption of a global session (the quorum may expire it meanwhile); once the quorum is back it serves
/// everyone again and the old client writes. The same test passes against a 3-server Apache 3.8 ensemble
/// (WARDEN_ENSEMBLE_SUBJECT=apache).
/// </summary>
public sealed class ReadOnlyModeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task AMemberWithoutQuorumServesReadOnlyClientsUntilTheQuorumIsBack()
    {
        await using var ensemble = EnsembleProcess.Create(3, Subject.Kind, Subject.TickTimeMs);
        foreach (var member in ensemble.Members)
        {
            member.SystemProperties["readonlymode.enabled"] = "true";
            member.Start();
        }
        var leader = await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(90));
        var kept = ensemble.Members.First(m => m != leader);
        var others = ensemble.Members.Where(m => m != kept).ToList();

        using var client = StartPython(kept.ConnectString);
        var lines = new List<string>();
        try
        {
            await ExpectAsync(client, lines, "ready");
            foreach (var member in others) member.Kill();
            // Each server says in one line that it went read-only (Apache: "Read-only server started").
            await kept.WaitForOutputOfThisRunAsync(kept.Kind == ServerKind.Apache ? "Read-only server started" : "read-only mode on", StepTimeout);
            Assert.Equal("ro", await kept.FourLetterWordAsync("isro", TimeSpan.FromSeconds(10)));
            var srvr = await kept.FourLetterWordAsync("srvr", TimeSpan.FromSeconds(10));
            Assert.Contains("READ-ONLY mode; serving only read-only clients\n", srvr);
            Assert.Contains("Mode: read-only\n", srvr);
            // The client's own session, made with the quorum, is not resumed here; both servers say so in this line.
            await kept.WaitForOutputAsync("Refusing global session reconnection in RO mode", StepTimeout);

            await client.StandardInput.WriteLineAsync("partitioned");
            await client.StandardInput.FlushAsync();
            await ExpectAsync(client, lines, "checked");
            Assert.Contains("new read-only client refused", lines);
            Assert.Contains("new read-write client refused", lines);

            foreach (var member in others) member.Start();
            await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(90));
            Assert.Equal("rw", await kept.FourLetterWordAsync("isro", TimeSpan.FromSeconds(10)));
            await client.StandardInput.WriteLineAsync("healed");
            await client.StandardInput.FlushAsync();
            await ExpectAsync(client, lines, "rw-again");
        }
        finally
        {
            if (!client.HasExited) client.Kill();
            output.WriteLine(string.Join("\n", lines));
        }

        // The write made after the partition healed is on every member.
        foreach (var member in ensemble.Members)
        {
            await using var reader = await Clients.ConnectAsync(member);
            using var timeout = new CancellationTokenSource(Clients.StepTimeout);
            await reader.SyncAsync("/ro", timeout.Token);
            var node = await reader.GetDataAsync("/ro", timeout.Token);
            Assert.Equal("after", System.Text.Encoding.UTF8.GetString(node.Data));
        }
    }

    private async Task ExpectAsync(Process client, List<string> lines, string expected)
    {
        using var timeout = new CancellationTokenSource(StepTimeout);
        while (true)
        {
            string? line;
            try
            {
                line = await client.StandardOutput.ReadLineAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                line = null;
            }
            if (line is null)
            {
                if (!client.HasExited) client.Kill();
                var error = await client.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
                Assert.Fail($"read_only.py stopped before '{expected}' (got: {string.Join(" | ", lines)})\n{error}");
            }
            lines.Add(line!);
            if (line == expected) return;
        }
    }

    private static Process StartPython(string host)
    {
        var startInfo = new ProcessStartInfo(InstalledTools.Require(InstalledTools.Python, "python3-kazoo"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(FormationTests.Script("read_only.py"));
        startInfo.ArgumentList.Add(host);
        return Process.Start(startInfo) ?? throw new InvalidOperationException("could not start read_only.py");
    }
}
