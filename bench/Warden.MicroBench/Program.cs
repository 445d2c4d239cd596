using BenchmarkDotNet.Running;

// warden-microbench: BenchmarkDotNet micro-benchmarks of the jute codec, the data tree, the txn log writer and
// Adler32. Run all with `dotnet run -c Release --project bench/Warden.MicroBench -- --filter '*'`, or pick
// with a filter such as '*Adler32*'. Nothing in CI runs them; CI only builds them.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
