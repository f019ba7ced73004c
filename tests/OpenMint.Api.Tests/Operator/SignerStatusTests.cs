using System.Numerics;
using System.Text.Json.Nodes;
using OpenMint.Api.Tests.Minting;
using OpenMint.Api.Tests.Pipeline;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Operator;

/// <summary><c>signer status</c> on a real Anvil after a real mint: balance, nonces chain vs store, in flight, mints affordable.</summary>
public sealed class SignerStatusTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    [Fact]
    public async Task signer_status_shows_the_minters_funds_and_nonces_chain_and_store_agreeing_after_a_mint()
    {
        var database = TempSqlite.NewDatabaseValue("signer-status");
        await using (var server = await PipelineServer.StartAsync(anvil.Deployment, database: database))
        {
            var run = Guid.NewGuid().ToString("N")[..8];
            await server.PostAsync("erc721", [PipelineServer.Asset(run, "0x1000000000000000000000000000000000000001")]);
            Assert.Equal("succeeded", (string?)(await server.WaitAsync("erc721", run))["status"]);
        }
        var (code, output, error) = await CliTests.RunAsync("signer", "status", "--chain", "anvil", "--database", database, "--json");
        Assert.True(code == 0, output + error);
        var status = Assert.Single(JsonNode.Parse(output)!.AsArray())!;
        Assert.Equal(anvil.Deployment.MinterAddress.ToLowerInvariant(), ((string?)status["signer"])?.ToLowerInvariant());
        Assert.True(BigInteger.Parse((string)status["balance_wei"]!) > 0);
        var latest = (long)status["nonce_latest"]!;
        Assert.True(latest >= 1);
        Assert.Equal(latest, (long)status["nonce_pending"]!);
        Assert.Equal(latest, (long)status["nonce_store"]!);
        Assert.Equal(0, (long)status["in_flight"]!);
        Assert.True(BigInteger.Parse((string)status["mints_affordable"]!) > 1000);

        var (_, text, _) = await CliTests.RunAsync("signer", "status", "--database", database);
        Assert.Contains("single-asset mints at current fees", text);
        Assert.Contains("unknown chain 'nowhere'", (string)JsonNode.Parse((await CliTests.RunAsync("signer", "status", "--chain", "nowhere", "--database", database, "--json")).Out)!["error"]!);
    }
}
