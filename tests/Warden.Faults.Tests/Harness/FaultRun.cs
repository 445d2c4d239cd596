using System.Diagnostics;
using System.Globalization;
using System.Text;
using Warden.Client;
using Warden.Protocol;
using EventType = Warden.Faults.Tests.History.EventType;
using Warden.Faults.Tests.Checkers;
using Warden.Faults.Tests.History;
using Warden.Testing;

namespace Warden.Faults.Tests.Harness;

/// <summary>What a fault run does: which servers, how many members, which faults, and where the history goes.</summary>
public sealed record FaultRunOptions
{
    public ServerKind Subject { get; init; } = ServerKind.Warden;
    public int Members { get; init; } = 3;
    public int Seed { get; init; } = 1;
    public int Rounds { get; init; } = 6;
    public IReadOnlyList<FaultKind> Kinds { get; init; } = Fault.DefaultKinds;
    public int MinHoldMs { get; init; } = 1_500;
    public int MaxHoldMs { get; init; } = 4_000;
    public int TickTimeMs { get; init; } = EnsembleProcess.DefaultTickTimeMs;

    /// <summary>The directory the history (JSON lines) and the report are written to.</summary>
    public string OutputDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "warden-faults");

    /// <summary>How long the ensemble may take to have one leader and every other member following after a heal.</summary>
    public TimeSpan RecoveryTimeout { get; init; } = TimeSpan.FromSeconds(90);
}

/// <summary>One round's measurements. Times in milliseconds from the round's start.</summary>
public sealed record RoundReport(Fault Fault, string Target, double StartMs, double HealMs, double QuorumMs, double FirstWriteAfterHealMs, double LongestWithoutWriteMs)
{
    public string Line => string.Create(CultureInfo.InvariantCulture,
        $"{Fault} on {Target}, from {StartMs / 1000:0.0} s of the history: healed at {HealMs:0} ms, quorum at {QuorumMs:0} ms, first write after heal +{FirstWriteAfterHealMs:0} ms, " +
        $"longest window without a successful write {LongestWithoutWriteMs:0} ms");
}

/// <summary>Everything a run found: its rounds, each checker's verdict, and the files it left.</summary>
public sealed record FaultRunReport(
    FaultRunOptions Options, IReadOnlyList<Fault> Schedule, IReadOnlyList<RoundReport> Rounds, IReadOnlyList<CheckResult> Checks,
    string HistoryPath, string ReportPath, string Text)
{
    public bool AllValid => Checks.All(c => c.IsValid);
}

/// <summary>
/// A fault run: an ensemble of real processes (Warden, or Apache ZooKeeper 3.8 as the oracle) whose members
/// talk through <see cref="ProxiedNetwork"/>, four clients on every member (register, set, sequence, lock),
/// and a nemesis that plays the seeded schedule one round at a time: inject a fault, hold it, heal it, wait
/// (bounded) for one leader with every member following and for a successful write. Then every client
/// stops, every member is read after a sync, and the checkers judge the history.
/// </summary>
public sealed class FaultRun
{
    private static readonly TimeSpan ProgressTimeout = TimeSpan.FromSeconds(60);
    private readonly FaultRunOptions options;
    private readonly Action<string> log;

    public FaultRun(FaultRunOptions options, Action<string> log)
    {
        this.options = options;
        this.log = log;
    }

    /// <summary>
    /// Every checker on a history (a run's, or a saved one replayed). Reads are held to linearizability only
    /// with WARDEN_FAULTS_STRICT_READS=1, since ZooKeeper does not promise it (see <see cref="RegisterChecker.Check"/>).
    /// </summary>
    public static IReadOnlyList<CheckResult> CheckAll(IReadOnlyList<HistoryEvent> events)
    {
        var operations = HistoryLog.Pair(events);
        var strictReads = Environment.GetEnvironmentVariable("WARDEN_FAULTS_STRICT_READS") == "1";
        return
        [
            RegisterChecker.Check(operations, includeReads: strictReads),
            SessionOrderChecker.Check(operations),
            SetChecker.Check(operations),
            SequenceChecker.Check(operations),
            LockChecker.Check(operations),
        ];
    }

    public async Task<FaultRunReport> RunAsync()
    {
        Directory.CreateDirectory(options.OutputDirectory);
        var name = string.Create(CultureInfo.InvariantCulture,
            $"{options.Subject.ToString().ToLowerInvariant()}-{options.Members}m-seed{options.Seed}-{DateTime.UtcNow:yyyyMMddTHHmmss}");
        var historyPath = Path.Combine(options.OutputDirectory, name + ".jsonl");
        var reportPath = Path.Combine(options.OutputDirectory, name + ".report.txt");
        var schedule = Schedule.Generate(options.Seed, options.Rounds, options.Members, options.Kinds, options.MinHoldMs, options.MaxHoldMs);
        var text = new StringBuilder();
        // The report grows line by line, so that a long run can be followed (tail -f) and a run that dies explains itself.
        void Say(string line)
        {
            text.Append(line).Append('\n');
            File.AppendAllText(reportPath, line + "\n");
            log(line);
        }

        Say($"fault run: {options.Subject}, {options.Members} members, seed {options.Seed}, {options.Rounds} rounds, tick {options.TickTimeMs} ms");
        Say($"history: {historyPath}; this report: {reportPath}");
        Say("schedule: " + string.Join("; ", schedule.Select(f => $"{f.Round} {Fault.Name(f.Kind)} {f.HoldMs}ms")));

        var rounds = new List<RoundReport>();
        IReadOnlyList<CheckResult> checks;
        using (var history = new HistoryLog(historyPath))
        {
            var ensemble = EnsembleProcess.Create(options.Members, options.Subject, options.TickTimeMs);
            await using var ensembleScope = ensemble;
            await using var network = ProxiedNetwork.Install(ensemble);
            // Disposed first (reverse order): a lazy unmount detaches the tmpfs at once and frees it when the members exit.
            await using var disks = schedule.Any(f => f.IsDiskFull) ? await SmallDisks.MountAsync(ensemble) : null;
            try
            {
                foreach (var member in ensemble.Members)
                {
                    member.Start();
                }
                await ensemble.WaitForQuorumAsync(options.RecoveryTimeout);
                await CreateZnodesAsync(ensemble.ConnectString);

                using var stop = new CancellationTokenSource();
                var workers = new List<Task>();
                var workerSeed = options.Seed * 1000;
                foreach (var member in ensemble.Members)
                {
                    foreach (var kind in Enum.GetValues<WorkloadKind>())
                    {
                        var worker = new ClientWorker(history, member.ConnectString, kind, workerSeed++);
                        workers.Add(Task.Run(() => worker.RunAsync(stop.Token)));
                    }
                }
                try
                {
                    await WaitForWriteAsync(history, history.NowNs, "before the first fault");
                    foreach (var fault in schedule)
                    {
                        var round = await PlayAsync(fault, ensemble, network, history);
                        rounds.Add(round);
                        Say(round.Line);
                        history.Flush();
                    }
                }
                finally
                {
                    await stop.CancelAsync();
                    // Every operation has its own 5 s timeout and closing a session is bounded too.
                    var stopped = Task.WhenAll(workers);
                    if (await Task.WhenAny(stopped, Task.Delay(TimeSpan.FromSeconds(30))) != stopped)
                    {
                        Say("warning: some clients had not stopped 30 s after the end of the schedule");
                    }
                }
                foreach (var failed in workers.Where(w => w.IsFaulted))
                {
                    Say($"client stopped with an error: {failed.Exception!.InnerException}");
                }

                await ensemble.WaitForQuorumAsync(options.RecoveryTimeout);
                foreach (var member in ensemble.Members)
                {
                    await FinalReadAsync(member, history);
                }
                history.Flush();
            }
            finally
            {
                // Every member's output beside the history, whether the run finished or not: the servers' side of
                // whatever the checkers (or a timeout) found.
                foreach (var member in ensemble.Members)
                {
                    await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, $"{name}.server{member.Id}.log"), member.CapturedOutput);
                }
            }
            checks = CheckAll(history.Events);
            var summary = Availability(rounds);
            Say(summary);
        }
        foreach (var check in checks)
        {
            Say(check.Line);
        }
        Say($"history kept in {historyPath} (replay: WARDEN_FAULTS_REPLAY={historyPath})");
        await File.AppendAllTextAsync(reportPath, "details:\n" + string.Join("\n", checks.Select(c => c.ToString())) + "\n");
        return new FaultRunReport(options, schedule, rounds, checks, historyPath, reportPath, text.ToString());
    }

    private static string Availability(IReadOnlyList<RoundReport> rounds)
    {
        if (rounds.Count == 0)
        {
            return "availability: no rounds";
        }
        var byKind = rounds.GroupBy(r => Fault.Name(r.Fault.Kind)).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => string.Create(CultureInfo.InvariantCulture,
                $"{g.Key} x{g.Count()} median {Median(g.Select(r => r.LongestWithoutWriteMs)):0} max {g.Max(r => r.LongestWithoutWriteMs):0}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"availability (longest window without a successful write per round, ms): median {Median(rounds.Select(r => r.LongestWithoutWriteMs)):0}, " +
            $"max {rounds.Max(r => r.LongestWithoutWriteMs):0}; ") + string.Join("; ", byKind);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[sorted.Count / 2];
    }

    private async Task<RoundReport> PlayAsync(Fault fault, EnsembleProcess ensemble, ProxiedNetwork network, HistoryLog history)
    {
        var leader = await ensemble.WaitForQuorumAsync(options.RecoveryTimeout);
        var startNs = history.NowNs;
        var random = new Random(fault.Pick);
        var followers = ensemble.Members.Where(m => m != leader).ToList();
        var follower = followers[fault.Pick % followers.Count];
        var ids = ensemble.Members.Select(m => m.Id).ToList();
        var killed = new List<EnsembleMember>();
        EnsembleMember? paused = null;
        EnsembleMember? filled = null;
        string target;
        switch (fault.Kind)
        {
            case FaultKind.KillLeader:
            case FaultKind.KillFollower:
            {
                var victim = fault.Kind == FaultKind.KillLeader ? leader : follower;
                victim.Kill();
                killed.Add(victim);
                target = $"server.{victim.Id}";
                break;
            }
            case FaultKind.KillAll:
                foreach (var member in ensemble.Members)
                {
                    member.Kill();
                    killed.Add(member);
                }
                target = "every member";
                break;
            case FaultKind.PauseLeader:
            case FaultKind.PauseFollower:
                paused = fault.Kind == FaultKind.PauseLeader ? leader : follower;
                paused.Pause();
                target = $"server.{paused.Id}";
                break;
            case FaultKind.PartitionLeader:
            case FaultKind.PartitionFollower:
            {
                var alone = fault.Kind == FaultKind.PartitionLeader ? leader : follower;
                network.Apply(ProxiedNetwork.Isolate([alone.Id], ids));
                target = $"server.{alone.Id} | rest";
                break;
            }
            case FaultKind.PartitionRandom:
            {
                var shuffled = ids.OrderBy(_ => random.Next()).ToList();
                var minority = shuffled.Take(1 + random.Next((ids.Count - 1) / 2)).ToList();
                network.Apply(ProxiedNetwork.Isolate(minority, ids));
                target = $"{string.Join(",", minority.Order())} | {string.Join(",", ids.Except(minority).Order())}";
                break;
            }
            case FaultKind.OneWayLeaderMute:
                network.Apply(ids.Where(i => i != leader.Id).Select(i => (leader.Id, i)));
                target = $"server.{leader.Id} -/-> rest";
                break;
            case FaultKind.OneWayLeaderDeaf:
                network.Apply(ids.Where(i => i != leader.Id).Select(i => (i, leader.Id)));
                target = $"rest -/-> server.{leader.Id}";
                break;
            case FaultKind.DiskFullLeader:
            case FaultKind.DiskFullFollower:
            {
                filled = fault.Kind == FaultKind.DiskFullLeader ? leader : follower;
                var bytes = SmallDisks.Fill(filled);
                target = string.Create(CultureInfo.InvariantCulture, $"server.{filled.Id} ({bytes / (1024 * 1024)} MiB written to fill it)");
                break;
            }
            case FaultKind.Bridge:
            {
                var shuffled = ids.OrderBy(_ => random.Next()).ToList();
                var left = shuffled.Take(2).ToList();
                var right = shuffled.Skip(3).ToList();
                network.Apply(left.SelectMany(a => right.SelectMany(b => new[] { (a, b), (b, a) })));
                target = $"{string.Join(",", left)} | bridge {shuffled[2]} | {string.Join(",", right)}";
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault.Kind, null);
        }

        // The nemesis is in the history too (process -1, ignored by the checkers), as Jepsen records it.
        var nemesisOp = history.Invoke(-1, "nemesis", $"{fault} on {target}");

        // Holding the fault for its drawn time is the fault itself, not a wait for some event.
        await Task.Delay(fault.HoldMs);

        var healNs = history.NowNs;
        history.Complete(nemesisOp, -1, EventType.Ok, "nemesis", "healed");
        network.Heal();
        paused?.Resume();
        foreach (var member in killed)
        {
            member.Start();
        }
        if (filled is not null)
        {
            SmallDisks.Empty(filled);
            if (!filled.IsRunning)
            {
                // A server may stop when its log cannot be written; that is allowed, losing acknowledged writes is not.
                target += " (it stopped; restarted)";
                filled.Start();
            }
        }
        await ensemble.WaitForQuorumAsync(options.RecoveryTimeout);
        var quorumNs = history.NowNs;
        await WaitForWriteAsync(history, healNs, $"after healing {fault}");
        var endNs = history.NowNs;
        var firstWriteNs = history.Events
            .Where(e => e.Type == EventType.Ok && HistoryLog.WriteFunctions.Contains(e.Function) && e.TimeNs > healNs)
            .Min(e => e.TimeNs);
        return new RoundReport(fault, target, Ms(startNs), Ms(healNs - startNs), Ms(quorumNs - startNs), Ms(firstWriteNs - healNs),
            LongestWithoutWrite(history, startNs, endNs));
    }

    private static double Ms(long ns) => ns / 1_000_000.0;

    /// <summary>The longest stretch of [start, end] in which no write-type operation completed ok.</summary>
    private static double LongestWithoutWrite(HistoryLog history, long startNs, long endNs)
    {
        var oks = history.Events
            .Where(e => e.Type == EventType.Ok && HistoryLog.WriteFunctions.Contains(e.Function) && e.TimeNs >= startNs && e.TimeNs <= endNs)
            .Select(e => e.TimeNs).Order().ToList();
        var longest = 0L;
        var previous = startNs;
        foreach (var time in oks.Append(endNs))
        {
            longest = Math.Max(longest, time - previous);
            previous = time;
        }
        return Ms(longest);
    }

    /// <summary>Polls (every 20 ms, bounded) until some write completes ok after <paramref name="sinceNs"/>.</summary>
    private static async Task WaitForWriteAsync(HistoryLog history, long sinceNs, string when)
    {
        var stopwatch = Stopwatch.StartNew();
        while (history.LastWriteOkNs <= sinceNs)
        {
            if (stopwatch.Elapsed > ProgressTimeout)
            {
                throw new TimeoutException($"no write succeeded within {ProgressTimeout.TotalSeconds:0} s {when}");
            }
            await Task.Delay(20);
        }
    }

    private static async Task CreateZnodesAsync(string connectString)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var client = await ZooKeeperClient.ConnectAsync(
            new ZooKeeperClientOptions { ConnectString = connectString, SessionTimeout = TimeSpan.FromSeconds(10) }, cancellationToken: timeout.Token);
        foreach (var path in new[] { Paths.Root, Paths.Registers, Paths.Set, Paths.Sequence, Paths.Lock, Paths.Fenced })
        {
            await client.CreateAsync(path, [], CreateMode.Persistent, cancellationToken: timeout.Token);
        }
        foreach (var key in Paths.RegisterKeys)
        {
            await client.CreateAsync(Paths.Register(key), Paths.Encode(0), CreateMode.Persistent, cancellationToken: timeout.Token);
        }
    }

    /// <summary>
    /// After the faults: one session on <paramref name="member"/> alone, a sync, then every register, the
    /// set, the sequence listing and the fenced log, each recorded as an operation of the history so that
    /// the checkers judge every member's copy.
    /// </summary>
    private static async Task FinalReadAsync(EnsembleMember member, HistoryLog history)
    {
        var process = 1_000_000 + member.Id;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var client = await ZooKeeperClient.ConnectAsync(
            new ZooKeeperClientOptions { ConnectString = member.ConnectString, SessionTimeout = TimeSpan.FromSeconds(10) }, cancellationToken: timeout.Token);
        await client.SyncAsync(Paths.Root, timeout.Token);
        foreach (var key in Paths.RegisterKeys)
        {
            var op = history.Invoke(process, "read", key);
            var node = await client.GetDataAsync(Paths.Register(key), timeout.Token);
            history.Complete(op, process, EventType.Ok, "read", key, Paths.Decode(node.Data), node.Stat.Version);
        }

        var setOp = history.Invoke(process, "read-all");
        var elements = await client.GetChildrenAsync(Paths.Set, timeout.Token);
        history.Complete(setOp, process, EventType.Ok, "read-all",
            values: elements.Children.Select(c => long.Parse(c["e-".Length..], CultureInfo.InvariantCulture)).Order().ToList());

        var seqOp = history.Invoke(process, "read-seq");
        var sequence = await client.GetChildrenAsync(Paths.Sequence, timeout.Token);
        history.Complete(seqOp, process, EventType.Ok, "read-seq", values: sequence.Children.Select(Paths.SequenceOf).Order().ToList());

        var fencedOp = history.Invoke(process, "read-fenced");
        var entries = (await client.GetChildrenAsync(Paths.Fenced, timeout.Token)).Children.OrderBy(Paths.SequenceOf).ToList();
        var tokens = new List<long>(entries.Count);
        foreach (var batch in entries.Chunk(200))
        {
            var results = await client.MultiReadAsync(batch.Select(e => Op.GetData($"{Paths.Fenced}/{e}")), timeout.Token);
            foreach (var result in results)
            {
                tokens.Add(result is OpResult.GetData data
                    ? Paths.Decode(data.Data)
                    : throw new InvalidOperationException($"reading the fenced log on server.{member.Id} failed: {result}"));
            }
        }
        history.Complete(fencedOp, process, EventType.Ok, "read-fenced", values: tokens);
    }
}
