using BenchmarkDotNet.Running;
using OpenMint.Chain.Bench;

// dotnet run --project bench/OpenMint.Chain.Bench -c Release -- --job short --memory --filter '*'
// Compares OpenMint.Chain's primitives with the libraries that could replace them; results in BENCHMARKS.md.
// `-- check` first verifies that each pair produces the same bytes, so the timings compare the same work.
if (args is ["check"])
{
    return SameWork.Check();
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
