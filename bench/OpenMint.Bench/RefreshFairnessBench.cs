using System.Diagnostics;
using System.Globalization;
using OpenMint.Chain;
using OpenMint.DevChain;

namespace OpenMint.Bench;

/// <summary>
/// Fair refreshes: project A refreshes N tokens (default 30,000, as refreshes of 1,000) from a slow origin (a demo
/// metadata server taking --delay-ms, default 50, per request and serving at most --server-concurrency, default 32, at
/// once: capacity C / delay), while project B refreshes --small-tokens (default 10) from a fast origin (no delay). B is
/// timed alone (--small-runs times, default 5, after one unmeasured warm-up run), then the same number of times beside A once A has done a tenth of its
/// tokens. Reports B alone vs beside A (target: every run beside A within 1 s of the median alone) and A's throughput against its origin's capacity (target
/// at least 80 %), both over the whole run and while B ran. Other options: --tokens N, --per-origin P
/// (Refresh:MaxConcurrencyPerOrigin, default 64).
/// </summary>
internal static class RefreshFairnessBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var tokens = BenchArgs.Int(args, "--tokens", 30_000);
        var delayMs = BenchArgs.Int(args, "--delay-ms", 50);
        var serverConcurrency = BenchArgs.Int(args, "--server-concurrency", 32);
        var smallTokens = BenchArgs.Int(args, "--small-tokens", 10);
        var smallRuns = BenchArgs.Int(args, "--small-runs", 5);
        var perOrigin = BenchArgs.Int(args, "--per-origin", 64);
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        var ct = stop.Token;

        await using var slow = await DemoMetadataServer.StartAsync(new DemoMetadataOptions(0, TimeSpan.FromMilliseconds(delayMs), serverConcurrency), ct);
        await using var fast = await DemoMetadataServer.StartAsync(new DemoMetadataOptions(), ct);
        var capacity = serverConcurrency * 1000.0 / delayMs;
        Console.WriteLine($"slow origin {slow.BaseUri}: {delayMs} ms per request, {serverConcurrency} at once, capacity {capacity:0} requests/s; fast origin {fast.BaseUri}");
        var measured = await RefreshBench.MeasureCapacityAsync(slow.BaseUri, serverConcurrency * 2, TimeSpan.FromSeconds(3), tokens, ct);
        Console.WriteLine($"slow origin measured by a load generator ({serverConcurrency * 2} connections, 3 s): {measured:0} requests/s");

        var loadServed = slow.Served; // the load generator's requests, not A's
        long Fetched() => slow.Served - loadServed;
        await using var host = await RefreshBenchHost.StartAsync("fairness-bench", perOrigin, ct);
        var (ownerA, ownerB) = (EthKey.Random(), EthKey.Random());
        var (big, bigIds) = await RefreshBench.SeedAsync(host.Store, ownerA.Address, slow.BaseUri, tokens, ct, "bench-a", "0x00000000000000000000000000000000000be9ca");
        var (small, smallIds) = await RefreshBench.SeedAsync(host.Store, ownerB.Address, fast.BaseUri, smallTokens, ct, "bench-b", "0x00000000000000000000000000000000000be9cb");
        var client = new RefreshApiClient(host.Http, ct);

        // One unmeasured run first: JIT, the first connections, the first signature checks.
        await client.TimeRefreshAsync(ownerB, small.Address, smallIds);
        var alone = new List<double>();
        for (var i = 0; i < smallRuns; i++)
        {
            alone.Add(await client.TimeRefreshAsync(ownerB, small.Address, smallIds));
        }
        Console.WriteLine($"B alone ({smallTokens} tokens, {smallRuns} runs): {Describe(alone)}");

        var clock = Stopwatch.StartNew();
        var bigRefreshes = new List<string>();
        foreach (var chunk in bigIds.Chunk(1000))
        {
            bigRefreshes.Add(await client.PostAsync(ownerA, big.Address, chunk));
        }
        while (Fetched() < tokens / 10)
        {
            await Task.Delay(50, ct);
        }
        var (servedBefore, windowStart) = (Fetched(), clock.Elapsed);
        var beside = new List<double>();
        for (var i = 0; i < smallRuns; i++)
        {
            beside.Add(await client.TimeRefreshAsync(ownerB, small.Address, smallIds));
            await Task.Delay(200, ct);
        }
        var (servedAfter, window) = (Fetched(), clock.Elapsed - windowStart);
        var windowRate = (servedAfter - servedBefore) / window.TotalSeconds;
        Console.WriteLine($"B beside A ({smallRuns} runs, A at {servedBefore}..{servedAfter} of {tokens} fetched): {Describe(beside)}");
        Console.WriteLine($"A's origin while B ran: {windowRate:0} requests/s = {windowRate / capacity:P0} of capacity{(servedAfter >= tokens ? " (A finished during the B runs: use more --tokens)" : "")}");

        var (succeeded, failed) = await client.WaitAllAsync(ownerA, bigRefreshes);
        var elapsed = clock.Elapsed.TotalSeconds;
        var rate = tokens / elapsed;
        Console.WriteLine($"A: {tokens} tokens in {elapsed:0.00} s (first POST to last completed): {rate:0} tokens/s = {rate / capacity:P0} of the origin's capacity, {rate / measured:P0} of the load generator's; succeeded {succeeded}, failed {failed}");
        // Every run beside A counts: the worst against the median alone.
        var penalty = beside.Max() - Median(alone);
        Console.WriteLine($"targets: B beside A within 1 s of alone (worst beside {beside.Max():0.000} s vs median alone {Median(alone):0.000} s: +{penalty:0.000} s): {(penalty <= 1.0 ? "met" : "missed")}; "
            + $"A >= 80 % of capacity: {(rate / capacity >= 0.8 ? "met" : "missed")} over the run, {(windowRate / capacity >= 0.8 ? "met" : "missed")} while B ran");
        return succeeded == tokens ? 0 : 1;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string Describe(List<double> seconds) =>
        $"median {Median(seconds):0.000} s, min {seconds.Min():0.000} s, max {seconds.Max():0.000} s ({string.Join(", ", seconds.Select(s => s.ToString("0.000", CultureInfo.InvariantCulture)))})";
}
