using System.Globalization;
using Microsoft.Extensions.Logging;
using OpenMint.Core.Telemetry;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// Confirmation by nonce progression: a tx whose nonce the chain's <c>latest</c> count has passed is looked up by
/// the receipts of all its attempts; once <c>chain.confirmations</c> deep it is reconciled (token ids from the
/// logs, or the revert's reason, or the cancel that ended it). A nonce used by none of our attempts is abandoned
/// (its requests go back to the queue); a mined tx whose nonce the chain no longer counts is pending again.
/// </summary>
internal sealed partial class Confirmer(SenderContext context, CollectionCache collections)
{
    /// <summary>Receipt lookups that found none of our attempts before the nonce counts as taken elsewhere.</summary>
    public const int MissesBeforeAbandon = 5;

    private readonly Dictionary<long, int> _receiptMisses = new();

    private TimeSpan Budget => context.Options.PollInterval > TimeSpan.FromMilliseconds(250) ? context.Options.PollInterval : TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Reconciles mined txs (nonce below <paramref name="latestNonce"/>), at most <see cref="PipelineOptions.ConfirmPerTick"/>
    /// and for about one poll interval: the rest next tick, so ticks stay short and new txs keep flowing.
    /// </summary>
    public async Task ConfirmMinedAsync(IReadOnlyList<OpenTx> open, long latestNonce, BlockInfo block, CancellationToken ct)
    {
        var started = context.Time.GetTimestamp();
        foreach (var tx in open.Where(t => t.Nonce < latestNonce).Take(context.Options.ConfirmPerTick).TakeWhile(_ => context.Lease.Holding))
        {
            await ConfirmAsync(tx, latestNonce, block, ct).ConfigureAwait(false);
            if (context.Time.GetElapsedTime(started) > Budget)
            {
                break;
            }
        }
    }

    /// <summary>Returns true when the tx is settled for this tick (mined and handled, or abandoned).</summary>
    public async Task<bool> ConfirmAsync(OpenTx tx, long latestNonce, BlockInfo block, CancellationToken ct)
    {
        if (tx.Nonce >= latestNonce)
        {
            if (tx.State == TxState.Mined)
            {
                // The chain no longer counts this nonce: its block was reorganised away.
                Fenced(await context.Store.MarkUnminedAsync(Fence, tx.Id, context.Now, ct).ConfigureAwait(false), tx, "unmined");
            }
            return false;
        }
        var (receipt, mined) = await FindReceiptAsync(context.Node, tx.Attempts, ct).ConfigureAwait(false);
        if (receipt is null || mined is null)
        {
            await MissedAsync(tx, ct).ConfigureAwait(false);
            return true;
        }
        _receiptMisses.Remove(tx.Id);
        context.Crash.Hit(CrashPoints.AfterReceipt);
        // The receipt's block (number and hash) is stored: the reorg watcher checks it stays canonical after reconciliation.
        if (tx.State != TxState.Mined || tx.MinedHash != receipt.TransactionHash || tx.MinedBlock != receipt.BlockNumber)
        {
            if (!Fenced(await context.Store.MarkMinedAsync(Fence, tx.Id, receipt.TransactionHash, receipt.BlockNumber, receipt.BlockHash, context.Now, ct).ConfigureAwait(false), tx, "mined"))
            {
                return true;
            }
        }
        if (block.Number - receipt.BlockNumber >= context.Chain.Confirmations)
        {
            await ReconcileAsync(tx, mined, receipt, ct).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>The fence of the lease held; a tick that lost it stops before calling the store (see the callers' loops).</summary>
    private LeaseFence Fence => context.Lease.Fence ?? new LeaseFence(context.ChainName, context.Address, context.Instance, -1);

    /// <summary>
    /// A fenced write that changed nothing: the tx was closed meanwhile (by this instance's earlier tick) or, usually, the
    /// lease moved on; either way the tick stops and the lease is taken (and the nonce synced) again first.
    /// </summary>
    private bool Fenced(bool written, OpenTx tx, string what)
    {
        if (!written)
        {
            context.Lease.Refused(context.Log, $"{what} of nonce {tx.Nonce}");
        }
        return written;
    }

    /// <summary>The receipt of whichever attempt of one nonce was mined, newest attempt first (also used by <see cref="ReorgWatcher"/>).</summary>
    internal static async Task<(MintReceipt? Receipt, TxAttemptRecord? Mined)> FindReceiptAsync(IChainNode node, IReadOnlyList<TxAttemptRecord> attempts, CancellationToken ct)
    {
        foreach (var attempt in attempts.Reverse())
        {
            var receipt = await node.GetReceiptAsync(attempt.Hash, ct).ConfigureAwait(false);
            if (receipt is not null)
            {
                return (receipt, attempt);
            }
        }
        return (null, null);
    }

    private async Task MissedAsync(OpenTx tx, CancellationToken ct)
    {
        var misses = _receiptMisses[tx.Id] = _receiptMisses.GetValueOrDefault(tx.Id) + 1;
        if (misses >= MissesBeforeAbandon)
        {
            // The nonce is used but by none of our attempts: another tx took it. Nothing of this batch was minted.
            _receiptMisses.Remove(tx.Id);
            NonceTakenElsewhere(context.Log, context.ChainName, tx.Nonce, tx.Id);
            OpenMintMetrics.Transaction(context.ChainName, OpenMintMetrics.TxOutcome.Dropped);
            Fenced(await context.Store.AbandonTxAsync(Fence, tx.Id, $"nonce {tx.Nonce} was used by another transaction", context.Now, ct).ConfigureAwait(false), tx, "abandon");
        }
    }

    /// <summary>Deep enough: the cancel fails the assets, a revert fails them with its reason, a success assigns token ids.</summary>
    private async Task ReconcileAsync(OpenTx tx, TxAttemptRecord mined, MintReceipt receipt, CancellationToken ct)
    {
        var collection = await collections.GetAsync(tx.CollectionId, ct).ConfigureAwait(false);
        var now = context.Now;
        OpenMintMetrics.Gas(context.ChainName, receipt.GasUsed);
        OpenMintMetrics.Transaction(context.ChainName, mined.Kind == AttemptKind.Cancel ? OpenMintMetrics.TxOutcome.Dropped
            : receipt.Success ? OpenMintMetrics.TxOutcome.Mined : OpenMintMetrics.TxOutcome.Reverted);
        if (mined.Kind == AttemptKind.Cancel)
        {
            if (!Fenced(await context.Store.FailTxAsync(Fence, tx.Id, null, ChainSender.MaxSubmissionsMessage, collection, context.Chain, now, ct).ConfigureAwait(false), tx, "cancel mined"))
            {
                return;
            }
            TxFailed(context.Log, context.ChainName, tx.Nonce, receipt.TransactionHash, ChainSender.MaxSubmissionsMessage);
        }
        else if (!receipt.Success)
        {
            await RevertedAsync(tx, mined, receipt, collection, ct).ConfigureAwait(false);
        }
        else
        {
            var tokens = Reconciler.Assign(tx.Method, tx.Entries, collection.Address, receipt.Logs);
            if (!Fenced(await context.Store.CompleteTxAsync(Fence, tx.Id, receipt.TransactionHash, tokens, collection, context.Chain, now,
                () => context.Crash.Hit(CrashPoints.MidReconcile), ct).ConfigureAwait(false), tx, "completion"))
            {
                return;
            }
            TxSucceeded(context.Log, context.ChainName, tx.Nonce, receipt.TransactionHash, tokens.Count, receipt.GasUsed);
        }
    }

    /// <summary>
    /// A mined revert. Out of gas (every unit of the limit used, and the limit can still grow) re-queues the assets once
    /// with a limit 1.5 × the one that ran out as the next tx's floor; any other revert (or the second out of gas) fails
    /// them with the reason read at the receipt's block.
    /// </summary>
    private async Task RevertedAsync(OpenTx tx, TxAttemptRecord mined, MintReceipt receipt, Tenancy.Collection collection, CancellationToken ct)
    {
        var now = context.Now;
        var outOfGas = receipt.GasUsed >= mined.GasLimit;
        var revert = outOfGas ? null : await context.Node.CallForRevertAsync(context.Address, collection.Address, tx.Calldata, mined.GasLimit,
            "0x" + receipt.BlockNumber.ToString("x", CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
        var message = "execution reverted: " + (outOfGas ? "out of gas" : revert?.Message ?? "(no reason)");
        if (outOfGas && mined.GasLimit < context.Options.PerTxGasCap)
        {
            var floor = Math.Min(context.Options.PerTxGasCap, mined.GasLimit + mined.GasLimit / 2);
            if (Fenced(await context.Store.RequeueOutOfGasAsync(Fence, tx.Id, receipt.TransactionHash, floor, message, collection, context.Chain, now, ct).ConfigureAwait(false), tx, "out of gas"))
            {
                OutOfGasRequeued(context.Log, context.ChainName, tx.Nonce, receipt.TransactionHash, mined.GasLimit, floor);
            }
            return;
        }
        if (Fenced(await context.Store.FailTxAsync(Fence, tx.Id, receipt.TransactionHash, message, collection, context.Chain, now, ct).ConfigureAwait(false), tx, "revert"))
        {
            TxFailed(context.Log, context.ChainName, tx.Nonce, receipt.TransactionHash, message);
        }
    }

    [LoggerMessage(EventId = 4020, Level = LogLevel.Warning, Message = "Chain {Chain}: nonce {Nonce} {Hash} ran out of gas at limit {Limit}; its requests are queued again with a limit of at least {Floor} (once)")]
    private static partial void OutOfGasRequeued(ILogger log, string chain, long nonce, string hash, long limit, long floor);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Chain {Chain}: nonce {Nonce} {Hash} succeeded: {Count} tokens, {GasUsed} gas")]
    private static partial void TxSucceeded(ILogger log, string chain, long nonce, string hash, int count, long gasUsed);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Chain {Chain}: nonce {Nonce} {Hash} failed: {Reason}")]
    private static partial void TxFailed(ILogger log, string chain, long nonce, string hash, string reason);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Warning, Message = "Chain {Chain}: nonce {Nonce} (tx {TxId}) was used by another transaction; its requests are planned again")]
    private static partial void NonceTakenElsewhere(ILogger log, string chain, long nonce, long txId);
}
