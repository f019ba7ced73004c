using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenMint.Api;
using OpenMint.Api.Auth;
using OpenMint.Core;
using OpenMint.Core.Tenancy;
using OpenMint.Storage;

namespace OpenMint.Bench;

/// <summary>
/// Assets accepted per second by the Minting API on SQLite (100-asset requests from concurrent clients over
/// real HTTP), next to a bare batched INSERT loop (100 rows per transaction) into the same table of the same file.
/// Options: --clients N (16), --seconds S (10), --warmup S (2).
/// </summary>
internal static class IntakeBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var database = args.SkipWhile(a => a != "--database").Skip(1).FirstOrDefault();
        if (database is not null)
        {
            return await IntakePostgresBench.RunAsync(database, args);
        }
        if (BenchArgs.Int(args, "--assets", 100) == 1)
        {
            return await IntakeSmallBench.RunAsync(args);
        }
        var clients = BenchArgs.Int(args, "--clients", 16);
        var seconds = BenchArgs.Int(args, "--seconds", 10);
        var warmup = BenchArgs.Int(args, "--warmup", 2);
        var apiOnly = args.Contains("--api-only");
        var storeOnly = args.Contains("--store-only");
        var path = Path.Combine(Path.GetTempPath(), $"openmint-intake-bench-{Guid.NewGuid():N}.db");
        var ct = CancellationToken.None;
        try
        {
            var app = await OpenMintServer.BuildAsync(new ServerOptions("sqlite:" + path, "http://127.0.0.1:0",
                new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" }, RunWorkers: false), ct);
            await app.StartAsync(ct);
            var baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
            var store = app.Services.GetRequiredService<OpenMintStorage>();

            var (project, key, address) = await TenancyAsync(store, ct);

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2 }) { BaseAddress = new Uri(baseUrl) };
            http.DefaultRequestHeaders.Add("x-immutable-api-key", key);
            var url = $"/v1/chains/bench/collections/{address}/nfts/mint-requests";

            if (storeOnly)
            {
                await app.StopAsync(ct);
                await store.DisposeAsync(); // the host stopped its intake writer: the store-only phase opens the file again
                await using var direct = await OpenMintStorage.OpenAsync("sqlite:" + path, ct);
                var c0 = Process.GetCurrentProcess().TotalProcessorTime;
                await StoreOnlyAsync(direct, project, warmup, clients, ct);
                c0 = Process.GetCurrentProcess().TotalProcessorTime;
                var r = await StoreOnlyAsync(direct, project, seconds, clients, ct);
                var c1 = (Process.GetCurrentProcess().TotalProcessorTime - c0).TotalSeconds;
                Console.WriteLine($"  store only        {r,10:N0} assets/s  {r * seconds / c1:N0} assets per CPU-second");
                return 0;
            }
            var api = await RunClientsAsync(http, url, clients, warmup, seconds, 0);
            var (apiRate, accepted, failures, latencies, apiCpu, measured) = (api.Rate, api.Accepted, api.Failures, api.Latencies, api.CpuSeconds, api.Seconds);

            await app.StopAsync(ct);
            await app.DisposeAsync();
            await store.DisposeAsync(); // the host stopped its intake writer: the store-only phase opens the file again
            store = await OpenMintStorage.OpenAsync("sqlite:" + path, ct);
            var generator = await LoadGeneratorCostAsync(clients, warmup, seconds, url);
            var generatorCores = generator.CpuPerRequest * (accepted / 100.0) / measured;
            if (apiOnly)
            {
                Console.WriteLine($"  API accepted      {apiRate,10:N0} assets/s   ({accepted / 100:N0} requests, p50 {Percentile(latencies, 0.5):N1} ms, p99 {Percentile(latencies, 0.99):N1} ms, {failures} non-202; {apiCpu / measured:F2} cores busy)");
                Console.WriteLine($"  load generator    {generator.CpuPerRequest * 1e6,10:N0} CPU-us per request with a server that only drains the body ({generatorCores:F2} cores at the API's request rate, {generatorCores / Math.Max(apiCpu / measured, 1e-9):P0} of the API phase's CPU)");
                await store.DisposeAsync();
                return failures == 0 ? 0 : 1;
            }

            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var storeRate = await StoreOnlyAsync(store, project, seconds, clients, ct);
            var storeCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var bareRate = await BareInsertLoopAsync(store.Database, seconds, ct);
            var bareCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            double load = 0;
            if (File.Exists("/proc/loadavg"))
            {
                load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
            }
            await store.DisposeAsync();

            Console.WriteLine($"intake: {clients} clients, 100 assets per request, {seconds}s measured after {warmup}s warm-up, SQLite WAL synchronous=FULL, {Environment.ProcessorCount} cores, load average {load:F1} at the end");
            Console.WriteLine($"  API accepted      {apiRate,10:N0} assets/s   ({accepted / 100:N0} requests, p50 {Percentile(latencies, 0.5):N1} ms, p99 {Percentile(latencies, 0.99):N1} ms, {failures} non-202; {apiCpu / measured:F2} cores busy incl. the HTTP clients, {accepted / Math.Max(apiCpu, 1e-9):N0} assets per CPU-second)");
            Console.WriteLine($"  load generator    {generator.CpuPerRequest * 1e6,10:N0} CPU-us per request with a server that only drains the body and answers 202 ({generatorCores:F2} cores at the API's request rate, {generatorCores / Math.Max(apiCpu / measured, 1e-9):P0} of the API phase's CPU; an upper bound: it includes that minimal server)");
            Console.WriteLine($"  store only        {storeRate,10:N0} assets/s   (IMintStore.AcceptMintRequestsAsync from {clients} concurrent callers, no HTTP; {storeRate * seconds / Math.Max(storeCpu, 1e-9):N0} assets per CPU-second)");
            Console.WriteLine($"  bare INSERT loop  {bareRate,10:N0} rows/s     (100-row multi-row INSERT + COMMIT per transaction, one connection; {bareRate * seconds / Math.Max(bareCpu, 1e-9):N0} rows per CPU-second)");
            Console.WriteLine($"  ratio             {apiRate / bareRate,10:P0}");
            return failures == 0 ? 0 : 1;
        }
        finally
        {
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(path + suffix);
            }
        }
    }

    /// <summary>A chain (no node needed: workers are off), a project with no effective mint limit, its key and one ERC721 collection.</summary>
    internal static async Task<(Project Project, string Key, string Address)> TenancyAsync(OpenMintStorage store, CancellationToken ct)
    {
        await store.Tenancy.UpsertChainAsync(new ChainConfig("bench", 31337, ["http://127.0.0.1:1"], null, 0, DateTimeOffset.UtcNow), ct);
        var project = new Project(UuidV7.New().ToString(), "bench", "0x" + new string('a', 40), int.MaxValue, 5, 30_000, 1000, DateTimeOffset.UtcNow);
        await store.Tenancy.CreateProjectAsync(project, ct);
        var key = (await ApiKeyIssuer.IssueAsync(store.Tenancy, project.Id, TimeProvider.System, ct)).Secret;
        const string Address = "0x00000000000000000000000000000000000b0b01";
        await store.Tenancy.AddCollectionAsync(new Collection(0, "bench", Address, project.Id, CollectionKind.Erc721, PresetVariant.Erc721V2, null, true, DateTimeOffset.UtcNow), ct);
        return (project, key, Address);
    }

    internal sealed record ClientRun(double Rate, long Accepted, long Failures, List<double> Latencies, double CpuSeconds, double Seconds);

    /// <summary>
    /// N clients POSTing 100-asset bodies (unique ids from <paramref name="firstToken"/>) over loopback HTTP/1.1 keep-alive, reading every
    /// response; counts assets answered 202 during <paramref name="seconds"/> after <paramref name="warmup"/>, and the process CPU meanwhile.
    /// Each client writes its next body as UTF-8 into one reused buffer: the generator shares the server's two cores.
    /// </summary>
    internal static Task<ClientRun> RunClientsAsync(HttpClient http, string url, int clients, int warmup, int seconds, long firstToken) =>
        RunClientsAsync(http, clients, warmup, seconds, firstToken, 100, (body, first) => (url, WriteBody(body, first)));

    /// <summary>
    /// N clients each POSTing the body <paramref name="next"/> writes for the next <paramref name="assetsPerRequest"/> unique ids into the
    /// client's reused buffer, to the url it names; counts assets answered 202 during <paramref name="seconds"/> after <paramref name="warmup"/>.
    /// </summary>
    internal static async Task<ClientRun> RunClientsAsync(HttpClient http, int clients, int warmup, int seconds, long firstToken, int assetsPerRequest,
        Func<byte[], long, (string Url, int Length)> next)
    {
        long nextToken = firstToken;
        long accepted = 0;
        long failures = 0;
        var measuring = false;
        var stop = false;
        var latencies = new List<double>();
        var gate = new Lock();
        var contentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        async Task Client()
        {
            var body = new byte[32 * 1024];
            while (!Volatile.Read(ref stop))
            {
                var first = Interlocked.Add(ref nextToken, assetsPerRequest) - assetsPerRequest;
                var (url, length) = next(body, first);
                using var content = new ByteArrayContent(body, 0, length);
                content.Headers.ContentType = contentType;
                var started = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync(url, content);
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    Interlocked.Increment(ref failures);
                    Console.Error.WriteLine($"unexpected {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    continue;
                }
                if (Volatile.Read(ref measuring))
                {
                    Interlocked.Add(ref accepted, assetsPerRequest);
                    lock (gate)
                    {
                        latencies.Add(elapsed);
                    }
                }
            }
        }

        var tasks = Enumerable.Range(0, clients).Select(_ => Task.Run(Client)).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(warmup));
        Volatile.Write(ref measuring, true);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        Volatile.Write(ref measuring, false);
        var measured = sw.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        Volatile.Write(ref stop, true);
        await Task.WhenAll(tasks);
        latencies.Sort();
        return new ClientRun(accepted / measured, accepted, failures, latencies, cpu, measured);
    }

    /// <summary>
    /// What the load generator itself costs: the same clients against a Kestrel endpoint on the same path that only drains the
    /// body and answers the 202 with the four limit fields (no auth, parsing or store). CPU-seconds per request; an upper bound
    /// of the generator's share, since that minimal server is included.
    /// </summary>
    private static async Task<(double CpuPerRequest, double Rate)> LoadGeneratorCostAsync(int clients, int warmup, int seconds, string url)
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        IntakeSmallBench.MapDrain(app, url);
        await app.StartAsync();
        try
        {
            var baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2 }) { BaseAddress = new Uri(baseUrl) };
            http.DefaultRequestHeaders.Add("x-immutable-api-key", "bench");
            var run = await RunClientsAsync(http, url, clients, warmup, Math.Max(2, seconds / 2), 0);
            return (run.CpuSeconds / Math.Max(1, run.Accepted / 100), run.Rate);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>The intake path without HTTP: parse-free store calls from concurrent callers, for locating the cost.</summary>
    private static async Task<double> StoreOnlyAsync(OpenMintStorage store, Project project, int seconds, int callers, CancellationToken ct)
    {
        var chain = (await store.Tenancy.GetChainAsync("bench", ct))!;
        var collection = (await store.Tenancy.ListCollectionsAsync(project.Id, ct)).Single();
        long next = 1_000_000_000;
        long accepted = 0;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            while (sw.Elapsed.TotalSeconds < seconds)
            {
                var first = Interlocked.Add(ref next, 100) - 100;
                var assets = Enumerable.Range(0, 100).Select(i => (first + i).ToString(CultureInfo.InvariantCulture))
                    .Select(id => new OpenMint.Core.Minting.MintAsset("store-" + id, "0x00000000000000000000000000000000000000aa", id, null, $"{{\"name\":\"Token {id}\"}}"))
                    .ToList();
                var outcome = await store.Minting.AcceptMintRequestsAsync(new OpenMint.Core.Minting.MintIntake(collection, chain, assets, int.MaxValue, 100), ct);
                if (outcome is OpenMint.Core.Minting.MintIntakeOutcome.Accepted)
                {
                    Interlocked.Add(ref accepted, 100);
                }
            }
        })));
        return accepted / sw.Elapsed.TotalSeconds;
    }

    /// <summary>The floor: committed 100-row batches into mint_request as fast as one connection can, same file, same durability.</summary>
    internal static async Task<double> BareInsertLoopAsync(Database db, int seconds, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var collectionId = await c.ExecuteScalarAsync<long>("SELECT id FROM collection LIMIT 1");
        var nextId = await c.ExecuteScalarAsync<long>("SELECT COALESCE(MAX(id), 0) + 1 FROM mint_request");
        var sql = new StringBuilder("INSERT INTO mint_request (id, collection_id, project_id, reference_id, owner_address, token_id, by_quantity, amount, metadata, status, created_at, updated_at) VALUES ");
        for (var i = 0; i < 100; i++)
        {
            sql.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"(@id{i}, @c, 'p', @r{i}, '0x00000000000000000000000000000000000000aa', @t{i}, false, NULL, @m{i}, 'pending', @now, @now)");
        }
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql.ToString();
        var parameters = new Dictionary<string, System.Data.Common.DbParameter>();
        foreach (var name in new[] { "c", "now" }.Concat(Enumerable.Range(0, 100).SelectMany(i => new[] { $"id{i}", $"r{i}", $"t{i}", $"m{i}" })))
        {
            var p = cmd.CreateParameter();
            p.ParameterName = "@" + name;
            cmd.Parameters.Add(p);
            parameters[name] = p;
        }
        parameters["c"].Value = collectionId;
        long rows = 0;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            await using var tx = await c.BeginTransactionAsync(ct);
            cmd.Transaction = tx;
            parameters["now"].Value = Time.ToWire(DateTimeOffset.UtcNow);
            for (var i = 0; i < 100; i++)
            {
                var id = nextId++;
                var text = id.ToString(CultureInfo.InvariantCulture);
                parameters[$"id{i}"].Value = id;
                parameters[$"r{i}"].Value = "bare-" + text;
                parameters[$"t{i}"].Value = "9" + text;
                parameters[$"m{i}"].Value = $"{{\"name\":\"Token {text}\",\"image\":\"https://example.invalid/{text}.png\"}}";
            }
            await cmd.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
            rows += 100;
        }
        return rows / sw.Elapsed.TotalSeconds;
    }

    /// <summary>The 100-asset create body for token ids first+1..first+100 (reference, owner, token id, small metadata each).</summary>
    internal static int WriteBody(byte[] buffer, long first)
    {
        var span = buffer.AsSpan();
        var n = 0;
        void Put(ReadOnlySpan<byte> bytes, Span<byte> to)
        {
            bytes.CopyTo(to[n..]);
            n += bytes.Length;
        }
        void PutNumber(long value, Span<byte> to)
        {
            value.TryFormat(to[n..], out var written, provider: CultureInfo.InvariantCulture);
            n += written;
        }
        Put("{\"assets\":["u8, span);
        for (var i = 0; i < 100; i++)
        {
            var id = first + i + 1;
            Put(i == 0 ? "{\"reference_id\":\"bench-"u8 : ",{\"reference_id\":\"bench-"u8, span);
            PutNumber(id, span);
            Put("\",\"owner_address\":\"0x00000000000000000000000000000000000000aa\",\"token_id\":\""u8, span);
            PutNumber(id, span);
            Put("\",\"metadata\":{\"name\":\"Token "u8, span);
            PutNumber(id, span);
            Put("\",\"image\":\"https://example.invalid/"u8, span);
            PutNumber(id, span);
            Put(".png\"}}"u8, span);
        }
        Put("]}"u8, span);
        return n;
    }

    internal static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
}
