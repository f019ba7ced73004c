using System.Numerics;
using OpenMint.DevChain;
using OpenMint.TestSupport;

namespace OpenMint.Chain.Tests.OnAnvil;

/// <summary>The Anvil options and fault-injection helpers other tests rely on do reach the node.</summary>
public sealed class AnvilOptionsTests : IDisposable
{
    private readonly HttpClient _http = new();
    private readonly CancellationToken _ct = CancellationToken.None;

    [Fact]
    public async Task with_the_tx_gas_cap_enabled_a_transaction_above_16777216_gas_is_refused()
    {
        await using var chain = await DevChain.DevChain.StartAsync(new AnvilOptions { EnableTxGasLimit = true }, null, _ct);
        var eth = new EthClient(new JsonRpcClient(_http, chain.RpcUrl));
        var key = EthKey.FromHex(DevAccounts.Others[0].PrivateKey);
        var fee = (await eth.GetBlockAsync("latest", _ct))!.BaseFeePerGas!.Value * 2;
        var over = new Eip1559Transaction(chain.ChainId, 0, 1, fee, 16_777_217, DevAccounts.Others[1].Address, 1, []).Sign(key);
        var refused = await Assert.ThrowsAsync<JsonRpcException>(() => eth.SendRawTransactionAsync(over.Raw, _ct));
        Assert.Contains("tx_gas_limit_cap", refused.RpcMessage, StringComparison.Ordinal);
        var atCap = new Eip1559Transaction(chain.ChainId, 0, 1, fee, 16_777_216, DevAccounts.Others[1].Address, 1, []).Sign(key);
        Assert.Equal(atCap.Hash, await eth.SendRawTransactionAsync(atCap.Raw, _ct));
    }

    [Fact]
    public async Task with_automine_off_a_transaction_waits_for_a_mined_block_and_can_be_dropped()
    {
        await using var chain = await DevChain.DevChain.StartAsync(null, null, _ct);
        var eth = new EthClient(new JsonRpcClient(_http, chain.RpcUrl));
        await chain.Anvil.SetAutomineAsync(false, _ct);
        var key = EthKey.FromHex(DevAccounts.Others[0].PrivateKey);
        var fee = (await eth.GetBlockAsync("latest", _ct))!.BaseFeePerGas!.Value * 2;

        var first = new Eip1559Transaction(chain.ChainId, 0, 1, fee, 21_000, DevAccounts.Others[1].Address, 1, []).Sign(key);
        await eth.SendRawTransactionAsync(first.Raw, _ct);
        Assert.Null(await eth.GetTransactionReceiptAsync(first.Hash, _ct));
        await chain.Anvil.MineAsync(_ct);
        Assert.True((await eth.GetTransactionReceiptAsync(first.Hash, _ct))!.Success);

        var second = new Eip1559Transaction(chain.ChainId, 1, 1, fee, 21_000, DevAccounts.Others[1].Address, 1, []).Sign(key);
        await eth.SendRawTransactionAsync(second.Raw, _ct);
        await chain.Anvil.DropTransactionAsync(second.Hash, _ct);
        await chain.Anvil.MineAsync(_ct);
        Assert.Null(await eth.GetTransactionReceiptAsync(second.Hash, _ct));
        Assert.Null(await eth.GetTransactionByHashAsync(second.Hash, _ct));
        Assert.Equal(1, await eth.GetTransactionCountAsync(key.Address, "latest", _ct));
    }

    [Fact]
    public async Task the_chain_id_option_reaches_the_node_and_the_deployment()
    {
        await using var chain = await DevChain.DevChain.StartAsync(new AnvilOptions { ChainId = 13473 }, null, _ct);
        Assert.Equal(13473, await new EthClient(new JsonRpcClient(_http, chain.RpcUrl)).ChainIdAsync(_ct));
        Assert.Equal(13473, chain.Deployment.ChainId);
        Assert.Equal(new BigInteger(13473), new BigInteger(chain.Anvil.ChainId));
    }

    public void Dispose() => _http.Dispose();
}
