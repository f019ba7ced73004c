using System.Numerics;
using System.Text.Json;
using OpenMint.Chain;

namespace OpenMint.Core.Pipeline;

/// <summary>The pipeline's node calls over the Chain layer's <see cref="EthClient"/>; node errors become outcomes here (via <see cref="NodeErrors"/>).</summary>
public sealed class EthChainNode(EthClient client) : IChainNode
{
    public Task<long> GetTransactionCountAsync(string address, string block, CancellationToken ct) =>
        Read(() => client.GetTransactionCountAsync(address, block, ct));

    public Task<BlockInfo> GetLatestBlockAsync(CancellationToken ct) => Read(async () =>
    {
        var b = await client.GetBlockAsync("latest", ct).ConfigureAwait(false) ?? throw new ChainUnavailableException("the node has no latest block");
        return new BlockInfo(b.Number, b.GasLimit, b.GasUsed, b.BaseFeePerGas ?? BigInteger.Zero, b.Timestamp, b.Hash);
    });

    public Task<BlockInfo?> GetBlockAsync(long number, CancellationToken ct) => Read(async () =>
    {
        var b = await client.GetBlockAsync(number, ct).ConfigureAwait(false);
        return b is null ? null : new BlockInfo(b.Number, b.GasLimit, b.GasUsed, b.BaseFeePerGas ?? BigInteger.Zero, b.Timestamp, b.Hash);
    });

    public Task<BigInteger> MaxPriorityFeePerGasAsync(CancellationToken ct) => Read(() => client.MaxPriorityFeePerGasAsync(ct));

    public Task<BigInteger> GetBalanceAsync(string address, CancellationToken ct) => Read(() => client.GetBalanceAsync(address, ct));

    public async Task<GasEstimate> EstimateGasAsync(string from, string to, byte[] data, CancellationToken ct)
    {
        try
        {
            return new GasEstimate(await client.EstimateGasAsync(new CallRequest(from, to, data), ct).ConfigureAwait(false), null);
        }
        catch (JsonRpcException ex)
        {
            return new GasEstimate(0, ToResult(ex));
        }
        catch (RpcTransportException ex)
        {
            throw new ChainUnavailableException(ex.Message, ex);
        }
    }

    public async Task<NodeResult?> CallForRevertAsync(string from, string to, byte[] data, long gas, string block, CancellationToken ct)
    {
        try
        {
            await client.CallAsync(new CallRequest(from, to, data, Gas: gas), block, ct).ConfigureAwait(false);
            return null;
        }
        catch (JsonRpcException ex)
        {
            return ToResult(ex);
        }
        catch (RpcTransportException ex)
        {
            throw new ChainUnavailableException(ex.Message, ex);
        }
    }

    public async Task<NodeResult> SendRawTransactionAsync(byte[] raw, CancellationToken ct)
    {
        try
        {
            await client.SendRawTransactionAsync(raw, ct).ConfigureAwait(false);
            return NodeResult.Ok;
        }
        catch (JsonRpcException ex)
        {
            return ToResult(ex);
        }
        catch (RpcTransportException ex)
        {
            return new NodeResult(SendOutcome.Unknown, ex.Message);
        }
    }

    public Task<MintReceipt?> GetReceiptAsync(string hash, CancellationToken ct) => Read(async () =>
    {
        var r = await client.GetTransactionReceiptAsync(hash, ct).ConfigureAwait(false);
        return r is null ? null : new MintReceipt(r.TransactionHash, r.BlockNumber, r.Success, r.GasUsed,
            r.Logs, r.BlockHash);
    });

    public Task<bool> IsKnownAsync(string hash, CancellationToken ct) => Read(async () =>
    {
        var tx = await client.GetTransactionByHashAsync(hash, ct).ConfigureAwait(false);
        return tx is { ValueKind: JsonValueKind.Object };
    });

    public Task<IReadOnlyList<bool>> AreKnownAsync(IReadOnlyList<string> hashes, CancellationToken ct) => Read(async () =>
    {
        var answers = await client.Rpc.BatchAsync(hashes.Select(h => ("eth_getTransactionByHash", new object?[] { h })).ToList(), ct).ConfigureAwait(false);
        return (IReadOnlyList<bool>)answers.Select(a => a.GetResultOrThrow().ValueKind == JsonValueKind.Object).ToList();
    });

    /// <summary>A revert's reason decoded from its data (Error(string), Panic, known custom errors), else the node's words.</summary>
    private static NodeResult ToResult(JsonRpcException ex)
    {
        var outcome = NodeErrors.Classify(ex.Code, ex.RpcMessage);
        if (outcome != SendOutcome.Reverted)
        {
            return new NodeResult(outcome, ex.RpcMessage);
        }
        string reason;
        if (ex.DataHex is not null)
        {
            reason = RevertReason.Decode(ex.DataHex);
        }
        else
        {
            const string prefix = "execution reverted: ";
            var m = ex.RpcMessage;
            reason = m.StartsWith(prefix, StringComparison.Ordinal) ? m[prefix.Length..] : m == "execution reverted" ? "(no reason)" : m;
        }
        return new NodeResult(SendOutcome.Reverted, reason, ex.DataHex);
    }

    private static async Task<T> Read<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcTransportException ex)
        {
            throw new ChainUnavailableException(ex.Message, ex);
        }
        catch (JsonRpcException ex)
        {
            // A read the node refuses (e.g. restarting, rate limited): treat like an outage and retry next tick.
            throw new ChainUnavailableException($"{ex.Code} {ex.RpcMessage}", ex);
        }
    }
}

/// <summary>Signs with the minter's key (EIP-1559).</summary>
public sealed class EthKeySigner(EthKey key) : ITxSigner
{
    public string Address => key.Address;

    public SignedMintTx Sign(long chainId, long nonce, BigInteger maxPriorityFeePerGas, BigInteger maxFeePerGas, long gasLimit, string to, BigInteger value, byte[] data)
    {
        var signed = new Eip1559Transaction(chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data).Sign(key);
        return new SignedMintTx(signed.Raw, signed.Hash, signed.Nonce);
    }
}
