using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api;
using OpenMint.Chain;
using OpenMint.DevChain;
using OpenMint.Storage;

namespace OpenMint.Bench;

/// <summary>
/// Fair refreshes: project A refreshes N tokens (default 30,000, as refreshes of 1,000) from a slow origin (a demo
/// metadata server taking --delay-ms, default 50, per request and serving at most --server-concurrency, default 32, at
/// once: capacity C / delay), while project B refreshes --small-tokens (default 10) from a fast origin (no delay). B is
/// timed alone (--small-runs times, default 5, after one unmeasured warm-up run), then the same number of times beside A once A has done a tenth of its
/// tokens. Reports B alone vs beside A (target: within 1 s) and A's throughput against its origin's capacity (target
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

        var dbPath = Path.Combine(Path.GetTempPath(), $"openmint-fairness-bench-{Guid.NewGuid():N}.db");
        var app = await OpenMintServer.BuildAsync(new ServerOptions("sqlite:" + dbPath, "http://127.0.0.1:0", new Dictionary<string, string?>
        {
            ["Refresh:AllowLoopback"] = "true",
            ["Refresh:MaxConcurrencyPerOrigin"] = perOrigin.ToString(CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
        }), ct);
        await app.StartAsync(ct);
        try
        {
            var store = app.Services.GetRequiredService<OpenMintStorage>();
            using var http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
            var (ownerA, ownerB) = (EthKey.Random(), EthKey.Random());
            var (big, bigIds) = await RefreshBench.SeedAsync(store, ownerA.Address, slow.BaseUri, tokens, ct, "bench-a", "0x00000000000000000000000000000000000be9ca");
            var (small, smallIds) = await RefreshBench.SeedAsync(store, ownerB.Address, fast.BaseUri, smallTokens, ct, "bench-b", "0x00000000000000000000000000000000000be9cb");
            var client = new Client(http, ct);

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
            while (slow.Served < tokens / 10)
            {
                await Task.Delay(50, ct);
            }
            var (servedBefore, windowStart) = (slow.Served, clock.Elapsed);
            var beside = new List<double>();
            for (var i = 0; i < smallRuns; i++)
            {
                beside.Add(await client.TimeRefreshAsync(ownerB, small.Address, smallIds));
                await Task.Delay(200, ct);
            }
            var windowRate = (slow.Served - servedBefore) / (clock.Elapsed - windowStart).TotalSeconds;
            var aDoneDuringB = slow.Served >= tokens;
            Console.WriteLine($"B beside A ({smallRuns} runs, A at {servedBefore}..{slow.Served} of {tokens} fetched): {Describe(beside)}");
            Console.WriteLine($"A's origin while B ran: {windowRate:0} requests/s = {windowRate / capacity:P0} of capacity{(aDoneDuringB ? " (A finished during the B runs: use more --tokens)" : "")}");

            var (succeeded, failed) = await client.WaitAllAsync(ownerA, bigRefreshes);
            var elapsed = clock.Elapsed.TotalSeconds;
            var rate = tokens / elapsed;
            Console.WriteLine($"A: {tokens} tokens in {elapsed:0.00} s (first POST to last completed): {rate:0} tokens/s = {rate / capacity:P0} of the origin's capacity, {rate / measured:P0} of the load generator's; succeeded {succeeded}, failed {failed}");
            var penalty = Median(beside) - Median(alone);
            Console.WriteLine($"targets: B beside A within 1 s of alone (median +{penalty:0.000} s, worst {beside.Max():0.000} s vs {alone.Max():0.000} s): {(penalty <= 1.0 ? "met" : "missed")}; "
                + $"A >= 80 % of capacity: {(rate / capacity >= 0.8 ? "met" : "missed")} over the run, {(windowRate / capacity >= 0.8 ? "met" : "missed")} while B ran");
            return succeeded == tokens ? 0 : 1;
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(dbPath + suffix);
            }
        }
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string Describe(List<double> seconds) =>
        $"median {Median(seconds):0.000} s, min {seconds.Min():0.000} s, max {seconds.Max():0.000} s ({string.Join(", ", seconds.Select(s => s.ToString("0.000", CultureInfo.InvariantCulture)))})";

    /// <summary>The refresh API as the benchmark's clients use it: signed POSTs and status polls.</summary>
    private sealed class Client(HttpClient http, CancellationToken ct)
    {
        public async Task<string> PostAsync(EthKey owner, string collectionAddress, IEnumerable<string> ids)
        {
            using var request = RefreshBench.Signed(owner, HttpMethod.Post, "/v1/metadata-refreshes");
            request.Content = JsonContent.Create(new { collection_address = collectionAddress, token_ids = ids.ToArray() });
            using var response = await http.SendAsync(request, ct);
            if ((int)response.StatusCode != 202)
            {
                throw new InvalidOperationException($"POST answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
            }
            return (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("refresh_id").GetString()!;
        }

        /// <summary>Seconds from the POST to the first status poll (every 10 ms) that answers completed.</summary>
        public async Task<double> TimeRefreshAsync(EthKey owner, string collectionAddress, IEnumerable<string> ids)
        {
            var clock = Stopwatch.StartNew();
            var id = await PostAsync(owner, collectionAddress, ids);
            while ((await StatusAsync(owner, id)).GetProperty("status").GetString() != "completed")
            {
                await Task.Delay(10, ct);
            }
            return clock.Elapsed.TotalSeconds;
        }

        public async Task<(int Succeeded, int Failed)> WaitAllAsync(EthKey owner, List<string> ids)
        {
            int succeeded = 0, failed = 0;
            foreach (var id in ids)
            {
                JsonElement status;
                while ((status = await StatusAsync(owner, id)).GetProperty("status").GetString() != "completed")
                {
                    await Task.Delay(50, ct);
                }
                succeeded += status.GetProperty("summary").GetProperty("succeeded").GetInt32();
                failed += status.GetProperty("summary").GetProperty("failed").GetInt32();
            }
            return (succeeded, failed);
        }

        private async Task<JsonElement> StatusAsync(EthKey owner, string id)
        {
            using var request = RefreshBench.Signed(owner, HttpMethod.Get, $"/v1/metadata-refreshes/{id}");
            using var response = await http.SendAsync(request, ct);
            return await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        }
    }
}
