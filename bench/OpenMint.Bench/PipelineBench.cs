using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenMint.Api;
using OpenMint.Api.Auth;
using OpenMint.Chain;
using OpenMint.Core;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;
using OpenMint.DevChain;
using OpenMint.Storage;

namespace OpenMint.Bench;

/// <summary>
/// The minting pipeline on Anvil with --block-time 2: N single-asset requests (default 10,000) for 100 owners,
/// by quantity (ImmutableERC721V2), by id (ImmutableERC721MintByID) and ERC1155 mixed, posted through the HTTP
/// API by concurrent clients. Reports transactions and gas per token per kind against (a) the optimal plan for the
/// same workload (every request known up front, packed by the same planner, executed on a second Anvil) and
/// (b) one transaction per request (a sample executed on that second Anvil), block fullness while the queue
/// is non-empty, and accept->succeeded latency.
/// Options: --requests N (10000), --owners N (100), --clients N (8), --naive-sample N per kind (150), --gas-margin X (Pipeline:GasLimitMargin),
/// --warmup-blocks N (5: the host runs while the chain makes N blocks before the first request; 0 for a cold start), --verbose.
/// </summary>
internal static class PipelineBench
{
    internal static readonly string[] Kinds = ["erc721", "erc721_mint_by_id", "erc1155"];

    internal sealed record Req(int Index, string Kind, string Reference, string Owner, string? TokenId, string? Amount);

    public static async Task<int> RunAsync(string[] args)
    {
        var requests = BenchArgs.Int(args, "--requests", 10_000);
        var ownerCount = BenchArgs.Int(args, "--owners", 100);
        var clients = BenchArgs.Int(args, "--clients", 8);
        var naiveSample = BenchArgs.Int(args, "--naive-sample", 150);
        var warmupBlocks = BenchArgs.Int(args, "--warmup-blocks", 5);
        var ct = CancellationToken.None;

        var owners = Enumerable.Range(1, ownerCount).Select(i => "0x" + (0xb0000000L + i).ToString("x40", CultureInfo.InvariantCulture)).ToArray();
        var workload = Enumerable.Range(0, requests).Select(i =>
        {
            var kind = Kinds[i % 3];
            var owner = owners[i / 3 % ownerCount];
            var id = (i + 1).ToString(CultureInfo.InvariantCulture);
            return new Req(i, kind, $"bench-{i}", owner, kind == "erc721" ? null : id, kind == "erc1155" ? "1" : null);
        }).ToList();

        Console.Error.WriteLine($"pipeline bench: {requests} requests, {ownerCount} owners, {clients} clients; starting Anvil --block-time 2");
        await using var chain = await DevChain.DevChain.StartAsync(new AnvilOptions { BlockTimeSeconds = 2 }, null, ct);
        var path = Path.Combine(Path.GetTempPath(), $"openmint-pipeline-bench-{Guid.NewGuid():N}.db");
        var settings = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Pipeline:PollInterval"] = "00:00:00.1",
            ["Pipeline:MaxInFlight"] = "128",
        };
        var margin = args.SkipWhile(a => a != "--gas-margin").Skip(1).FirstOrDefault();
        if (margin is not null)
        {
            settings["Pipeline:GasLimitMargin"] = margin;
        }
        if (args.Contains("--verbose"))
        {
            settings["Logging:LogLevel:OpenMint.Core.Pipeline"] = "Debug";
        }
        // Tenancy before the host starts, so the worker finds the chain at once.
        var setup = await OpenMintStorage.OpenAsync("sqlite:" + path, ct);
        var (key, collections) = await TenancyAsync(setup, chain.Deployment, ct);
        await setup.DisposeAsync();

        var app = await OpenMintServer.BuildAsync(new ServerOptions("sqlite:" + path, "http://127.0.0.1:0", settings), ct);
        await app.StartAsync(ct);
        var baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        var store = app.Services.GetRequiredService<OpenMintStorage>();
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        http.DefaultRequestHeaders.TryAddWithoutValidation("x-immutable-api-key", key);

        // As a running service: the sender first sees the chain make blocks by itself (a freshly started DevChain's
        // deployment blocks share one timestamp, so nothing tells its interval yet). --warmup-blocks 0: a cold start.
        var chainEth = new EthClient(new JsonRpcClient(new HttpClient(), chain.RpcUrl));
        var startHead = await chainEth.BlockNumberAsync(ct);
        while (await chainEth.BlockNumberAsync(ct) < startHead + warmupBlocks)
        {
            await Task.Delay(100, ct);
        }

        // Posts of 100 assets (one collection each), kinds interleaved, from concurrent clients.
        var posts = new List<(string Kind, List<Req> Assets)>();
        foreach (var kind in Kinds)
        {
            posts.AddRange(workload.Where(r => r.Kind == kind).Chunk(100).Select(c => (kind, c.ToList())));
        }
        posts = posts.OrderBy(p => p.Assets[0].Index).ToList();
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < posts.Count)
            {
                var (kind, assets) = posts[i];
                var body = new JsonObject { ["assets"] = new JsonArray(assets.Select(a => (JsonNode)Asset(a)).ToArray()) }.ToJsonString();
                using var response = await http.PostAsync($"/v1/chains/bench/collections/{collections[kind].Address}/nfts/mint-requests",
                    new StringContent(body, Encoding.UTF8, "application/json"), ct);
                if ((int)response.StatusCode != 202)
                {
                    throw new InvalidOperationException($"POST {kind}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
                }
            }
        }));
        var intakeSeconds = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine($"accepted {requests} in {intakeSeconds:F1} s; waiting for the pipeline");

        await using var c = await store.Database.OpenConnectionAsync(ct);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(15);
        long pending;
        while ((pending = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM mint_request WHERE status = 'pending'")) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250, ct);
        }
        var drainSeconds = clock.Elapsed.TotalSeconds;
        await app.StopAsync(ct);

        var rows = (await c.QueryAsync<(long CollectionId, string Status, string CreatedAt, string UpdatedAt)>(
            "SELECT collection_id, status, created_at, updated_at FROM mint_request")).ToList();
        var failed = rows.Count(r => r.Status == "failed");
        var latencies = rows.Where(r => r.Status == "succeeded").Select(r => (Time.FromWire(r.UpdatedAt) - Time.FromWire(r.CreatedAt)).TotalSeconds).Order().ToList();
        var txs = (await c.QueryAsync<(string Method, string Hash, long Block)>(
            "SELECT b.method, t.mined_hash, t.mined_block FROM tx t JOIN batch b ON b.id = t.batch_id WHERE t.state = 'done' AND t.mined_hash IS NOT NULL")).ToList();

        var eth = new EthClient(new JsonRpcClient(new HttpClient(), chain.RpcUrl));
        var gasByMethod = new Dictionary<string, (int Txs, long Gas)>();
        foreach (var tx in txs)
        {
            var receipt = (await eth.GetTransactionReceiptAsync(tx.Hash, ct))!;
            var (n, g) = gasByMethod.GetValueOrDefault(tx.Method);
            gasByMethod[tx.Method] = (n + 1, g + receipt.GasUsed);
        }
        var firstBlock = txs.Min(t => t.Block);
        var lastBlock = txs.Max(t => t.Block);
        var fullness = new List<double>();
        for (var b = firstBlock; b <= lastBlock; b++)
        {
            var header = (await eth.GetBlockAsync(b, ct))!;
            fullness.Add((double)header.GasUsed / header.GasLimit);
        }

        if (args.Contains("--verbose"))
        {
            await PrintBlocksAsync(c, eth, firstBlock, lastBlock, ct);
        }

        Console.Error.WriteLine("measuring the optimal plan and one tx per request on a second Anvil (automine)");
        var reference = await ReferenceAsync(workload, naiveSample, ct);

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"requests {requests} ({requests / 3} per kind), owners {ownerCount}, clients {clients}; failed {failed}; still pending {pending}");
        report.AppendLine(CultureInfo.InvariantCulture, $"intake {intakeSeconds:F1} s; all settled after {drainSeconds:F1} s; blocks {firstBlock}..{lastBlock} ({lastBlock - firstBlock + 1})");
        report.AppendLine();
        report.AppendLine("| kind | txs | gas/token | optimal txs | optimal gas/token | ratio to optimal | one tx per request gas/token | saving vs one per request |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        long totalGas = 0, totalOptimal = 0;
        var totalTxs = 0;
        foreach (var (kind, method) in new[] { ("erc721", "ByQuantity"), ("erc721_mint_by_id", "ById"), ("erc1155", "Erc1155") })
        {
            var tokens = workload.Count(r => r.Kind == kind);
            var (n, gas) = gasByMethod.GetValueOrDefault(method);
            var (optTxs, optGas) = reference.Optimal[kind];
            var naive = reference.NaivePerToken[kind];
            totalGas += gas;
            totalOptimal += optGas;
            totalTxs += n;
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {kind} ({method}) | {n} | {gas / (double)tokens:N0} | {optTxs} | {optGas / (double)tokens:N0} | {gas / (double)optGas:F3} | {naive:N0} | {naive / (gas / (double)tokens):F1}x |");
        }
        report.AppendLine(CultureInfo.InvariantCulture, $"| all | {totalTxs} | {totalGas / (double)requests:N0} | | {totalOptimal / (double)requests:N0} | {totalGas / (double)totalOptimal:F3} | | |");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"block fullness while the queue was non-empty: average {fullness.Average():P1} over {fullness.Count} blocks (min {fullness.Min():P1})");
        report.AppendLine("per block (gas used / limit): " + string.Join(" ", fullness.Select(f => f.ToString("P0", CultureInfo.InvariantCulture))));
        report.AppendLine(CultureInfo.InvariantCulture, $"accept -> succeeded: p50 {Percentile(latencies, 0.50):F1} s, p99 {Percentile(latencies, 0.99):F1} s, max {latencies.LastOrDefault():F1} s");
        Console.WriteLine(report.ToString());
        File.Delete(path);
        return pending == 0 && failed == 0 ? 0 : 1;
    }

    /// <summary>Per block: its timestamp, how full it is, and which of our nonces it holds (method and gas used).</summary>
    private static async Task PrintBlocksAsync(System.Data.Common.DbConnection c, EthClient eth, long firstBlock, long lastBlock, CancellationToken ct)
    {
        var ours = (await c.QueryAsync<(long Nonce, string Method, string Hash, long Block)>(
            "SELECT t.nonce, b.method, t.mined_hash, t.mined_block FROM tx t JOIN batch b ON b.id = t.batch_id WHERE t.mined_hash IS NOT NULL ORDER BY t.nonce")).ToList();
        for (var b = 0L; b <= lastBlock; b++)
        {
            var header = (await eth.GetBlockAsync(b, ct))!;
            var txs = new List<string>();
            foreach (var tx in ours.Where(t => t.Block == b))
            {
                var gas = (await eth.GetTransactionReceiptAsync(tx.Hash, ct))!.GasUsed;
                txs.Add(FormattableString.Invariant($"{tx.Nonce}:{tx.Method[..4]} {gas / 1e6:F1}M"));
            }
            Console.WriteLine(FormattableString.Invariant(
                $"block {b} at {header.Timestamp} ({DateTimeOffset.FromUnixTimeSeconds(header.Timestamp):HH:mm:ss}) {(double)header.GasUsed / header.GasLimit:P0} ({header.TransactionCount} txs): {string.Join(", ", txs)}"));
        }
    }

    private sealed record Reference(Dictionary<string, (int Txs, long Gas)> Optimal, Dictionary<string, double> NaivePerToken);

    /// <summary>
    /// On a fresh automine Anvil: one tx per request for a sample of each kind (then reverted), and the optimal
    /// plan: all requests of a kind packed at once by the planner at the same gas target, split only if over the cap.
    /// </summary>
    private static async Task<Reference> ReferenceAsync(List<Req> workload, int naiveSample, CancellationToken ct)
    {
        await using var chain = await DevChain.DevChain.StartAsync(new AnvilOptions(), null, ct);
        var d = chain.Deployment;
        var eth = new EthClient(new JsonRpcClient(new HttpClient(), chain.RpcUrl));
        var signer = new EthKeySigner(EthKey.FromHex(d.MinterPrivateKey));
        var nonce = await eth.GetTransactionCountAsync(signer.Address, "pending", ct);
        var target = BatchPlanner.TargetGas(30_000_000, 16_777_216, 1.05);

        async Task<long> SendAsync(string to, byte[] data)
        {
            var gas = await eth.EstimateGasAsync(new CallRequest(signer.Address, to, data), ct);
            var signed = signer.Sign(d.ChainId, nonce++, 1_000_000_000, 100_000_000_000, (long)(gas * 1.05), to, 0, data);
            var hash = await eth.SendRawTransactionAsync(signed.Raw, ct);
            TransactionReceipt? receipt;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while ((receipt = await eth.GetTransactionReceiptAsync(hash, ct)) is null)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"reference tx {hash} (nonce {nonce - 1}) was not mined within 60 s");
                }
                await Task.Delay(5, ct);
            }
            if (!receipt.Success)
            {
                throw new InvalidOperationException($"reference tx reverted: {hash}");
            }
            return receipt.GasUsed;
        }

        Collection CollectionOf(string kind)
        {
            var dc = d[kind];
            return new Collection(0, "ref", dc.Address, "p", dc.Kind == "erc1155" ? CollectionKind.Erc1155 : CollectionKind.Erc721,
                kind switch { "erc721" => PresetVariant.Erc721V2, "erc721_mint_by_id" => PresetVariant.Erc721MintById, _ => PresetVariant.Erc1155 }, null, true, DateTimeOffset.UtcNow);
        }

        static MintMethod MethodOf(string kind) => kind switch { "erc721" => MintMethod.ByQuantity, "erc721_mint_by_id" => MintMethod.ById, _ => MintMethod.Erc1155 };

        static QueuedMint Queued(Req r) => new(r.Index, r.Owner, r.TokenId is null ? null : BigInteger.Parse(r.TokenId, CultureInfo.InvariantCulture), BigInteger.One);

        var rpc = new JsonRpcClient(new HttpClient(), chain.RpcUrl);
        var snapshot = (await rpc.CallAsync("evm_snapshot", [], ct)).GetString();
        var naive = new Dictionary<string, double>();
        foreach (var kind in Kinds)
        {
            var collection = CollectionOf(kind);
            long gas = 0;
            var sample = workload.Where(r => r.Kind == kind).Take(naiveSample).ToList();
            foreach (var r in sample)
            {
                gas += await SendAsync(collection.Address, BatchPlanner.Build(collection, MethodOf(kind), [Queued(r)]).Calldata());
            }
            naive[kind] = gas / (double)sample.Count;
        }
        await rpc.CallAsync("evm_revert", [snapshot], ct);
        // "latest", not "pending": right after evm_revert Anvil's pending count can still include the reverted txs.
        nonce = await eth.GetTransactionCountAsync(signer.Address, "latest", ct);

        var optimal = new Dictionary<string, (int, long)>();
        foreach (var kind in Kinds)
        {
            var collection = CollectionOf(kind);
            var method = MethodOf(kind);
            var txs = 0;
            long gas = 0;
            var stack = new Stack<List<QueuedMint>>(BatchPlanner.Plan(collection, method, workload.Where(r => r.Kind == kind).Select(Queued).ToList(), target)
                .Select(p => p.Batch.RequestIds.Select(id => Queued(workload[(int)id])).ToList()).Reverse());
            while (stack.Count > 0)
            {
                var mints = stack.Pop();
                var batch = BatchPlanner.Build(collection, method, mints);
                var estimate = await eth.EstimateGasAsync(new CallRequest(signer.Address, collection.Address, batch.Calldata()), ct);
                if (estimate * 1.05 > 16_777_216 && mints.Count > 1)
                {
                    stack.Push(mints[(mints.Count / 2)..]);
                    stack.Push(mints[..(mints.Count / 2)]);
                    continue;
                }
                gas += await SendAsync(collection.Address, batch.Calldata());
                txs++;
            }
            optimal[kind] = (txs, gas);
        }
        return new Reference(optimal, naive);
    }

    internal static async Task<(string Key, Dictionary<string, Collection> Collections)> TenancyAsync(OpenMintStorage store, DevChainDeployment d, CancellationToken ct)
    {
        var keyFile = Path.Combine(Path.GetTempPath(), $"openmint-bench-minter-{Guid.NewGuid():N}.key");
        await File.WriteAllTextAsync(keyFile, d.MinterPrivateKey, ct);
        await store.Tenancy.UpsertChainAsync(new ChainConfig("bench", d.ChainId, [d.RpcUrl], "file:" + keyFile, 0, DateTimeOffset.UtcNow), ct);
        // The benchmark posts 10,000 assets within seconds: the project's per-minute limit is raised for it.
        var project = new Project(UuidV7.New().ToString(), "bench", d.OwnerAddress, 1_000_000, 5, 30_000, 1000, DateTimeOffset.UtcNow);
        await store.Tenancy.CreateProjectAsync(project, ct);
        var key = (await ApiKeyIssuer.IssueAsync(store.Tenancy, project.Id, TimeProvider.System, ct)).Secret;
        var collections = new Dictionary<string, Collection>();
        foreach (var kind in Kinds)
        {
            var dc = d[kind];
            collections[kind] = await store.Tenancy.AddCollectionAsync(new Collection(0, "bench", dc.Address, project.Id,
                dc.Kind == "erc1155" ? CollectionKind.Erc1155 : CollectionKind.Erc721,
                kind switch { "erc721" => PresetVariant.Erc721V2, "erc721_mint_by_id" => PresetVariant.Erc721MintById, _ => PresetVariant.Erc1155 },
                null, true, DateTimeOffset.UtcNow), ct);
        }
        return (key, collections);
    }

    internal static JsonObject Asset(Req r)
    {
        var a = new JsonObject { ["reference_id"] = r.Reference, ["owner_address"] = r.Owner };
        if (r.TokenId is not null)
        {
            a["token_id"] = r.TokenId;
        }
        if (r.Amount is not null)
        {
            a["amount"] = r.Amount;
        }
        return a;
    }

    internal static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
