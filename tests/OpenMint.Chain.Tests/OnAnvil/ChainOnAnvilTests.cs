using System.Numerics;
using System.Text.Json;
using OpenMint.DevChain;
using OpenMint.TestSupport;

namespace OpenMint.Chain.Tests.OnAnvil;

/// <summary>The Chain layer against a real node: our signing, hashing, ABI encoding, log and revert decoding as Anvil sees them.</summary>
public sealed class ChainOnAnvilTests(AnvilFixture anvil) : IClassFixture<AnvilFixture>, IDisposable
{
    private static readonly BigInteger Gwei = 1_000_000_000;
    private const string Zero = "0x0000000000000000000000000000000000000000";
    private readonly HttpClient _http = new();
    private readonly CancellationToken _ct = CancellationToken.None;

    private EthClient Eth => new(new JsonRpcClient(_http, anvil.RpcUrl));
    private static EthKey Minter => EthKey.FromHex(DevAccounts.MinterPrivateKey);
    private static string Recipient(int i) => DevAccounts.Others[i].Address;

    [Fact]
    public void the_dev_account_keys_derive_the_dev_addresses()
    {
        Assert.Equal(DevAccounts.OwnerAddress, EthKey.FromHex(DevAccounts.OwnerPrivateKey).Address);
        Assert.Equal(DevAccounts.MinterAddress, Minter.Address);
        foreach (var (address, key) in DevAccounts.Others)
        {
            Assert.Equal(address, EthKey.FromHex(key).Address);
        }
    }

    [Fact]
    public async Task our_signed_eip1559_transaction_is_accepted_and_our_hash_is_the_nodes()
    {
        var key = EthKey.FromHex(DevAccounts.Others[1].PrivateKey);
        var before = await Eth.GetBalanceAsync(Recipient(2), _ct);
        var receipt = await SendAsync(key, Recipient(2), [], value: 12345);
        Assert.Equal(before + 12345, await Eth.GetBalanceAsync(Recipient(2), _ct));

        var tx = (await Eth.GetTransactionByHashAsync(receipt.TransactionHash, _ct))!.Value;
        Assert.Equal("0x2", tx.GetProperty("type").GetString());
        Assert.Equal(key.Address, tx.GetProperty("from").GetString());
        Assert.Equal(receipt.TransactionHash, tx.GetProperty("hash").GetString());
        Assert.Equal(key.Address, receipt.From);
    }

    [Fact]
    public async Task our_signed_legacy_eip155_transaction_is_accepted_and_our_hash_is_the_nodes()
    {
        var key = EthKey.FromHex(DevAccounts.Others[2].PrivateKey);
        var chainId = await Eth.ChainIdAsync(_ct);
        var nonce = await Eth.GetTransactionCountAsync(key.Address, "pending", _ct);
        var gasPrice = await Eth.GasPriceAsync(_ct) * 2;
        var signed = new LegacyTransaction(chainId, nonce, gasPrice, 21_000, Recipient(0), 777, []).Sign(key);
        var hash = await Eth.SendRawTransactionAsync(signed.Raw, _ct);
        Assert.Equal(signed.Hash, hash);
        var receipt = await ReceiptAsync(hash);
        Assert.True(receipt.Success);

        var tx = (await Eth.GetTransactionByHashAsync(hash, _ct))!.Value;
        Assert.Equal("0x0", tx.GetProperty("type").GetString());
        Assert.Equal(key.Address, tx.GetProperty("from").GetString());
        var v = ParseQuantity(tx.GetProperty("v").GetString()!);
        Assert.True(v == (chainId * 2) + 35 || v == (chainId * 2) + 36, "EIP-155 v carries the chain id");
    }

    [Fact]
    public async Task a_preset_deployed_by_our_signed_transaction_lands_at_the_create_address_we_compute()
    {
        var key = EthKey.FromHex(DevAccounts.Others[0].PrivateKey);
        var nonce = await Eth.GetTransactionCountAsync(key.Address, "pending", _ct);
        var artifacts = PresetArtifacts.Load();
        byte[] data = [.. artifacts["ImmutableERC721V2"].Bytecode, .. Abi.Encode(
            ["address", "string", "string", "string", "string", "address", "address", "uint96"],
            [key.Address, "Signed deploy", "SD", "https://metadata.invalid/sd/", "https://metadata.invalid/sd.json", anvil.Deployment.OperatorAllowlist, key.Address, BigInteger.Zero])];
        var receipt = await SendAsync(key, null, data);

        var expected = Hex.Encode(Keccak.Hash(Rlp.EncodeList(Rlp.EncodeBytes(Hex.Decode(key.Address)), Rlp.EncodeInteger(nonce))).AsSpan(12));
        Assert.Equal(expected, receipt.ContractAddress);
        Assert.NotEmpty(await Eth.GetCodeAsync(expected, "latest", _ct));
        var name = await CallAsync(expected, Abi.EncodeCall("name()"), "string");
        Assert.Equal("Signed deploy", name);
    }

    [Theory]
    [InlineData("erc721")]
    [InlineData("erc721_v1")]
    public async Task mint_batch_by_quantity_with_our_signed_transaction_mints_the_ids_the_logs_report(string collection)
    {
        var address = anvil.Deployment[collection].Address;
        var mints = new object?[] { new object?[] { Recipient(0), new BigInteger(3) }, new object?[] { Recipient(1), new BigInteger(2) } };
        var receipt = await SendAsync(Minter, address, Abi.EncodeCall("mintBatchByQuantity((address,uint256)[])", (object)mints));

        var transfers = Transfers(receipt);
        Assert.Equal(5, transfers.Count);
        Assert.All(transfers, t => Assert.Equal(Zero, t.From));
        Assert.Equal([Recipient(0), Recipient(0), Recipient(0), Recipient(1), Recipient(1)], transfers.Select(t => t.To));
        Assert.Equal(5, transfers.Select(t => t.Id).Distinct().Count());
        foreach (var t in transfers)
        {
            Assert.Equal(t.To, await CallAsync(address, Abi.EncodeCall("ownerOf(uint256)", t.Id), "address"));
        }
        Assert.Equal(new BigInteger(3), await CallAsync(address, Abi.EncodeCall("balanceOf(address)", Recipient(0)), "uint256"));
        await LogsEqualWhatTheNodeReportsAsync(receipt);
    }

    [Fact]
    public async Task mint_batch_by_id_with_our_signed_transaction_mints_exactly_the_requested_ids()
    {
        var address = anvil.Deployment["erc721_mint_by_id"].Address;
        var mints = new object?[]
        {
            new object?[] { Recipient(0), new object?[] { new BigInteger(1), new BigInteger(2), new BigInteger(3) } },
            new object?[] { Recipient(1), new object?[] { new BigInteger(1000) } },
        };
        var receipt = await SendAsync(Minter, address, Abi.EncodeCall("mintBatch((address,uint256[])[])", (object)mints));

        var transfers = Transfers(receipt);
        Assert.Equal([1, 2, 3, 1000], transfers.Select(t => (int)t.Id));
        Assert.Equal([Recipient(0), Recipient(0), Recipient(0), Recipient(1)], transfers.Select(t => t.To));
        Assert.Equal(Recipient(1), await CallAsync(address, Abi.EncodeCall("ownerOf(uint256)", new BigInteger(1000)), "address"));
        await LogsEqualWhatTheNodeReportsAsync(receipt);
    }

    [Fact]
    public async Task erc1155_safe_mint_batch_with_our_signed_transaction_emits_one_transfer_batch()
    {
        var address = anvil.Deployment["erc1155"].Address;
        var ids = new object?[] { new BigInteger(7), new BigInteger(8) };
        var values = new object?[] { new BigInteger(5), new BigInteger(1) };
        var receipt = await SendAsync(Minter, address, Abi.EncodeCall("safeMintBatch(address,uint256[],uint256[],bytes)", Recipient(2), ids, values, Array.Empty<byte>()));

        var batch = Assert.Single(receipt.Logs, l => Erc1155Events.TryDecodeTransferBatch(l, out _, out _, out _, out _, out _));
        Assert.True(Erc1155Events.TryDecodeTransferBatch(batch, out var op, out var from, out var to, out var mintedIds, out var amounts));
        Assert.Equal(Minter.Address, op);
        Assert.Equal(Zero, from);
        Assert.Equal(Recipient(2), to);
        Assert.Equal([7, 8], mintedIds.Select(i => (int)i));
        Assert.Equal([5, 1], amounts.Select(i => (int)i));
        Assert.Equal(new BigInteger(5), await CallAsync(address, Abi.EncodeCall("balanceOf(address,uint256)", Recipient(2), new BigInteger(7)), "uint256"));
        await LogsEqualWhatTheNodeReportsAsync(receipt);
    }

    [Fact]
    public async Task estimating_a_mint_without_minter_role_reverts_with_the_access_control_message()
    {
        var address = anvil.Deployment["erc721_no_minter_role"].Address;
        var mints = new object?[] { new object?[] { Recipient(0), BigInteger.One } };
        var call = new CallRequest(Minter.Address, address, Abi.EncodeCall("mintBatchByQuantity((address,uint256)[])", (object)mints));

        var estimate = await Assert.ThrowsAsync<JsonRpcException>(() => Eth.EstimateGasAsync(call, _ct));
        Assert.Equal(3, estimate.Code);
        Assert.Equal(
            "AccessControl: account 0x70997970c51812dc3a010c7d01b50e0d17dc79c8 is missing role 0x4d494e5445525f524f4c45000000000000000000000000000000000000000000",
            RevertReason.Decode(Hex.Decode(estimate.DataHex!)));
        var viaCall = await Assert.ThrowsAsync<JsonRpcException>(() => Eth.CallAsync(call, "latest", _ct));
        Assert.Equal(estimate.DataHex, viaCall.DataHex);
    }

    private sealed record Transfer(string From, string To, BigInteger Id);

    private static List<Transfer> Transfers(TransactionReceipt receipt) =>
        [.. receipt.Logs.Select(l => Erc721Events.TryDecodeTransfer(l, out var f, out var t, out var id) ? new Transfer(f, t, id) : null).OfType<Transfer>()];

    /// <summary>The receipt's logs, as the Chain layer parsed them, equal eth_getLogs read raw from the node.</summary>
    private async Task LogsEqualWhatTheNodeReportsAsync(TransactionReceipt receipt)
    {
        var block = "0x" + receipt.BlockNumber.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        var raw = await RawRpc.CallAsync(anvil.RpcUrl, "eth_getLogs", new { fromBlock = block, toBlock = block });
        var nodeLogs = raw.EnumerateArray().Where(l => l.GetProperty("transactionHash").GetString() == receipt.TransactionHash).ToList();
        Assert.Equal(nodeLogs.Count, receipt.Logs.Count);
        for (var i = 0; i < nodeLogs.Count; i++)
        {
            var node = nodeLogs[i];
            var ours = receipt.Logs[i];
            Assert.Equal(node.GetProperty("address").GetString()!.ToLowerInvariant(), ours.Address);
            Assert.Equal(node.GetProperty("topics").EnumerateArray().Select(t => t.GetString()!.ToLowerInvariant()), ours.Topics.Select(t => t.ToLowerInvariant()));
            Assert.Equal(node.GetProperty("data").GetString()!.ToLowerInvariant(), ours.Data.ToLowerInvariant());
            Assert.Equal(ParseQuantity(node.GetProperty("logIndex").GetString()!), ours.LogIndex);
            Assert.Equal(receipt.BlockNumber, ours.BlockNumber);
        }
        var viaClient = await Eth.GetLogsAsync(receipt.Logs[0].Address, receipt.BlockNumber, receipt.BlockNumber, null, _ct);
        Assert.Equal(receipt.Logs.Where(l => l.Address == receipt.Logs[0].Address), viaClient.Where(l => l.TransactionHash == receipt.TransactionHash), LogComparer.Instance);
    }

    private async Task<TransactionReceipt> SendAsync(EthKey key, string? to, byte[] data, long value = 0)
    {
        var chainId = await Eth.ChainIdAsync(_ct);
        var nonce = await Eth.GetTransactionCountAsync(key.Address, "pending", _ct);
        var gas = await Eth.EstimateGasAsync(new CallRequest(key.Address, to, data, value), _ct);
        var baseFee = (await Eth.GetBlockAsync("latest", _ct))!.BaseFeePerGas ?? Gwei;
        var signed = new Eip1559Transaction(chainId, nonce, Gwei, (baseFee * 2) + Gwei, gas + (gas / 5), to, value, data).Sign(key);
        var hash = await Eth.SendRawTransactionAsync(signed.Raw, _ct);
        Assert.Equal(signed.Hash, hash);
        var receipt = await ReceiptAsync(hash);
        Assert.True(receipt.Success, "transaction reverted: " + hash);
        return receipt;
    }

    private async Task<TransactionReceipt> ReceiptAsync(string hash)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await Eth.GetTransactionReceiptAsync(hash, _ct) is { } receipt)
            {
                return receipt;
            }
            await Task.Delay(50, _ct);
        }
        throw new TimeoutException("no receipt for " + hash);
    }

    private async Task<object?> CallAsync(string to, byte[] data, string returnType) =>
        Abi.Decode([returnType], await Eth.CallAsync(new CallRequest(null, to, data), "latest", _ct))[0];

    private static long ParseQuantity(string hex) => long.Parse(hex.AsSpan(2), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose() => _http.Dispose();

    private sealed class LogComparer : IEqualityComparer<LogEntry>
    {
        public static readonly LogComparer Instance = new();

        public bool Equals(LogEntry? x, LogEntry? y) =>
            x is not null && y is not null && x.Address == y.Address && x.Topics.SequenceEqual(y.Topics) && x.Data == y.Data
            && x.LogIndex == y.LogIndex && x.TransactionHash == y.TransactionHash && x.BlockNumber == y.BlockNumber;

        public int GetHashCode(LogEntry obj) => obj.Address.GetHashCode(StringComparison.Ordinal);
    }
}
