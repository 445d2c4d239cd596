using System.Text;
using Warden.Testing;

namespace Warden.Compat.Tests;

/// <summary>
/// Helpers shared by the comparisons: where the Python drivers are, how to run them, and how to
/// show two transcripts that should be equal.
/// </summary>
internal static class Transcripts
{
    /// <summary>A driver script copied next to the tests from tests/compat.</summary>
    public static string Script(string name) => Path.Combine(AppContext.BaseDirectory, "compat", name);

    /// <summary>Runs a kazoo driver under the system Python that has kazoo.</summary>
    public static Task<ProcessResult> RunPythonAsync(string script, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var python = InstalledTools.Require(InstalledTools.Python, "python3-kazoo");
        return ProcessRunner.RunAsync(
            python,
            new[] { "-u", Script(script) }.Concat(arguments),
            timeout,
            environment: new Dictionary<string, string> { ["PYTHONDONTWRITEBYTECODE"] = "1" });
    }

    /// <summary>
    /// Starts the oracle and the subject side by side (a server takes a second or two to start,
    /// and the two starts overlap).
    /// </summary>
    public static async Task<(ServerProcess Oracle, ServerProcess Subject)> StartPairAsync(
        IReadOnlyDictionary<string, string>? extraConfig = null,
        IReadOnlyDictionary<string, string>? systemProperties = null)
    {
        var oracleStart = ServerProcess.StartAsync(ServerKind.Apache, extraConfig, systemProperties: systemProperties);
        var subjectStart = ServerProcess.StartAsync(ServerProcess.SubjectFromEnvironment(), extraConfig, systemProperties: systemProperties);
        try
        {
            await Task.WhenAll(oracleStart, subjectStart);
        }
        catch
        {
            if (oracleStart.IsCompletedSuccessfully)
            {
                await oracleStart.Result.DisposeAsync();
            }
            if (subjectStart.IsCompletedSuccessfully)
            {
                await subjectStart.Result.DisposeAsync();
            }
            throw;
        }
        return (oracleStart.Result, subjectStart.Result);
    }

    /// <summary>
    /// Asserts two line-based transcripts are equal; on a mismatch the message shows a
    /// unified-style diff with a few lines of context around every difference.
    /// </summary>
    public static void AssertSame(string title, string oracleName, string oracle, string subjectName, string subject)
    {
        var expected = SplitLines(oracle);
        var actual = SplitLines(subject);
        if (expected.SequenceEqual(actual))
        {
            return;
        }
        Assert.Fail($"{title}: transcripts differ\n--- {oracleName}\n+++ {subjectName}\n{UnifiedDiff(expected, actual, 3)}");
    }

    public static string[] SplitLines(string text) =>
        text.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n');

    /// <summary>
    /// A small unified diff (longest common subsequence; transcripts here are a few hundred
    /// lines at most, so the quadratic table is fine).
    /// </summary>
    public static string UnifiedDiff(IReadOnlyList<string> a, IReadOnlyList<string> b, int context)
    {
        var lcs = new int[a.Count + 1, b.Count + 1];
        for (var i = a.Count - 1; i >= 0; i--)
        {
            for (var j = b.Count - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }
        // Walk the table into a list of (' ', '-', '+') lines.
        var edits = new List<(char Kind, string Line)>();
        int x = 0, y = 0;
        while (x < a.Count || y < b.Count)
        {
            if (x < a.Count && y < b.Count && a[x] == b[y])
            {
                edits.Add((' ', a[x++]));
                y++;
            }
            else if (x < a.Count && (y == b.Count || lcs[x + 1, y] >= lcs[x, y + 1]))
            {
                // Removals before additions, as diff -u prints them.
                edits.Add(('-', a[x++]));
            }
            else
            {
                edits.Add(('+', b[y++]));
            }
        }
        var output = new StringBuilder();
        var lastPrinted = -1;
        for (var k = 0; k < edits.Count; k++)
        {
            if (edits[k].Kind == ' ')
            {
                continue;
            }
            var from = Math.Max(Math.Max(0, k - context), lastPrinted + 1);
            if (from > lastPrinted + 1 && lastPrinted >= 0)
            {
                output.Append("@@\n");
            }
            var to = k;
            // Extend through this change and any change within 2*context lines of it.
            while (to + 1 < edits.Count)
            {
                var next = edits.FindIndex(to + 1, e => e.Kind != ' ');
                if (next >= 0 && next - to <= 2 * context)
                {
                    to = next;
                }
                else
                {
                    break;
                }
            }
            to = Math.Min(edits.Count - 1, to + context);
            for (var m = from; m <= to; m++)
            {
                output.Append(edits[m].Kind).Append(edits[m].Line).Append('\n');
            }
            lastPrinted = to;
            k = to;
        }
        return output.ToString();
    }
}
