using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenMint.Api;
using OpenMint.Storage;

namespace OpenMint.Bench;

/// <summary>
/// <c>intake --database &lt;PostgreSQL connection string or postgres:// URL&gt; [--instances 1|3]</c>: assets accepted per second
/// by 1 and by 3 OpenMint hosts (in-process, each with its own store and connection pool, workers off) on one PostgreSQL,
/// clients spread round-robin over the hosts, 100-asset requests; then, in the same run and on the same database, a bare
/// loop of 100-row multi-row INSERT + COMMIT into mint_request (one connection) as the ratio base. The bench creates a
/// fresh database on that server and drops it afterwards. Options: --clients N (16), --seconds S (10), --warmup S (2).
/// </summary>
internal static class IntakePostgresBench
{
    public static async Task<int> RunAsync(string server, string[] args)
    {
        var clients = BenchArgs.Int(args, "--clients", 16);
        var seconds = BenchArgs.Int(args, "--seconds", 10);
        var warmup = BenchArgs.Int(args, "--warmup", 2);
        var only = BenchArgs.Int(args, "--instances", 0);
        var ct = CancellationToken.None;
        var admin = ServerConnection(server);
        var name = $"openmint_intake_bench_{Guid.NewGuid():N}";
        await using (var c = new NpgsqlConnection(admin.ConnectionString))
        {
            await c.OpenAsync(ct);
            await new NpgsqlCommand($"CREATE DATABASE {name}", c).ExecuteNonQueryAsync(ct);
        }
        var connectionString = new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = name }.ToString();
        try
        {
            var store = await OpenMintStorage.OpenAsync(connectionString, ct);
            var (_, key, address) = await IntakeBench.TenancyAsync(store, ct);
            var url = $"/v1/chains/bench/collections/{address}/nfts/mint-requests";
            var results = new List<(int Instances, IntakeBench.ClientRun Run)>();
            long firstToken = 0;
            foreach (var instances in only > 0 ? [only] : new[] { 1, 3 })
            {
                var run = await RunInstancesAsync(connectionString, instances, key, url, clients, warmup, seconds, firstToken);
                firstToken += 1_000_000_000;
                results.Add((instances, run));
            }
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var bare = await IntakeBench.BareInsertLoopAsync(store.Database, seconds, ct);
            var bareCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            await store.DisposeAsync();

            Console.WriteLine($"intake on PostgreSQL: {clients} clients, 100 assets per request, {seconds}s measured after {warmup}s warm-up, {Environment.ProcessorCount} cores (PostgreSQL on the same machine), load average {IntakeSmallBench.LoadAverage():F1} at the end");
            foreach (var (instances, run) in results)
            {
                Console.WriteLine($"  {instances} instance{(instances == 1 ? " " : "s")}      {run.Rate,10:N0} assets/s   ({run.Rate / bare,4:P0} of bare; p50 {IntakeBench.Percentile(run.Latencies, 0.5):N1} ms, p99 {IntakeBench.Percentile(run.Latencies, 0.99):N1} ms, {run.Failures} non-202; {run.CpuSeconds / run.Seconds:F2} cores busy in this process)");
            }
            if (results.Count == 2)
            {
                Console.WriteLine($"  3 instances / 1   {results[1].Run.Rate / results[0].Run.Rate,9:F2}x");
            }
            Console.WriteLine($"  bare INSERT loop {bare,10:N0} rows/s     (100-row multi-row INSERT + COMMIT per transaction, one connection; {bareCpu / seconds:F2} cores busy in this process)");
            return results.All(r => r.Run.Failures == 0) ? 0 : 1;
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var c = new NpgsqlConnection(admin.ConnectionString);
            await c.OpenAsync(ct);
            await new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", c).ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>A connection string for <c>Host=...</c> or <c>postgres://user:password@host:port/database</c>.</summary>
    private static NpgsqlConnectionStringBuilder ServerConnection(string server)
    {
        if (!server.StartsWith("postgres", StringComparison.OrdinalIgnoreCase) || !server.Contains("://", StringComparison.Ordinal))
        {
            return new NpgsqlConnectionStringBuilder(server);
        }
        var uri = new Uri(server);
        var user = uri.UserInfo.Split(':', 2);
        return new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Username = Uri.UnescapeDataString(user[0]),
            Password = user.Length > 1 ? Uri.UnescapeDataString(user[1]) : null,
            Database = uri.AbsolutePath.Trim('/') is { Length: > 0 } db ? db : "postgres",
        };
    }

    /// <summary>N hosts on the same database, the clients spread round-robin over them.</summary>
    private static async Task<IntakeBench.ClientRun> RunInstancesAsync(string connectionString, int instances, string key, string url,
        int clients, int warmup, int seconds, long firstToken)
    {
        var apps = new List<WebApplication>();
        var urls = new List<string>();
        try
        {
            for (var i = 0; i < instances; i++)
            {
                var app = await OpenMintServer.BuildAsync(new ServerOptions(connectionString, "http://127.0.0.1:0",
                    new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" }, RunWorkers: false), CancellationToken.None);
                await app.StartAsync();
                apps.Add(app);
                urls.Add(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + url);
            }
            long turn = 0;
            using var any = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2 });
            any.DefaultRequestHeaders.Add("x-immutable-api-key", key);
            return await IntakeBench.RunClientsAsync(any, clients, warmup, seconds, firstToken, 100,
                (body, first) => (urls[(int)(Interlocked.Increment(ref turn) % urls.Count)], IntakeBench.WriteBody(body, first)));
        }
        finally
        {
            foreach (var app in apps)
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }
    }
}
