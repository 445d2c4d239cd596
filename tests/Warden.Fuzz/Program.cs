using System.Diagnostics;
using Warden.Fuzz;

// warden-fuzz: the decoders' fuzz targets (README.md in this folder says how to run each mode).
string corpus = Path.Combine(AppContext.BaseDirectory, "corpus");
string Option(string name, string fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}
IEnumerable<FuzzTarget> Chosen(string name) => name == "all" ? Targets.All : [Targets.Named(name)];

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("""
        usage: warden-fuzz list
               warden-fuzz run <target|all> [--inputs N] [--seed S]     deterministic, one thread
               warden-fuzz sample <target|all> [--inputs N] [--replay SEED]   CsCheck on every core, shrinks failures
               warden-fuzz afl <target>                                  under afl-fuzz (SharpFuzz, instrumented build)
               warden-fuzz corpus <dir>                                  writes every target's seeds as files
        """);
    return 2;
}
try
{
    switch (args[0])
    {
        case "list":
            foreach (var target in Targets.All) Console.WriteLine(target.Name);
            return 0;
        case "run":
            foreach (var target in Chosen(args[1]))
            {
                var clock = Stopwatch.StartNew();
                long done = Runner.RunDeterministic(target, long.Parse(Option("--inputs", "100000")), ulong.Parse(Option("--seed", "1")), corpus);
                Console.WriteLine($"{target.Name}: {done:N0} inputs, no failure, {clock.Elapsed.TotalSeconds:0.0} s ({done / Math.Max(0.001, clock.Elapsed.TotalSeconds):N0}/s)");
            }
            return 0;
        case "sample":
            foreach (var target in Chosen(args[1]))
            {
                var clock = Stopwatch.StartNew();
                long inputs = long.Parse(Option("--inputs", "1000000"));
                Runner.RunSampled(target, inputs, args.Contains("--replay") ? Option("--replay", "") : null, corpus);
                Console.WriteLine($"{target.Name}: {inputs:N0} inputs, no failure, {clock.Elapsed.TotalSeconds:0.0} s");
            }
            return 0;
        case "afl":
        {
            var target = Targets.Named(args[1]);
            SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
            {
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                Runner.Check(target, copy.ToArray());
            });
            return 0;
        }
        case "corpus":
            foreach (var target in Targets.All)
            {
                var folder = Directory.CreateDirectory(Path.Combine(args[1], target.Name));
                var seeds = target.Seeds();
                for (int i = 0; i < seeds.Count; i++) File.WriteAllBytes(Path.Combine(folder.FullName, $"seed-{i:D2}.bin"), seeds[i]);
            }
            return 0;
        default:
            Console.Error.WriteLine($"unknown mode '{args[0]}'; try warden-fuzz --help");
            return 2;
    }
}
catch (FuzzFailure failure)
{
    Console.Error.WriteLine($"FAILED {failure.Message}");
    if (failure.InnerException is { } inner) Console.Error.WriteLine(inner);
    return 1;
}
