using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using Dapper;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Storage;
using OpenMint.TestSupport;
using Xunit.Abstractions;

namespace OpenMint.Api.Tests.Pipeline;

/// <summary>
/// Kills the real <c>openmint serve</c> process at every dangerous point (test hook OPENMINT_CRASH_AT:
/// Environment.FailFast right after signing, after broadcasting, after reading a receipt, inside the
/// reconciliation transaction) and with a plain SIGKILL mid-run, restarts it each time, and checks
/// that every request ends succeeded exactly once on chain. Written once, run on SQLite and on PostgreSQL (below).
/// </summary>
public abstract class CrashRecoveryTests(AnvilFixture anvil, ITestOutputHelper output)
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static readonly string[] Owners =
    [
        "0x5000000000000000000000000000000000000005", "0x6000000000000000000000000000000000000006", "0x7000000000000000000000000000000000000007",
    ];

    /// <summary>A fresh <c>--database</c> value of the backend under test.</summary>
    protected abstract Task<string> NewDatabaseAsync();

    [Fact]
    public async Task kill_9_at_any_point_and_restart_loses_nothing_and_mints_nothing_twice()
    {
        var db = await NewDatabaseAsync();
        var store = await OpenMintStorage.OpenAsync(db, Ct);
        var tenancy = await PipelineTenancy.CreateAsync(store, anvil.Deployment);
        var chain = (await store.Tenancy.GetChainAsync(PipelineTenancy.ChainName, Ct))!;
        var expected = new List<(string Collection, string Ref, string Owner, string? TokenId)>();
        var round = 0;

        async Task AddRequestsAsync()
        {
            round++;
            foreach (var name in new[] { "erc721", "erc721_mint_by_id" })
            {
                var collection = tenancy.Collections[name];
                var assets = new List<MintAsset>();
                for (var i = 0; i < 6; i++)
                {
                    var tokenId = name == "erc721_mint_by_id" ? (round * 1000 + i + 1).ToString(CultureInfo.InvariantCulture) : null;
                    assets.Add(new MintAsset($"r{round}-{name}-{i}", Owners[i % Owners.Length], tokenId, null, null));
                    expected.Add((name, $"r{round}-{name}-{i}", Owners[i % Owners.Length], tokenId));
                }
                Assert.IsType<MintIntakeOutcome.Accepted>(await store.Minting.AcceptMintRequestsAsync(new MintIntake(collection, chain, assets, 1_000_000, assets.Count), Ct));
            }
        }

        foreach (var point in CrashPoints.Known.Order(StringComparer.Ordinal))
        {
            await AddRequestsAsync();
            using var crashing = ServeProcess.Start(db, point);
            Assert.True(await crashing.WaitExitAsync(TimeSpan.FromSeconds(90)), $"the process did not crash at {point}: {crashing.Tail}");
            Assert.NotEqual(0, crashing.Process.ExitCode);
            output.WriteLine($"crashed at {point} (exit {crashing.Process.ExitCode})");
        }

        // A plain SIGKILL while the pipeline is busy.
        await AddRequestsAsync();
        using (var killed = ServeProcess.Start(db, null))
        {
            await Eventually.TrueAsync(async () => await ScalarAsync(store, "SELECT COUNT(*) FROM tx_attempt") >= 5,
                "five signed attempts before the kill", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(20));
            killed.Process.Kill(entireProcessTree: true);
            await killed.Process.WaitForExitAsync();
        }

        using (var final = ServeProcess.Start(db, null))
        {
            await Eventually.TrueAsync(async () =>
            {
                Assert.False(final.Process.HasExited, final.Tail);
                return await ScalarAsync(store, "SELECT COUNT(*) FROM mint_request WHERE status = 'pending'") == 0;
            }, "every request to leave pending after the restart", TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(100));
            final.Process.Kill(entireProcessTree: true);
            await final.Process.WaitForExitAsync();
        }

        using var rpc = new TestRpc(anvil.Deployment.RpcUrl);
        var seen = new HashSet<(string, string)>();
        foreach (var (name, reference, owner, tokenId) in expected)
        {
            var r = (await store.Minting.GetMintRequestAsync(tenancy.Collections[name].Id, reference, Ct))!;
            Assert.True(r.Status == MintStatus.Succeeded, $"{reference}: {r.Status} {r.ErrorMessage}");
            Assert.True(seen.Add((name, r.TokenId!)), $"token {r.TokenId} of {name} assigned twice");
            if (tokenId is not null)
            {
                Assert.Equal(tokenId, r.TokenId);
            }
            Assert.Equal(owner, await rpc.OwnerOfAsync(tenancy.Collections[name].Address, BigInteger.Parse(r.TokenId!, CultureInfo.InvariantCulture)));
        }
        // Exactly once: each owner holds exactly the tokens requested for it (a double mint would add more).
        foreach (var name in new[] { "erc721", "erc721_mint_by_id" })
        {
            foreach (var owner in Owners)
            {
                Assert.Equal(expected.Count(e => e.Collection == name && e.Owner == owner), (int)await rpc.BalanceOfAsync(tenancy.Collections[name].Address, owner));
            }
        }
        Assert.Equal(expected.Count, await ScalarAsync(store, "SELECT COUNT(*) FROM mint_event WHERE status = 'succeeded'"));
    }

    private static async Task<long> ScalarAsync(OpenMintStorage store, string sql)
    {
        await using var c = await store.Database.OpenConnectionAsync(Ct);
        return await c.ExecuteScalarAsync<long>(sql);
    }

}

public sealed class SqliteCrashRecoveryTests(AnvilFixture anvil, ITestOutputHelper output) : CrashRecoveryTests(anvil, output), IClassFixture<AnvilFixture>
{
    protected override Task<string> NewDatabaseAsync() => Task.FromResult(TempSqlite.NewDatabaseValue("crash"));
}

public sealed class PostgresCrashRecoveryTests(AnvilFixture anvil, PostgresFixture postgres, ITestOutputHelper output)
    : CrashRecoveryTests(anvil, output), IClassFixture<AnvilFixture>, IClassFixture<PostgresFixture>
{
    protected override Task<string> NewDatabaseAsync() => postgres.NewDatabaseAsync();
}
