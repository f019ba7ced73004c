using OpenMint.Chain;
using OpenMint.Core.Tenancy;
using OpenMint.DevChain;
using OpenMint.TestSupport;

namespace OpenMint.Api.Tests.Refresh;

/// <summary>
/// Without an override, a refresh reads the deployed preset's baseURI() through eth_call when it starts,
/// and reads it again for the next refresh after the owner calls setBaseURI (never cached).
/// </summary>
public sealed class RefreshOnChainTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>
{
    [Fact]
    public async Task a_refresh_fetches_from_the_contract_base_uri_read_when_it_starts()
    {
        await using var metadata = await MetadataTestServer.StartAsync();
        await using var host = await RefreshTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Refresh:AllowedEndpoints:0"] = $"127.0.0.1:{metadata.Port}",
            ["Refresh:PollInterval"] = "00:00:00.100",
        });
        await host.Store.Tenancy.UpsertChainAsync(new ChainConfig("anvil", anvil.Deployment.ChainId, [anvil.RpcUrl.ToString()], null, 0, DateTimeOffset.UtcNow), CancellationToken.None);
        var project = await host.AddProjectAsync();
        var preset = anvil.Deployment["erc721"];
        var collection = await host.AddCollectionAsync(project, baseUriOverride: null, address: preset.Address, chain: "anvil");
        await host.AddTokensAsync(collection, ["1", "2"]);

        await SetBaseUriAsync(preset.Address, metadata.Base + "ok/");
        var first = await host.CreateRefreshAsync(collection, ["1", "2"]);
        var status = await host.WaitCompletedAsync(first, 2);
        Assert.Equal(2, status.GetProperty("summary").GetProperty("succeeded").GetInt32());
        Assert.Contains("\"Token 1\"", (await host.ReadTokenAsync(collection, "1")).Metadata);
        Assert.Equal(1, metadata.Hits("/ok/2"));

        // The studio moves its metadata: the next refresh must use the new base.
        await SetBaseUriAsync(preset.Address, metadata.Base + "notfound/");
        var second = await host.CreateRefreshAsync(collection, ["1"]);
        await host.WaitCompletedAsync(second, 1);
        var error = Assert.Single(await host.AllErrorsAsync(second));
        Assert.Equal(metadata.Base + "notfound/1", error.GetProperty("client_token_metadata_url").GetString());
        Assert.Equal(404, error.GetProperty("client_response_status_code").GetInt32());
        Assert.Equal(1, metadata.Hits("/notfound/1"));
    }

    [Fact]
    public async Task a_collection_whose_contract_cannot_answer_fails_its_tokens_without_stalling()
    {
        await using var host = await RefreshTestHost.StartAsync(new Dictionary<string, string?> { ["Refresh:PollInterval"] = "00:00:00.100" });
        await host.Store.Tenancy.UpsertChainAsync(new ChainConfig("anvil", anvil.Deployment.ChainId, [anvil.RpcUrl.ToString()], null, 0, DateTimeOffset.UtcNow), CancellationToken.None);
        var project = await host.AddProjectAsync();
        // An address with no code: eth_call returns empty data, which is not a string.
        var collection = await host.AddCollectionAsync(project, baseUriOverride: null, address: "0x00000000000000000000000000000000000c0de0", chain: "anvil");
        await host.AddTokensAsync(collection, ["1", "2"]);
        var id = await host.CreateRefreshAsync(collection, ["1", "2"]);
        var status = await host.WaitCompletedAsync(id, 2);
        Assert.Equal(2, status.GetProperty("summary").GetProperty("failed").GetInt32());
        Assert.All(await host.AllErrorsAsync(id), e =>
        {
            Assert.Equal("unable_to_retrieve_metadata", e.GetProperty("error_code").GetString());
            Assert.Contains("baseURI()", e.GetProperty("client_response_body").GetString());
        });
    }

    private async Task SetBaseUriAsync(string contract, string baseUri)
    {
        using var http = new HttpClient();
        var rpc = new JsonRpcClient(http, anvil.RpcUrl);
        var data = Hex.Encode(Abi.EncodeCall("setBaseURI(string)", baseUri));
        // The dev owner account is unlocked on Anvil; automine includes the transaction at once.
        var hash = (await rpc.CallAsync("eth_sendTransaction", [new { from = anvil.Deployment.OwnerAddress, to = contract, data }], CancellationToken.None)).GetString()!;
        await rpc.CallAsync("evm_mine", [], CancellationToken.None);
        var receipt = await rpc.CallAsync("eth_getTransactionReceipt", [hash], CancellationToken.None);
        Assert.Equal("0x1", receipt.GetProperty("status").GetString());
        var read = await new EthClient(rpc).CallAsync(new CallRequest(null, contract, Abi.EncodeCall("baseURI()")), "latest", CancellationToken.None);
        Assert.Equal(baseUri, (string?)Abi.Decode(["string"], read)[0]);
    }
}
