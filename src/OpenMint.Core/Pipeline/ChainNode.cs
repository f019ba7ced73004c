using System.Numerics;
using OpenMint.Chain;

namespace OpenMint.Core.Pipeline;

/// <summary>What the node said to a broadcast, classified once (see <see cref="NodeErrors"/>).</summary>
public enum SendOutcome
{
    /// <summary>In the pool (or already known there): wait for the receipt.</summary>
    Accepted,
    /// <summary>The nonce is used: mined already (look up receipts) or taken by another tx.</summary>
    NonceTooLow,
    /// <summary>A gap below this nonce; reconcile the nonce with the chain.</summary>
    NonceTooHigh,
    /// <summary>A replacement that does not pay enough more than the tx it replaces.</summary>
    Underpriced,
    /// <summary>The fee cap is below the current base fee: re-price.</summary>
    FeeCapBelowBaseFee,
    /// <summary>The signer cannot pay gas × price: pause the signer.</summary>
    InsufficientFunds,
    /// <summary>Over the block gas limit or the per-tx cap: split the batch.</summary>
    TooBig,
    /// <summary>Execution reverted (on estimate or call).</summary>
    Reverted,
    /// <summary>Timeout, connection error, 5xx, unparseable answer: it may or may not have been sent.</summary>
    Unknown,
    /// <summary>Any other rejection by the node.</summary>
    Rejected,
}

/// <param name="RevertData">Hex revert data when the node gave it (<see cref="SendOutcome.Reverted"/>).</param>
public sealed record NodeResult(SendOutcome Outcome, string? Message = null, string? RevertData = null)
{
    public static readonly NodeResult Ok = new(SendOutcome.Accepted);
}

/// <summary>The result of eth_estimateGas: the gas, or why not.</summary>
public sealed record GasEstimate(long Gas, NodeResult? Error)
{
    public bool Ok => Error is null;
}

/// <param name="BlockHash">The hash of the block holding it: the reorg watcher compares it with the canonical block later.</param>
public sealed record MintReceipt(string TransactionHash, long BlockNumber, bool Success, long GasUsed, IReadOnlyList<LogEntry> Logs, string? BlockHash = null);

/// <param name="Hash">The block's hash (null where a node or fake does not give it).</param>
public sealed record BlockInfo(long Number, long GasLimit, long GasUsed, BigInteger BaseFeePerGas, long Timestamp, string? Hash = null);

public sealed record SignedMintTx(byte[] Raw, string Hash, long Nonce);

/// <summary>
/// The node calls the pipeline makes. Two implementations: <c>EthChainNode</c> over the Chain
/// layer's EthClient, and scripted fakes in tests (faults Anvil cannot produce on cue).
/// Transport failures throw <see cref="ChainUnavailableException"/>; node answers are values.
/// </summary>
public interface IChainNode
{
    Task<long> GetTransactionCountAsync(string address, string block, CancellationToken ct);
    Task<BlockInfo> GetLatestBlockAsync(CancellationToken ct);

    /// <summary>A block by number, or null when the node does not have it (the sender reads a few once, to learn the block interval).</summary>
    Task<BlockInfo?> GetBlockAsync(long number, CancellationToken ct) => Task.FromResult<BlockInfo?>(null);
    Task<BigInteger> MaxPriorityFeePerGasAsync(CancellationToken ct);
    Task<BigInteger> GetBalanceAsync(string address, CancellationToken ct);
    Task<GasEstimate> EstimateGasAsync(string from, string to, byte[] data, CancellationToken ct);
    /// <summary>eth_call at a block; returns the revert (decoded message + data) or null when it succeeds.</summary>
    Task<NodeResult?> CallForRevertAsync(string from, string to, byte[] data, long gas, string block, CancellationToken ct);
    Task<NodeResult> SendRawTransactionAsync(byte[] raw, CancellationToken ct);
    Task<MintReceipt?> GetReceiptAsync(string hash, CancellationToken ct);
    /// <summary>True when the node knows the tx (pool or chain).</summary>
    Task<bool> IsKnownAsync(string hash, CancellationToken ct);

    /// <summary><see cref="IsKnownAsync"/> for several txs at once (one JSON-RPC batch where the node supports it).</summary>
    async Task<IReadOnlyList<bool>> AreKnownAsync(IReadOnlyList<string> hashes, CancellationToken ct)
    {
        var known = new bool[hashes.Count];
        for (var i = 0; i < known.Length; i++)
        {
            known[i] = await IsKnownAsync(hashes[i], ct).ConfigureAwait(false);
        }
        return known;
    }
}

/// <summary>Signs EIP-1559 transactions for one key.</summary>
public interface ITxSigner
{
    string Address { get; }
    SignedMintTx Sign(long chainId, long nonce, BigInteger maxPriorityFeePerGas, BigInteger maxFeePerGas, long gasLimit, string to, BigInteger value, byte[] data);
}

/// <summary>The node could not be reached or answered garbage; whether a send happened is unknown.</summary>
public sealed class ChainUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
