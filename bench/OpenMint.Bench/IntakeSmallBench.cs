using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api;
using OpenMint.DevChain;
using OpenMint.Storage;

namespace OpenMint.Bench;

/// <summary>
/// <c>intake --assets 1</c>: single-asset create requests per second through the HTTP API while the minting pipeline runs
/// (Anvil --block-time 2, the three dev presets, kinds interleaved as in the pipeline benchmark), then in the same run the
/// same clients against an endpoint of the same Kestrel host that only drains the body and answers a fixed 202 (the HTTP
/// ceiling). Options: --clients N (64), --seconds S (10 per endpoint), --turns N (5: the two endpoints alternate, S / N seconds
/// each turn; 1 measures the API, then the ceiling, in one block each), --warmup S (before each turn: 1; 2 with --turns 1),
/// --settle S (60: at most that long, both endpoints in turns until the JIT has settled, before the measured phases),
/// --no-pipeline (workers off, no Anvil), --pipeline-seconds S (5: after the phases, the process's CPU while the pipeline
/// works alone on the backlog).
/// </summary>
internal static class IntakeSmallBench
{
    private const string DrainPath = "/bench/drain";

    public static async Task<int> RunAsync(string[] args)
    {
        var clients = BenchArgs.Int(args, "--clients", 64);
        var seconds = BenchArgs.Int(args, "--seconds", 10);
        var pipeline = !args.Contains("--no-pipeline");
        var settle = BenchArgs.Int(args, "--settle", 60);
        var pipelineSeconds = BenchArgs.Int(args, "--pipeline-seconds", 5);
        var turns = Math.Max(1, BenchArgs.Int(args, "--turns", 5));
        var warmup = BenchArgs.Int(args, "--warmup", turns > 1 ? 1 : 2);
        var ct = CancellationToken.None;
        var path = Path.Combine(Path.GetTempPath(), $"openmint-intake1-bench-{Guid.NewGuid():N}.db");
        try
        {
            await using var chain = await DevChain.DevChain.StartAsync(new AnvilOptions { BlockTimeSeconds = 2 }, null, ct);
            var setup = await OpenMintStorage.OpenAsync("sqlite:" + path, ct);
            var (key, collections) = await PipelineBench.TenancyAsync(setup, chain.Deployment, ct);
            await setup.DisposeAsync();
            var settings = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" };
            var app = await OpenMintServer.BuildAsync(new ServerOptions("sqlite:" + path, "http://127.0.0.1:0", settings, RunWorkers: pipeline), ct);
            MapDrain(app, DrainPath);
            await app.StartAsync(ct);
            var baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2 }) { BaseAddress = new Uri(baseUrl) };
            http.DefaultRequestHeaders.Add("x-immutable-api-key", key);
            var urls = PipelineBench.Kinds.Select(k => $"/v1/chains/bench/collections/{collections[k].Address}/nfts/mint-requests").ToArray();

            (string Url, int Length) Api(byte[] body, long n) => (urls[n % 3], WriteBody(body, n));
            (string Url, int Length) Drain(byte[] body, long n) => (DrainPath, WriteBody(body, n));
            var settled = await SettleAsync(http, clients, settle, Api, Drain);
            // A mark to attach a profiler to the measured phases (perf record -p <pid>).
            Console.WriteLine($"  API phase starts (pid {Environment.ProcessId}, {seconds} s measured per endpoint in {turns} turn(s), each after {warmup} s warm-up)");
            var (api, ceiling, pairs) = await MeasureAsync(http, clients, warmup, seconds, turns, settled.Next, Api, Drain);
            var alone = pipeline ? await PipelineAloneAsync(pipelineSeconds) : 0;
            var store = app.Services.GetRequiredService<OpenMintStorage>();
            await using (var c = await store.Database.OpenConnectionAsync(ct))
            {
                var byStatus = (await c.QueryAsync<(string Status, long Count)>("SELECT status, COUNT(*) FROM mint_request GROUP BY status")).ToList();
                Console.WriteLine($"intake --assets 1: {clients} clients, {seconds}s measured per endpoint{(turns > 1 ? $" in {turns} alternating turns, each after {warmup}s warm-up" : $" after {warmup}s warm-up each")}, SQLite WAL synchronous=FULL, pipeline {(pipeline ? "running (Anvil --block-time 2)" : "off")}, {Environment.ProcessorCount} cores, load average {LoadAverage():F1} at the end");
                Console.WriteLine($"  JIT settled    after {settled.Seconds:N0} s of both phases' traffic ({settled.Rate:N0} methods compiled per second in the last turn{(settled.Rate > SettledRate ? $", still above {SettledRate}/s: --settle {settle} ran out" : "")})");
                Console.WriteLine($"  API accepted   {api.Rate,10:N0} requests/s  (p50 {IntakeBench.Percentile(api.Latencies, 0.5):N1} ms, p99 {IntakeBench.Percentile(api.Latencies, 0.99):N1} ms, {api.Failures} non-202; {api.CpuSeconds / api.Seconds:F2} cores busy incl. the clients and the pipeline)");
                Console.WriteLine($"  HTTP ceiling   {ceiling.Rate,10:N0} requests/s  (same clients, same host, an endpoint that drains the body and answers a fixed 202; p50 {IntakeBench.Percentile(ceiling.Latencies, 0.5):N1} ms; {ceiling.CpuSeconds / ceiling.Seconds:F2} cores busy)");
                Console.WriteLine($"  ratio          {api.Rate / ceiling.Rate,10:P0}{(pairs.Count > 1 ? $"  (turn by turn: {string.Join(", ", pairs.Select(r => r.ToString("P0", CultureInfo.InvariantCulture)))})" : "")}");
                if (pipeline)
                {
                    Console.WriteLine($"  pipeline alone {alone,10:F2} cores busy over the next {pipelineSeconds} s, no requests (minting the backlog the phases left)");
                }
                Console.WriteLine($"  requests by status at the end: {string.Join(", ", byStatus.Select(s => $"{s.Status} {s.Count:N0}"))}");
            }
            await app.StopAsync(ct);
            await app.DisposeAsync();
            return api.Failures == 0 ? 0 : 1;
        }
        finally
        {
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(path + suffix);
            }
        }
    }

    /// <summary>
    /// The measured phases: the API and the ceiling, each <paramref name="seconds"/> in all, in <paramref name="turns"/>
    /// alternating turns (API first), each turn after its own <paramref name="warmup"/>. Both endpoints then share whatever
    /// drifts during the run (the pipeline's backlog and Anvil's work grow; other load on the machine comes and goes): the
    /// ceiling measured in one block after the API moved between 21,000 and 42,000/s from run to run on a quiet machine.
    /// Returns both runs merged and each turn's ratio.
    /// </summary>
    private static async Task<(IntakeBench.ClientRun Api, IntakeBench.ClientRun Ceiling, List<double> Ratios)> MeasureAsync(HttpClient http, int clients, int warmup,
        int seconds, int turns, long first, Func<byte[], long, (string Url, int Length)> api, Func<byte[], long, (string Url, int Length)> drain)
    {
        const long Stride = 100_000_000;
        var perTurn = Math.Max(1, seconds / turns);
        var (apiRuns, ceilingRuns) = (new List<IntakeBench.ClientRun>(), new List<IntakeBench.ClientRun>());
        for (var turn = 0; turn < turns; turn++)
        {
            apiRuns.Add(await IntakeBench.RunClientsAsync(http, clients, warmup, perTurn, first + turn * Stride, 1, api));
            ceilingRuns.Add(await IntakeBench.RunClientsAsync(http, clients, warmup, perTurn, 0, 1, drain));
        }
        return (Merge(apiRuns), Merge(ceilingRuns), apiRuns.Zip(ceilingRuns, (a, c) => a.Rate / c.Rate).ToList());
    }

    private static IntakeBench.ClientRun Merge(List<IntakeBench.ClientRun> runs)
    {
        var accepted = runs.Sum(r => r.Accepted);
        var measured = runs.Sum(r => r.Seconds);
        var latencies = runs.SelectMany(r => r.Latencies).ToList();
        latencies.Sort();
        return new IntakeBench.ClientRun(accepted / measured, accepted, runs.Sum(r => r.Failures), latencies, runs.Sum(r => r.CpuSeconds), measured);
    }

    /// <summary>Methods compiled per second below which the JIT counts as settled (tier-1 recompiles of hot methods are done).</summary>
    private const int SettledRate = 20;

    /// <summary>
    /// Both phases' traffic in turns of a second each until the JIT has settled: a fresh process keeps recompiling hot methods at
    /// tier 1 for many seconds (on 2 shared cores the tiering thread still took ~30 % of the process 20 s in), and the API
    /// phase, which runs first, paid for it while the ceiling phase after it did not. At most <paramref name="maxSeconds"/>.
    /// Returns where the measured API phase starts its reference and token ids (past every id the turns used).
    /// </summary>
    private static async Task<(double Seconds, long Rate, long Next)> SettleAsync(HttpClient http, int clients, int maxSeconds,
        Func<byte[], long, (string Url, int Length)> api, Func<byte[], long, (string Url, int Length)> drain)
    {
        const long Stride = 100_000_000;
        var started = Stopwatch.GetTimestamp();
        var next = Stride;
        var rate = long.MaxValue;
        while (rate > SettledRate && Stopwatch.GetElapsedTime(started).TotalSeconds < maxSeconds)
        {
            var before = System.Runtime.JitInfo.GetCompiledMethodCount();
            var turn = Stopwatch.GetTimestamp();
            await IntakeBench.RunClientsAsync(http, clients, 0, 1, next, 1, api);
            next += Stride;
            await IntakeBench.RunClientsAsync(http, clients, 0, 1, 0, 1, drain);
            rate = (long)((System.Runtime.JitInfo.GetCompiledMethodCount() - before) / Stopwatch.GetElapsedTime(turn).TotalSeconds);
        }
        return (Stopwatch.GetElapsedTime(started).TotalSeconds, rate, next);
    }

    /// <summary>The process's CPU while only the pipeline works (no requests): what it costs the phases beside them.</summary>
    private static async Task<double> PipelineAloneAsync(int seconds)
    {
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        return (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    internal static double LoadAverage() => File.Exists("/proc/loadavg")
        ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture)
        : 0;

    /// <summary>The ceiling: an endpoint that drains the body and answers the 202 with the limit fields, no auth, parsing or store.</summary>
    internal static void MapDrain(WebApplication app, string path)
    {
        var answer = """{"imx_mint_requests_limit":"1000000","imx_mint_requests_limit_reset":"2026-11-22T06:00:00Z","imx_remaining_mint_requests":"999999","imx_mint_requests_retry_after":"59.99-seconds"}"""u8.ToArray();
        app.MapPost(path, async (HttpContext http) =>
        {
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
            while (await http.Request.Body.ReadAsync(buffer) > 0)
            {
            }
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            http.Response.StatusCode = 202;
            http.Response.ContentType = "application/json; charset=utf-8";
            http.Response.ContentLength = answer.Length;
            await http.Response.Body.WriteAsync(answer);
        });
    }

    /// <summary>
    /// One asset: kind n mod 3 (by quantity, by id, ERC1155 amount 1) for owner n mod 100, reference and token id from n,
    /// small metadata: what a game sends when a player earns an item.
    /// </summary>
    private static int WriteBody(byte[] buffer, long n)
    {
        var id = (n + 1).ToString(CultureInfo.InvariantCulture);
        var owner = "0x" + (0xb0000000L + n % 100 + 1).ToString("x40", CultureInfo.InvariantCulture);
        var sb = new StringBuilder(256).Append("{\"assets\":[{\"reference_id\":\"small-").Append(id).Append("\",\"owner_address\":\"").Append(owner).Append('"');
        switch (n % 3)
        {
            case 1:
                sb.Append(",\"token_id\":\"").Append(id).Append('"');
                break;
            case 2:
                sb.Append(",\"token_id\":\"").Append(id).Append("\",\"amount\":\"1\"");
                break;
        }
        sb.Append(",\"metadata\":{\"name\":\"Token ").Append(id).Append("\",\"image\":\"https://example.invalid/").Append(id).Append(".png\"}}]}");
        return Encoding.UTF8.GetBytes(sb.ToString(), buffer);
    }
}
