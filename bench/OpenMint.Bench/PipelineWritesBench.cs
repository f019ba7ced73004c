using System.Diagnostics;
using System.Globalization;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;
using OpenMint.Storage;

namespace OpenMint.Bench;

/// <summary>
/// The pipeline's write transactions alone (issue 13): on a SQLite file with <c>--requests</c> queued requests, each run
/// writes one <c>--tokens</c>-request tx ahead (RecordTxsAsync) and completes it (CompleteTxAsync), with a stopwatch
/// around each call. While one of these transactions runs, SQLite's single write lock keeps intake waiting.
/// <c>--db</c> takes any store value (e.g. a PostgreSQL connection string) instead of the temporary SQLite file.
/// </summary>
internal static class PipelineWritesBench
{
    private const string Signer = "0x00000000000000000000000000000000000000aa";

    public static async Task<int> RunAsync(string[] args)
    {
        var requests = BenchArgs.Int(args, "--requests", 100_000);
        var tokens = BenchArgs.Int(args, "--tokens", 500);
        var runs = BenchArgs.Int(args, "--runs", 20);
        var warmup = BenchArgs.Int(args, "--warmup", 3);
        var i = Array.IndexOf(args, "--db");
        var directory = Directory.CreateTempSubdirectory("openmint-pipeline-writes-");
        var value = i >= 0 && i + 1 < args.Length ? args[i + 1] : "sqlite:" + Path.Combine(directory.FullName, "openmint.db");
        var ct = CancellationToken.None;
        try
        {
            await using var store = await OpenMintStorage.OpenAsync(value, ct);
            var (chain, collection) = await SeedAsync(store, requests, ct);
            var now = DateTimeOffset.UtcNow;
            var fence = (await store.Pipeline.TryAcquireLeaseAsync(chain.Name, Signer, "bench", now, TimeSpan.FromHours(1), ct))!.Fence;
            await store.Pipeline.SetNextNonceAsync(chain.Name, Signer, "bench", 0, ct);
            var record = new List<double>();
            var complete = new List<double>();
            var (recordCpu, completeCpu) = (new List<double>(), new List<double>());
            for (var run = 0; run < warmup + runs; run++)
            {
                var ids = (await store.Pipeline.ListQueuedAsync(collection.Id, tokens, ct)).Select(r => r.Id).ToList();
                var batch = new MintBatch(collection.Id, collection.Address, MintMethod.ByQuantity, [new MintEntry("0x" + new string('a', 40), ids, null, null)], 100_000);
                var hash = "0x" + Guid.NewGuid().ToString("N") + run.ToString("x32", CultureInfo.InvariantCulture);
                var cpu = Cpu();
                var started = Stopwatch.GetTimestamp();
                var recorded = (await store.Pipeline.RecordTxsAsync(fence, [new NewTx(run, batch, new NewAttempt(AttemptKind.Mint, [1], hash, 1, 2, 100_000))], now, ct))![0];
                var recordMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var recordCpuMs = Cpu() - cpu;
                var assigned = ids.Select((id, n) => new TokenAssignment(id, (run * tokens + n).ToString(CultureInfo.InvariantCulture))).ToList();
                cpu = Cpu();
                started = Stopwatch.GetTimestamp();
                if (!await store.Pipeline.CompleteTxAsync(fence, recorded.TxId, hash, assigned, collection, chain, now, null, ct))
                {
                    throw new InvalidOperationException("completion refused");
                }
                var completeMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var completeCpuMs = Cpu() - cpu;
                if (run >= warmup)
                {
                    record.Add(recordMs);
                    complete.Add(completeMs);
                    recordCpu.Add(recordCpuMs);
                    completeCpu.Add(completeCpuMs);
                }
            }
            var (read, readCpu) = await QueueReadsAsync(store, collection, warmup, runs, ct);
            Console.WriteLine($"pipeline writes: {tokens} requests per tx, {requests:N0} requests in mint_request, {runs} runs after {warmup} warm-up, load average {IntakeSmallBench.LoadAverage():F1} at the end");
            Print("RecordTxsAsync", record, recordCpu);
            Print("CompleteTxAsync", complete, completeCpu);
            Print("ListQueuedAsync", read, readCpu);
            Console.WriteLine($"  (ListQueuedAsync: the sender's queue read, {QueueWindow:N0} rows, the default plan window of one collection)");
            return 0;
        }
        finally
        {
            directory.Delete(true);
        }
    }

    private const int QueueWindow = 20_000;

    /// <summary>The sender's read of one collection's queue (<c>PlanWindow</c> rows), timed like the writes.</summary>
    private static async Task<(List<double> Ms, List<double> CpuMs)> QueueReadsAsync(OpenMintStorage store, Collection collection, int warmup, int runs, CancellationToken ct)
    {
        var (ms, cpuMs) = (new List<double>(), new List<double>());
        for (var run = 0; run < warmup + runs; run++)
        {
            var cpu = Cpu();
            var started = Stopwatch.GetTimestamp();
            var rows = (await store.Pipeline.ListQueuedAsync(collection.Id, QueueWindow, ct)).Count;
            if (run >= warmup)
            {
                ms.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                cpuMs.Add(Cpu() - cpu);
            }
            if (rows == 0)
            {
                throw new InvalidOperationException("no queued requests left to read");
            }
        }
        return (ms, cpuMs);
    }

    /// <summary>Wall time, and the process's CPU time (the store runs in this process; SQLite's work included) as a figure less bent by other load.</summary>
    private static void Print(string name, List<double> ms, List<double> cpuMs)
    {
        ms.Sort();
        Console.WriteLine($"  {name,-16} mean {ms.Average(),7:N2} ms   p50 {IntakeBench.Percentile(ms, 0.5),7:N2} ms   p99 {IntakeBench.Percentile(ms, 0.99),7:N2} ms   CPU mean {cpuMs.Average(),6:N2} ms");
    }

    private static double Cpu() => Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;

    /// <summary>A chain, a project, an ERC721 collection and <paramref name="count"/> pending by-quantity requests, as intake leaves them.</summary>
    private static async Task<(ChainConfig, Collection)> SeedAsync(OpenMintStorage store, int count, CancellationToken ct)
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var now = DateTimeOffset.UtcNow;
        var chain = new ChainConfig("bench-" + suffix, 1, ["http://127.0.0.1:1"], null, 0, now);
        await store.Tenancy.UpsertChainAsync(chain, ct);
        await store.Tenancy.CreateProjectAsync(new Project("p-" + suffix, "p", "0x" + new string('1', 40), 2000, 5, 30000, 1000, now), ct);
        var collection = await store.Tenancy.AddCollectionAsync(new Collection(0, chain.Name, "0x" + Guid.NewGuid().ToString("N") + "cccccccc", "p-" + suffix,
            CollectionKind.Erc721, PresetVariant.Erc721V2, null, true, now), ct);
        await store.Database.InTransactionAsync(async (c, tx) =>
        {
            for (var first = 0; first < count; first += 1000)
            {
                var rows = Enumerable.Range(first, Math.Min(1000, count - first)).Select(n => new
                {
                    collection = collection.Id, project = "p-" + suffix, reference = "r" + n.ToString(CultureInfo.InvariantCulture), owner = "0x" + new string('a', 40),
                    byQuantity = store.Database.Dialect.MigrationsFolder == "postgres" ? (object)true : 1, metadata = $"{{\"name\":\"asset {n}\",\"image\":\"https://example.test/{n}.png\"}}", now = Time.ToWire(now),
                });
                await c.ExecuteAsync(new CommandDefinition(
                    """
                    INSERT INTO mint_request (collection_id, project_id, reference_id, owner_address, by_quantity, metadata, status, created_at, updated_at)
                    VALUES (@collection, @project, @reference, @owner, @byQuantity, @metadata, 'pending', @now, @now)
                    """, rows, tx, cancellationToken: ct));
            }
        }, ct);
        return (chain, collection);
    }
}
