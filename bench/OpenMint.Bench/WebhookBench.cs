using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenMint.Core;
using OpenMint.Core.Events;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;
using OpenMint.Core.Webhooks;
using OpenMint.Storage;

namespace OpenMint.Bench;

/// <summary>
/// N mint requests (default 10,000) accepted on a fresh SQLite store with one fast local receiver; reports the delivery
/// latency from each creation event's commit to the receiver's answer (p50/p99) and deliveries per second; then the
/// same with a second endpoint answering 500 throughout; each first with intake going as fast as it can (throughput), then
/// paced at --rate events/s (latency at a load the sender keeps up with). Options: --mints N, --batch B (assets per intake
/// call, default 100), --rate R (default 1,000). The back-to-back cases also warm the code up (JIT tiers) for the paced ones.
/// </summary>
internal static class WebhookBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var mints = BenchArgs.Int(args, "--mints", 10_000);
        var batch = BenchArgs.Int(args, "--batch", 100);
        var rate = BenchArgs.Int(args, "--rate", 1_000);
        var alone = await RunOnceAsync(mints, batch, withFailing: false, rate: null);
        var beside = await RunOnceAsync(mints, batch, withFailing: true, rate: null);
        Console.WriteLine($"as fast as intake goes, fast endpoint alone:          {alone}");
        Console.WriteLine($"as fast as intake goes, beside an endpoint that 500s: {beside}");
        var pacedAlone = await RunOnceAsync(mints, batch, withFailing: false, rate);
        Console.WriteLine($"paced at {rate}/s, fast endpoint alone:                {pacedAlone}");
        var pacedBeside = await RunOnceAsync(mints, batch, withFailing: true, rate);
        Console.WriteLine($"paced at {rate}/s, beside an endpoint that 500s:       {pacedBeside}");
        Console.WriteLine(FormattableString.Invariant(
            $"beside a failing endpoint the fast one keeps {100 * pacedBeside.PerSecond / pacedAlone.PerSecond:0} % of its rate alone (target >= 90 %)"));
        return 0;
    }

    private sealed record Result(double P50Ms, double P99Ms, double PerSecond, int Delivered, int? FailingAttempts)
    {
        public override string ToString() => FormattableString.Invariant(
            $"{Delivered} delivered, latency p50 {P50Ms:0.0} ms, p99 {P99Ms:0.0} ms, {PerSecond:0} deliveries/s{(FailingAttempts is { } n ? $"; the failing endpoint got {n} attempts" : "")}");
    }

    /// <param name="rate">Events offered per second (intake calls of <paramref name="batch"/> spaced evenly); null: back to back.</param>
    private static async Task<Result> RunOnceAsync(int mints, int batch, bool withFailing, int? rate)
    {
        var ct = CancellationToken.None;
        var db = "sqlite:" + Path.Combine(Path.GetTempPath(), $"openmint-webhook-bench-{Guid.NewGuid():N}.db");
        await using var store = await OpenMintStorage.OpenAsync(db, ct);
        var chain = new ChainConfig("bench", 31337, ["http://127.0.0.1:1"], null, 0, DateTimeOffset.UtcNow);
        await store.Tenancy.UpsertChainAsync(chain, ct);
        var project = new Project(UuidV7.New().ToString(), "bench", "0x" + new string('a', 40), int.MaxValue, 5, 30_000, 1000, DateTimeOffset.UtcNow);
        await store.Tenancy.CreateProjectAsync(project, ct);
        var collection = await store.Tenancy.AddCollectionAsync(new Collection(0, chain.Name, "0x" + new string('b', 40), project.Id, CollectionKind.Erc721,
            PresetVariant.Erc721V2, null, true, DateTimeOffset.UtcNow), ct);

        var arrivals = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        await using var fast = await ReceiverAsync(200, arrivals);
        var failingAttempts = new StrongBox<int>();
        await using var failing = await ReceiverAsync(500, null, failingAttempts);
        var time = TimeProvider.System;
        await WebhookRegistration.AddAsync(store.Webhooks, store.Tenancy, project.Id, Url(fast), [], time, ct);
        if (withFailing)
        {
            await WebhookRegistration.AddAsync(store.Webhooks, store.Tenancy, project.Id, Url(failing), [], time, ct);
        }
        // Default intervals (poll 100 ms): the in-process signal, raised after each intake commit as the host does, wakes the worker.
        var options = new WebhookOptions { AllowLoopback = true };
        var signal = new MintEventSignal();
        using var worker = new WebhookWorker(store.Events, store.Webhooks, options, time, NullLogger<WebhookWorker>.Instance, signal);
        await worker.StartAsync(ct);
        await Task.Delay(1500, ct); // endpoints loaded

        var committedAt = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < mints; i += batch)
        {
            if (rate is { } r && Stopwatch.GetElapsedTime(started) is var spent && TimeSpan.FromSeconds((double)i / r) - spent is { Ticks: > 0 } ahead)
            {
                await Task.Delay(ahead, ct);
            }
            var assets = Enumerable.Range(i, Math.Min(batch, mints - i)).Select(n => new MintAsset("r" + n, "0x00000000000000000000000000000000000000bb", null, null, null)).ToList();
            await store.Minting.AcceptMintRequestsAsync(new MintIntake(collection, chain, assets, int.MaxValue, assets.Count), ct);
            // The intake call has returned: its events are committed.
            var committed = Stopwatch.GetTimestamp();
            signal.Notify();
            foreach (var a in assets)
            {
                committedAt[a.ReferenceId] = committed;
            }
        }
        while (arrivals.Count < mints && Stopwatch.GetElapsedTime(started) < TimeSpan.FromMinutes(5))
        {
            await Task.Delay(20, ct);
        }
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await worker.StopAsync(ct);
        var latencies = arrivals.Select(a => Math.Max(0, Stopwatch.GetElapsedTime(committedAt.GetValueOrDefault(a.Key, a.Value), a.Value).TotalMilliseconds)).Order().ToList();
        return new Result(Percentile(latencies, 0.50), Percentile(latencies, 0.99), arrivals.Count / elapsed, arrivals.Count,
            withFailing ? Volatile.Read(ref failingAttempts.Value) : null);
    }

    private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

    private static string Url(WebApplication app) => app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hook";

    /// <summary>A receiver answering <paramref name="status"/>; records each reference id's first arrival (Stopwatch ticks) and counts requests.</summary>
    private static async Task<WebApplication> ReceiverAsync(int status, ConcurrentDictionary<string, long>? arrivals, StrongBox<int>? requests = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/hook", async (HttpContext ctx) =>
        {
            if (requests is not null)
            {
                Interlocked.Increment(ref requests.Value);
            }
            using var reader = new StreamReader(ctx.Request.Body);
            var body = await reader.ReadToEndAsync(ctx.RequestAborted);
            if (arrivals is not null)
            {
                var at = body.IndexOf("\"reference_id\":\"", StringComparison.Ordinal) + 16;
                arrivals.TryAdd(body[at..body.IndexOf('"', at)], Stopwatch.GetTimestamp());
            }
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        return app;
    }
}
