using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api;
using OpenMint.Chain;
using OpenMint.Core;
using OpenMint.Core.Tenancy;
using OpenMint.DevChain;
using OpenMint.Storage;

namespace OpenMint.Bench;

/// <summary>
/// Refreshes N tokens (default 30,000, as 30 refreshes of 1,000) from a local metadata server and reports
/// tokens/s next to that server's own capacity, measured in the same run by a closed-loop load generator.
/// Options: --tokens N, --delay-ms D (server work per request, default 10), --server-concurrency C
/// (requests the server serves at once, default 32; 0 = unbounded), --load-concurrency L (default 256),
/// --load-seconds S (default 5), --per-origin P (Refresh:MaxConcurrencyPerOrigin, default 64).
/// </summary>
internal static class RefreshBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var tokens = BenchArgs.Int(args, "--tokens", 30_000);
        var delayMs = BenchArgs.Int(args, "--delay-ms", 10);
        var serverConcurrency = BenchArgs.Int(args, "--server-concurrency", 32);
        var loadConcurrency = BenchArgs.Int(args, "--load-concurrency", 256);
        var loadSeconds = BenchArgs.Int(args, "--load-seconds", 5);
        var perOrigin = BenchArgs.Int(args, "--per-origin", 64);
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var ct = stop.Token;

        await using var metadata = await DemoMetadataServer.StartAsync(
            new DemoMetadataOptions(0, delayMs > 0 ? TimeSpan.FromMilliseconds(delayMs) : null, serverConcurrency > 0 ? serverConcurrency : null), ct);
        Console.WriteLine($"metadata server {metadata.BaseUri} (work {delayMs} ms/request, serves {(serverConcurrency > 0 ? serverConcurrency.ToString(CultureInfo.InvariantCulture) : "unbounded")} at once)");

        var capacity = await MeasureCapacityAsync(metadata.BaseUri, loadConcurrency, TimeSpan.FromSeconds(loadSeconds), tokens, ct);
        Console.WriteLine($"server capacity (load generator, {loadConcurrency} connections, {loadSeconds} s): {capacity:0} requests/s");

        await using var host = await RefreshBenchHost.StartAsync("refresh-bench", perOrigin, ct);
        var owner = EthKey.Random();
        var (collection, ids) = await SeedAsync(host.Store, owner.Address, metadata.BaseUri, tokens, ct);
        var client = new RefreshApiClient(host.Http, ct);
        var servedBefore = metadata.Served;
        var clock = Stopwatch.StartNew();
        var refreshIds = new List<string>();
        foreach (var chunk in ids.Chunk(1000))
        {
            refreshIds.Add(await client.PostAsync(owner, collection.Address, chunk));
        }
        var submitted = clock.Elapsed;
        var (succeeded, failed) = await client.WaitAllAsync(owner, refreshIds);
        var elapsed = clock.Elapsed;
        var rate = tokens / elapsed.TotalSeconds;
        Console.WriteLine($"refresh: {tokens} tokens in {elapsed.TotalSeconds:0.00} s (submitted in {submitted.TotalSeconds:0.00} s): {rate:0} tokens/s; succeeded {succeeded}, failed {failed}; server saw {metadata.Served - servedBefore} requests");
        // Measured again after the run; the higher figure counts, so a busy moment during the first
        // measurement cannot flatter the ratio.
        var capacityAfter = await MeasureCapacityAsync(metadata.BaseUri, loadConcurrency, TimeSpan.FromSeconds(loadSeconds), tokens, ct);
        Console.WriteLine($"server capacity measured again after the refresh: {capacityAfter:0} requests/s");
        capacity = Math.Max(capacity, capacityAfter);
        Console.WriteLine($"ratio to server capacity ({capacity:0} requests/s): {rate / capacity:P0} (target >= 80%); time target <= 15 s: {(elapsed.TotalSeconds <= 15 ? "met" : "missed")}");
        return succeeded == tokens ? 0 : 1;
    }

    internal static async Task<double> MeasureCapacityAsync(string baseUri, int concurrency, TimeSpan duration, int idSpace, CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, UseProxy = false });
        long completed = 0;
        var measuring = false;
        using var end = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var next = 0;
        async Task Loop()
        {
            var buffer = new byte[8192];
            while (!end.IsCancellationRequested)
            {
                var id = Interlocked.Increment(ref next) % idSpace;
                try
                {
                    using var response = await http.GetAsync(baseUri + id.ToString(CultureInfo.InvariantCulture), HttpCompletionOption.ResponseHeadersRead, end.Token);
                    await using var body = await response.Content.ReadAsStreamAsync(end.Token);
                    while (await body.ReadAsync(buffer, end.Token) > 0)
                    {
                    }
                    if (Volatile.Read(ref measuring) && response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref completed);
                    }
                }
                catch (OperationCanceledException) when (end.IsCancellationRequested)
                {
                    return;
                }
            }
        }
        var loops = Enumerable.Range(0, concurrency).Select(_ => Task.Run(Loop, ct)).ToList();
        await Task.Delay(TimeSpan.FromSeconds(1), ct); // warm-up: connections open, JIT done
        Volatile.Write(ref measuring, true);
        var clock = Stopwatch.StartNew();
        await Task.Delay(duration, ct);
        var count = Interlocked.Read(ref completed);
        var seconds = clock.Elapsed.TotalSeconds;
        await end.CancelAsync();
        await Task.WhenAll(loops);
        return count / seconds;
    }

    /// <summary>A project of <paramref name="owner"/> with one collection fetched from <paramref name="baseUri"/> and token rows 1..<paramref name="tokens"/>.</summary>
    internal static async Task<(Collection Collection, string[] Ids)> SeedAsync(OpenMintStorage store, string owner, string baseUri, int tokens, CancellationToken ct,
        string projectId = "bench", string address = "0x00000000000000000000000000000000000be9c1")
    {
        var now = DateTimeOffset.UtcNow;
        await store.Tenancy.UpsertChainAsync(new ChainConfig("bench", 31337, ["http://127.0.0.1:1/"], null, 0, now), ct);
        // The hourly token limit is raised for the run; requests stay at 5/s, as clients see them.
        var project = new Project(projectId, "refresh bench", owner, 2000, 100, 1_000_000, 1000, now);
        await store.Tenancy.CreateProjectAsync(project, ct);
        var collection = await store.Tenancy.AddCollectionAsync(new Collection(0, "bench", address, project.Id, CollectionKind.Erc721, PresetVariant.Erc721V2, baseUri, true, now), ct);
        var ids = Enumerable.Range(1, tokens).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var at = Time.ToWire(now);
        await store.Database.InTransactionAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(new CommandDefinition(
                "INSERT INTO token (collection_id, token_id, owner_address, metadata, metadata_synced_at, created_at, updated_at) VALUES (@cid, @tid, @owner, NULL, NULL, @at, @at)",
                ids.Select(t => new { cid = collection.Id, tid = t, owner, at }), tx, cancellationToken: ct));
        }, ct);
        return (collection, ids);
    }

    private static (string Address, string Timestamp, string Signature) _lastSignature = ("", "", "");
    private static long _lastPostTimestamp;

    /// <summary>
    /// Signs like the core-sdk (timestamp in seconds), reusing the signature within the same second for reads. A POST
    /// spends its signature (one refresh per signature), so each POST signs a timestamp not used before: the current
    /// second, or one past the previous POST's when several go out within a second (well inside the ±300 s window).
    /// </summary>
    internal static HttpRequestMessage Signed(EthKey key, HttpMethod method, string path)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string ts, signature;
        if (method == HttpMethod.Post)
        {
            _lastPostTimestamp = Math.Max(now, _lastPostTimestamp + 1);
            ts = _lastPostTimestamp.ToString(CultureInfo.InvariantCulture);
            signature = PersonalSign.Sign(key, ts);
        }
        else
        {
            ts = now.ToString(CultureInfo.InvariantCulture);
            if (_lastSignature.Timestamp != ts || _lastSignature.Address != key.Address)
            {
                _lastSignature = (key.Address, ts, PersonalSign.Sign(key, ts));
            }
            signature = _lastSignature.Signature;
        }
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("x-imx-eth-address", key.Address);
        request.Headers.Add("x-imx-eth-timestamp", ts);
        request.Headers.Add("x-imx-eth-signature", signature);
        return request;
    }
}

/// <summary>OpenMint on a fresh SQLite file (loopback fetches allowed, warnings only), deleted again on dispose.</summary>
internal sealed class RefreshBenchHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dbPath;

    private RefreshBenchHost(WebApplication app, string dbPath)
    {
        _app = app;
        _dbPath = dbPath;
        Http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
    }

    public HttpClient Http { get; }
    public OpenMintStorage Store => _app.Services.GetRequiredService<OpenMintStorage>();

    public static async Task<RefreshBenchHost> StartAsync(string name, int perOrigin, CancellationToken ct)
    {
        var dbPath = Path.Combine(Path.GetTempPath(), $"openmint-{name}-{Guid.NewGuid():N}.db");
        var app = await OpenMintServer.BuildAsync(new ServerOptions("sqlite:" + dbPath, "http://127.0.0.1:0", new Dictionary<string, string?>
        {
            ["Refresh:AllowLoopback"] = "true",
            ["Refresh:MaxConcurrencyPerOrigin"] = perOrigin.ToString(CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
        }), ct);
        await app.StartAsync(ct);
        return new RefreshBenchHost(app, dbPath);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_dbPath + suffix);
        }
    }
}

/// <summary>The refresh API as the benchmarks' clients use it: signed POSTs and status polls.</summary>
internal sealed class RefreshApiClient(HttpClient http, CancellationToken ct)
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

    /// <summary>
    /// Follows the oldest unfinished refresh only (every 50 ms) until all are completed: they finish roughly in order,
    /// and polling them all would load the server under test with signature checks.
    /// </summary>
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
