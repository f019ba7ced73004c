using System.Text.Json.Nodes;
using OpenMint.Api.Tests.Minting;
using OpenMint.Api.Tests.Operator;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Pipeline;

/// <summary>
/// <c>chain update --low-balance</c> on a real Anvil: below it the wallet keeps minting, pending requests of the chain say
/// funds are low, <c>openmint_signer_low_balance</c> is 1 and <c>signer status</c> says LOW; above it all of that clears.
/// </summary>
public sealed class LowBalanceTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Pipeline:LowBalanceCheckInterval"] = "00:00:00.2",
        ["Telemetry:SampleInterval"] = "00:00:00.2",
    };

    private static async Task<JsonNode> OkAsync(string database, params string[] args)
    {
        var (code, output, error) = await CliTests.RunAsync([.. args, "--database", database, "--json"]);
        Assert.True(code == 0, $"openmint {string.Join(' ', args)} exited {code}: {output} {error}");
        return JsonNode.Parse(output)!;
    }

    private static Task<double> LowGaugeAsync(PipelineServer server, string signer) =>
        ScrapeLowAsync(server, signer);

    private static async Task<double> ScrapeLowAsync(PipelineServer server, string signer) =>
        (await HealthAndMetricsTests.ScrapeAsync(server))
            .Where(s => s.Name == "openmint_signer_low_balance" && s.Labels.GetValueOrDefault("chain") == "anvil"
                && string.Equals(s.Labels.GetValueOrDefault("signer"), signer, StringComparison.OrdinalIgnoreCase))
            .Select(s => s.Value).DefaultIfEmpty(-1).Max();

    [Fact]
    public async Task below_the_low_balance_pending_requests_say_funds_are_low_the_gauge_is_1_and_signer_status_says_low_until_it_is_lifted()
    {
        var db = TempSqlite.NewDatabaseValue("low-balance");
        PipelineTenancy tenancy;
        await using (var store = await Storage.OpenMintStorage.OpenAsync(db, CancellationToken.None))
        {
            tenancy = await PipelineTenancy.CreateAsync(store, anvil.Deployment);
        }
        Assert.Contains("--low-balance 'lots'", (string)JsonNode.Parse((await CliTests.RunAsync("chain", "update", "--name", "anvil", "--low-balance", "lots", "--database", db, "--json")).Out)!["error"]!);
        // More than any dev account holds (10,000 ETH).
        Assert.Equal("1000000000000000000000000000", (string?)(await OkAsync(db, "chain", "update", "--name", "anvil", "--low-balance", "1000000000000000000000000000"))["low_balance_wei"]);
        var minter = anvil.Deployment.MinterAddress;
        using var rpc = new TestRpc(anvil.RpcUrl.ToString());
        await using var server = await PipelineServer.StartAsync(anvil.Deployment, Settings, database: db, shared: tenancy);
        await rpc.CallAsync("evm_setAutomine", false);
        var run = Guid.NewGuid().ToString("N")[..8];
        try
        {
            await server.PostAsync("erc721", [PipelineServer.Asset(run, "0x1000000000000000000000000000000000000001")]);
            var pending = await Eventually.ValueAsync(() => server.GetAsync("erc721", run),
                r => ((string?)r["error"]?["message"])?.Contains("funds are low on chain anvil", StringComparison.Ordinal) == true, "the low-funds notice", TimeSpan.FromSeconds(60));
            Assert.Equal("pending", (string?)pending["status"]);
            Assert.Contains(minter.ToLowerInvariant(), ((string)pending["error"]!["message"]!).ToLowerInvariant());
            await Eventually.TrueAsync(async () => await LowGaugeAsync(server, minter) == 1, "openmint_signer_low_balance 1", TimeSpan.FromSeconds(30));
            var status = Assert.Single((await OkAsync(db, "signer", "status", "--chain", "anvil")).AsArray())!;
            Assert.True((bool)status["low_balance"]!);
            var (_, text, _) = await CliTests.RunAsync("signer", "status", "--chain", "anvil", "--database", db);
            Assert.Contains("LOW: the balance is below the chain's low balance of 1000000000000000000000000000 wei", text);
        }
        finally
        {
            await rpc.CallAsync("evm_setAutomine", true);
        }
        await rpc.CallAsync("evm_mine");
        Assert.Equal("succeeded", (string?)(await server.WaitAsync("erc721", run))["status"]);

        await OkAsync(db, "chain", "update", "--name", "anvil", "--low-balance", "1");
        await Eventually.TrueAsync(async () => await LowGaugeAsync(server, minter) == 0, "openmint_signer_low_balance 0", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(async () => await server.ScalarAsync("SELECT COUNT(*) FROM signer_lease WHERE paused_reason IS NOT NULL") == 0,
            "the low-funds notice to clear", TimeSpan.FromSeconds(30));
        await server.PostAsync("erc721", [PipelineServer.Asset(run + "-after", "0x1000000000000000000000000000000000000001")]);
        var after = await server.WaitAsync("erc721", run + "-after");
        Assert.Equal("succeeded", (string?)after["status"]);
        Assert.False((bool)Assert.Single((await OkAsync(db, "signer", "status", "--chain", "anvil")).AsArray())!["low_balance"]!);
        Assert.Equal(0, await server.ScalarAsync("SELECT COUNT(*) FROM mint_request WHERE error_message LIKE 'funds are low%'"));
    }
}
