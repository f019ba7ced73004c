using OpenMint.DevChain;
using OpenMint.TestSupport;
using OpenMint.TestSupport.ScaleOut;
using Xunit.Abstractions;

namespace OpenMint.Api.Tests.Pipeline;

/// <summary>An Anvil that mines a block every second, as in the scale-out proof.</summary>
public sealed class OneSecondBlocksAnvilFixture : AnvilFixture
{
    protected override AnvilOptions Options => new() { BlockTimeSeconds = 1 };
}

/// <summary>
/// The scale-out proof (docs/transactions.md, "Several instances"): three <c>openmint serve</c> processes on one
/// PostgreSQL database and one Anvil at --block-time 1, the chain's minter wallets set up with the CLI, single-asset
/// mint requests posted over all three, and the holder of a wallet's lease killed with SIGKILL (then restarted)
/// twice while they flow. The same run at 5,000 requests is <c>bench -- scaleout</c> (BENCHMARKS.md, "Scale-out").
/// </summary>
public sealed class ScaleOutTests(OneSecondBlocksAnvilFixture anvil, PostgresFixture postgres, ITestOutputHelper output)
    : IClassFixture<OneSecondBlocksAnvilFixture>, IClassFixture<PostgresFixture>
{
    private const int Wallets = 2;

    [Fact]
    public async Task three_instances_mint_every_request_exactly_once_while_lease_holders_are_killed()
    {
        var result = await ScaleOutRun.RunAsync(new ScaleOutOptions
        {
            Chain = anvil.Deployment,
            Database = await postgres.NewDatabaseAsync(),
            Requests = 600,
            Wallets = Wallets,
            Kills = 2,
            // Posting lasts ~40 s, so both kills land while requests keep coming: on a loaded machine the first takeover
            // and the restart take 10-15 s before the second kill, whose new holder must still have requests to send.
            RequestsPerSecond = 15,
            Settings = new Dictionary<string, string?>
            {
                ["Pipeline:PollInterval"] = "00:00:00.1",
                ["Pipeline:LeaseDuration"] = "00:00:03",
                ["Pipeline:RebroadcastInterval"] = "00:00:00.5",
                ["Logging:LogLevel:Default"] = "Warning",
            },
            SettleTimeout = TimeSpan.FromMinutes(3),
            Log = output.WriteLine,
        }, CancellationToken.None);

        foreach (var line in ScaleOutReport.Lines(result))
        {
            output.WriteLine(line);
        }
        Assert.True(result.Problems.Count == 0, string.Join("\n", result.Problems));
        Assert.Equal(2, result.Takeovers.Count);
        Assert.All(result.Takeovers, t => Assert.NotEqual(t.KilledOwner, t.NewOwner));
        Assert.All(result.Takeovers, t => Assert.NotNull(t.ToFirstTx));
        Assert.True(result.TxsPerWallet.Count == Wallets, $"{result.TxsPerWallet.Count} wallets, expected {Wallets}");
        Assert.All(result.TxsPerWallet, w => Assert.True(w.Value > 0, $"wallet {w.Key} sent no tx"));
    }
}
