using System.Numerics;
using System.Text.Json;

namespace OpenMint.Chain.Tests;

public sealed class EthClientTests
{
    private const string TxHash = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060";
    private const string Contract = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
    private const string Sender = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";

    private static readonly Dictionary<string, string> Answers = new()
    {
        ["eth_chainId"] = "\"0x7a69\"",
        ["eth_blockNumber"] = "\"0x1b4\"",
        ["eth_getTransactionCount"] = "\"0x0a\"",
        ["eth_getBalance"] = "\"0x21e19e0c9bab2400000\"",
        ["eth_gasPrice"] = "\"0x3b9aca00\"",
        ["eth_maxPriorityFeePerGas"] = "\"0x77359400\"",
        ["eth_estimateGas"] = "\"0x5208\"",
        ["eth_call"] = "\"0x000000000000000000000000000000000000000000000000000000000000002a\"",
        ["eth_sendRawTransaction"] = "\"" + TxHash.ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal) + "\"",
        ["eth_getCode"] = "\"0x6080\"",
        ["eth_getTransactionByHash"] = "null",
        ["eth_getBlockByNumber"] = """
            {"number":"0x1b4","hash":"0xDC0818CF78F21A8E70579CB46A43643F78291264DDA342AE31049421C82D21AE","timestamp":"0x6553f100",
             "gasLimit":"0x1c9c380","gasUsed":"0x5208","baseFeePerGas":"0x3b9aca00","transactions":["0x01","0x02"]}
            """,
        ["eth_getTransactionReceipt"] = $$"""
            {"transactionHash":"{{TxHash}}","blockNumber":"0x2","blockHash":"0xaa","status":"0x1","gasUsed":"0xe3a8",
             "effectiveGasPrice":"0x3b9aca07","from":"0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266","to":"{{Contract}}","contractAddress":null,
             "logs":[{"address":"{{Contract}}","topics":["0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
               "0x0000000000000000000000000000000000000000000000000000000000000000",
               "0x00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8",
               "0x0000000000000000000000000000000000000000000000000000000000000007"],
               "data":"0x","logIndex":"0x0","transactionHash":"{{TxHash}}","blockNumber":"0x2"}]}
            """,
    };

    private static Dictionary<string, JsonElement> SentParams(FakeNode node) =>
        node.Requests.Select(r => JsonDocument.Parse(r).RootElement)
            .GroupBy(r => r.GetProperty("method").GetString()!)
            .ToDictionary(g => g.Key, g => g.Last().GetProperty("params"));

    [Fact]
    public async Task typed_wrappers_parse_hex_quantities_and_normalise_case()
    {
        await using var node = await FakeNode.StartWithResultsAsync(Answers);
        var eth = new EthClient(node.Client());
        var ct = CancellationToken.None;

        Assert.Equal(31337, await eth.ChainIdAsync(ct));
        Assert.Equal(436, await eth.BlockNumberAsync(ct));
        Assert.Equal(10, await eth.GetTransactionCountAsync(Sender, "pending", ct));
        Assert.Equal(BigInteger.Parse("10000000000000000000000", System.Globalization.CultureInfo.InvariantCulture), await eth.GetBalanceAsync(Sender, ct));
        Assert.Equal(new BigInteger(1_000_000_000), await eth.GasPriceAsync(ct));
        Assert.Equal(new BigInteger(2_000_000_000), await eth.MaxPriorityFeePerGasAsync(ct));
        Assert.Equal(21000, await eth.EstimateGasAsync(new CallRequest(Sender, Contract, [0x01, 0x02], Value: 5), ct));
        var returned = await eth.CallAsync(new CallRequest(null, Contract, Abi.Selector("totalSupply()")), "latest", ct);
        Assert.Equal(new BigInteger(42), Abi.Decode(["uint256"], returned)[0]);
        Assert.Equal(TxHash, await eth.SendRawTransactionAsync([0x02, 0xc0], ct));
        Assert.Equal(new byte[] { 0x60, 0x80 }, await eth.GetCodeAsync(Contract, "latest", ct));
        Assert.Null(await eth.GetTransactionByHashAsync(TxHash, ct));

        var block = await eth.GetBlockAsync("latest", ct);
        Assert.NotNull(block);
        Assert.Equal(436, block.Number);
        Assert.Equal("0xdc0818cf78f21a8e70579cb46a43643f78291264dda342ae31049421c82d21ae", block.Hash);
        Assert.Equal(0x6553f100, block.Timestamp);
        Assert.Equal(30_000_000, block.GasLimit);
        Assert.Equal(new BigInteger(1_000_000_000), block.BaseFeePerGas);
        Assert.Equal(2, block.TransactionCount);

        var receipt = await eth.GetTransactionReceiptAsync(TxHash, ct);
        Assert.NotNull(receipt);
        Assert.True(receipt.Success);
        Assert.Equal(2, receipt.BlockNumber);
        Assert.Equal(0xe3a8, receipt.GasUsed);
        Assert.Equal(new BigInteger(1_000_000_007), receipt.EffectiveGasPrice);
        Assert.Equal(Sender, receipt.From);
        Assert.Equal(Contract, receipt.To);
        Assert.Null(receipt.ContractAddress);
        var log = Assert.Single(receipt.Logs);
        Assert.Equal(0, log.LogIndex);
        Assert.True(Erc721Events.TryDecodeTransfer(log, out var from, out var to, out var tokenId));
        Assert.Equal((EthAddress.Zero, "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", new BigInteger(7)), (from, to, tokenId));

        var sent = SentParams(node);
        Assert.Equal($"[\"{Sender}\",\"pending\"]", sent["eth_getTransactionCount"].GetRawText());
        Assert.Equal($"[{{\"from\":\"{Sender}\",\"to\":\"{Contract}\",\"data\":\"0x0102\",\"value\":\"0x5\"}}]", sent["eth_estimateGas"].GetRawText());
        Assert.Equal($"[{{\"to\":\"{Contract}\",\"data\":\"0x18160ddd\"}},\"latest\"]", sent["eth_call"].GetRawText());
        Assert.Equal("[\"0x02c0\"]", sent["eth_sendRawTransaction"].GetRawText());
        Assert.Equal("[\"latest\",false]", sent["eth_getBlockByNumber"].GetRawText());
    }

    [Fact]
    public async Task missing_blocks_and_pending_receipts_are_null()
    {
        await using var node = await FakeNode.StartWithResultsAsync(new Dictionary<string, string>
        {
            ["eth_getBlockByNumber"] = "null",
            ["eth_getTransactionReceipt"] = "null",
        });
        var eth = new EthClient(node.Client());
        Assert.Null(await eth.GetBlockAsync(1_000_000, CancellationToken.None));
        Assert.Null(await eth.GetTransactionReceiptAsync(TxHash, CancellationToken.None));
        Assert.Equal("[\"0xf4240\",false]", SentParams(node)["eth_getBlockByNumber"].GetRawText());
    }

    [Fact]
    public async Task a_failed_receipt_has_success_false_and_a_created_contract_is_reported()
    {
        await using var node = await FakeNode.StartWithResultsAsync(new Dictionary<string, string>
        {
            ["eth_getTransactionReceipt"] = $$"""
                {"transactionHash":"{{TxHash}}","blockNumber":"0x3","blockHash":"0xbb","status":"0x0","gasUsed":"0x1",
                 "from":"{{Sender}}","to":null,"contractAddress":"{{Contract}}","logs":[]}
                """,
        });
        var receipt = await new EthClient(node.Client()).GetTransactionReceiptAsync(TxHash, CancellationToken.None);
        Assert.NotNull(receipt);
        Assert.False(receipt.Success);
        Assert.Null(receipt.To);
        Assert.Equal(Contract, receipt.ContractAddress);
        Assert.Equal(BigInteger.Zero, receipt.EffectiveGasPrice);
        Assert.Empty(receipt.Logs);
    }

    [Fact]
    public async Task a_revert_in_estimate_gas_surfaces_code_3_and_decodable_data()
    {
        await using var node = await FakeNode.StartAsync((ctx, body) =>
        {
            var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetRawText();
            return FakeNode.WriteJsonAsync(ctx, "{\"jsonrpc\":\"2.0\",\"id\":" + id
                + ",\"error\":{\"code\":3,\"message\":\"execution reverted\",\"data\":\"0xb73c99f5000000000000000000000000000000000000000000000000000000000000007b\"}}");
        });
        var error = await Assert.ThrowsAsync<JsonRpcException>(() =>
            new EthClient(node.Client()).EstimateGasAsync(new CallRequest(Sender, Contract, [0x01]), CancellationToken.None));
        Assert.Equal(3, error.Code);
        Assert.Equal("IImmutableERC721IDAboveThreshold(123)", error.RevertReasonText);
    }

    [Fact]
    public async Task a_malformed_quantity_is_a_transport_failure()
    {
        await using var node = await FakeNode.StartWithResultsAsync(new Dictionary<string, string> { ["eth_chainId"] = "\"banana\"" });
        await Assert.ThrowsAsync<RpcTransportException>(() => new EthClient(node.Client()).ChainIdAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("latest", "latest")]
    [InlineData("pending", "pending")]
    [InlineData("0x00ff", "0xff")]
    [InlineData("255", "0xff")]
    [InlineData("0", "0x0")]
    public void block_tags_pass_through_and_numbers_become_quantities(string input, string expected)
    {
        Assert.Equal(expected, EthClient.BlockTag(input));
    }

    [Fact]
    public void unknown_block_tags_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => EthClient.BlockTag("newest"));
    }
}
