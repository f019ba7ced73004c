using System.Globalization;
using System.Numerics;
using Microsoft.Extensions.Logging;
using OpenMint.Core.Telemetry;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// Prices new txs and replaces those pending too long: same nonce, +10% on tip and fee cap at least (geth's rule),
/// capped by <see cref="PipelineOptions.MaxFeePerGas"/>; a replacement is re-estimated and never lowers the gas
/// limit. After <see cref="PipelineOptions.MaxSubmissions"/> mint versions the nonce is taken by a cancel.
/// </summary>
internal sealed partial class FeeBumper(SenderContext context, Broadcaster broadcaster, CollectionCache collections)
{
    /// <summary>Fees of a new tx at the current market (<see cref="FeePolicy.Initial"/>).</summary>
    public async Task<Fees> MarketFeesAsync(BlockInfo block, CancellationToken ct)
    {
        var tip = await context.Node.MaxPriorityFeePerGasAsync(ct).ConfigureAwait(false);
        return FeePolicy.Initial(tip, block.BaseFeePerGas, context.Options.MinTipWei, context.Options.MaxFeeWei);
    }

    /// <summary>True when the tx has waited <see cref="PipelineOptions.BumpAfter"/> since its latest version was sent, or the node asked for a new price.</summary>
    public bool IsDue(OpenTx tx)
    {
        var latest = tx.Latest;
        var sentAt = latest.BroadcastAt ?? latest.CreatedAt;
        return broadcaster.TakeRepriceRequest(tx.Id) || context.Now - sentAt >= context.Options.BumpAfter;
    }

    /// <summary>Signs and sends the next version of the tx; returns false when it cannot be re-priced (it keeps waiting as it is).</summary>
    public async Task<bool> ReplaceAsync(OpenTx tx, BlockInfo block, CancellationToken ct)
    {
        var latest = tx.Latest;
        var market = await MarketFeesAsync(block, ct).ConfigureAwait(false);
        var fees = FeePolicy.Bump(latest.Fees, market, context.Options.MaxFeeWei);
        if (fees is null)
        {
            await NoticeFeeCapAsync(tx, ct).ConfigureAwait(false);
            return false; // keeps waiting as it is; the pool check re-sends it if it is dropped
        }
        var giveUp = tx.MintSubmissions >= context.Options.MaxSubmissions || latest.Kind == AttemptKind.Cancel;
        var attempt = giveUp ? await CancelAsync(tx, fees, ct).ConfigureAwait(false) : await NextMintAsync(tx, fees, ct).ConfigureAwait(false);
        var id = context.Lease.Fence is { } fence ? await context.Store.AddAttemptAsync(fence, tx.Id, attempt, context.Now, ct).ConfigureAwait(false) : null;
        if (id is null)
        {
            context.Lease.Refused(context.Log, $"replacement of nonce {tx.Nonce}");
            return true; // nothing written; the tick stops
        }
        OpenMintMetrics.Transaction(context.ChainName, OpenMintMetrics.TxOutcome.Replaced);
        TxReplaced(context.Log, context.ChainName, tx.Nonce, latest.Hash, attempt.Hash, attempt.Kind,
            fees.MaxPriorityFeePerGas.ToString(CultureInfo.InvariantCulture), fees.MaxFeePerGas.ToString(CultureInfo.InvariantCulture));
        context.Crash.Hit(CrashPoints.AfterSign);
        var record = new TxAttemptRecord(id.Value, tx.Id, attempt.Kind, attempt.Raw, attempt.Hash, attempt.MaxPriorityFeePerGas, attempt.MaxFeePerGas,
            attempt.GasLimit, context.Now, null, null);
        await broadcaster.BroadcastAsync(record, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>The same call at new fees, re-estimated (state may have moved since), never with a lower gas limit.</summary>
    private async Task<NewAttempt> NextMintAsync(OpenTx tx, Fees fees, CancellationToken ct)
    {
        var collection = await collections.GetAsync(tx.CollectionId, ct).ConfigureAwait(false);
        var gasLimit = tx.Latest.GasLimit;
        var estimate = await context.Node.EstimateGasAsync(context.Address, collection.Address, tx.Calldata, ct).ConfigureAwait(false);
        if (estimate.Ok)
        {
            gasLimit = Math.Max(gasLimit, context.Options.GasLimitFor(estimate.Gas));
        }
        var signed = context.Signer.Sign(context.Chain.ChainId, tx.Nonce, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit, collection.Address, BigInteger.Zero, tx.Calldata);
        return new NewAttempt(AttemptKind.Mint, signed.Raw, signed.Hash, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit);
    }

    /// <summary>
    /// Gives up on the mint, but only once the nonce is taken by a no-op: until then any of the signed mint
    /// versions could still be mined, and its assets must not be failed meanwhile.
    /// </summary>
    private async Task<NewAttempt> CancelAsync(OpenTx tx, Fees fees, CancellationToken ct)
    {
        const long gasLimit = 21_000;
        var signed = context.Signer.Sign(context.Chain.ChainId, tx.Nonce, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit, context.Address, BigInteger.Zero, []);
        if (tx.Latest.Kind != AttemptKind.Cancel)
        {
            await context.Store.SetTxNoticeAsync(tx.Id, $"{ChainSender.MaxSubmissionsMessage}; cancelling nonce {tx.Nonce}", context.Now, ct).ConfigureAwait(false);
        }
        return new NewAttempt(AttemptKind.Cancel, signed.Raw, signed.Hash, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit);
    }

    private async Task NoticeFeeCapAsync(OpenTx tx, CancellationToken ct)
    {
        var notice = $"transaction {tx.Latest.Hash} (nonce {tx.Nonce}) is not mined and cannot be re-priced: the next price exceeds Pipeline:MaxFeePerGas ({context.Options.MaxFeePerGas} wei)";
        if (tx.LastError != notice)
        {
            FeeCapReached(context.Log, context.ChainName, tx.Nonce, context.Options.MaxFeePerGas);
            await context.Store.SetTxNoticeAsync(tx.Id, notice, context.Now, ct).ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning, Message = "Chain {Chain}: nonce {Nonce} {OldHash} replaced by {NewHash} ({Kind}) at tip {Tip} cap {Cap}")]
    private static partial void TxReplaced(ILogger log, string chain, long nonce, string oldHash, string newHash, string kind, string tip, string cap);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Error, Message = "Chain {Chain}: nonce {Nonce} cannot be re-priced under Pipeline:MaxFeePerGas = {MaxFee} wei")]
    private static partial void FeeCapReached(ILogger log, string chain, long nonce, string maxFee);
}
