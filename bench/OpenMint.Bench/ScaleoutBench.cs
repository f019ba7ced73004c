using OpenMint.DevChain;
using OpenMint.TestSupport;
using OpenMint.TestSupport.ScaleOut;

namespace OpenMint.Bench;

/// <summary>
/// End-to-end scale-out: three <c>openmint serve</c> processes on one PostgreSQL database (the private server ./test
/// starts) and one Anvil with --block-time 1, the deployed pipeline settings (5 s lease), N single-asset mint requests
/// posted over all three, kill -9 of a lease holder twice (each restarted). The run checks every request, token, Transfer
/// log and nonce as <c>ScaleOutTests</c> does, and reports mints/s (first post -> every request succeeded) and the
/// takeover times (kill -> new holder, kill -> its first tx).
/// Options: --requests N (5000), --wallets N (1), --instances N (3), --kills N (2), --clients N (16), --rate requests/s (0: as fast as the clients go),
/// --backlog (hold the leases while posting, then time the pipeline alone draining the queue), --by-id (mint by id, not by quantity).
/// </summary>
internal static class ScaleoutBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var ct = CancellationToken.None;
        var postgres = new PostgresFixture();
        await postgres.InitializeAsync();
        try
        {
            Console.Error.WriteLine($"scaleout bench: starting Anvil --block-time 1; load {Load()}");
            await using var chain = await DevChain.DevChain.StartAsync(new AnvilOptions { BlockTimeSeconds = 1 }, null, ct);
            var result = await ScaleOutRun.RunAsync(new ScaleOutOptions
            {
                Chain = chain.Deployment,
                Database = postgres.ConnectionString,
                Requests = BenchArgs.Int(args, "--requests", 5000),
                Wallets = BenchArgs.Int(args, "--wallets", 1),
                Instances = BenchArgs.Int(args, "--instances", 3),
                Kills = BenchArgs.Int(args, "--kills", 2),
                Clients = BenchArgs.Int(args, "--clients", 16),
                RequestsPerSecond = BenchArgs.Int(args, "--rate", 0),
                Backlog = args.Contains("--backlog"),
                TokenIds = args.Contains("--by-id"),
                Settings = new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Warning" },
                SettleTimeout = TimeSpan.FromMinutes(15),
                Log = Console.Error.WriteLine,
            }, ct);
            foreach (var line in ScaleOutReport.Lines(result))
            {
                Console.WriteLine(line);
            }
            Console.WriteLine($"load average (1, 5, 15 min) at the end: {Load()}");
            return result.Problems.Count == 0 ? 0 : 1;
        }
        finally
        {
            await postgres.DisposeAsync();
        }
    }

    private static string Load() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
