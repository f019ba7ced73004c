using System.Globalization;
using System.Numerics;
using Microsoft.Extensions.Logging;
using OpenMint.Core.Telemetry;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Pipeline;

/// <summary>Where the treasury's lease lives: a <c>signer_lease</c> row of its own, apart from the minter wallets' rows.</summary>
public static class TreasuryLease
{
    /// <summary>
    /// The lease row's chain key: <c>&lt;chain&gt;/treasury</c> (a chain name has no '/'), so readers of the minters' rows
    /// (who else mints the chain's requests, the wallets' nonces) never take the treasury for a minter wallet.
    /// </summary>
    public static string Key(string chainName) => chainName + "/treasury";
}

/// <summary>
/// The treasury of one chain (docs/transactions.md, "Treasury top-ups"): a sender of its own, with its own lease (and epoch,
/// fencing its writes), that keeps the chain's minter wallets funded. When a wallet's balance is below the chain's
/// <c>low_balance_wei</c> it signs ONE plain transfer bringing it to <c>top_up_to_wei</c>, writes it ahead (the signed
/// bytes, before any broadcast) and sends it; until that top-up is mined (or its nonce went to another tx) no other is
/// signed, for that wallet or any other: top-ups go one at a time. A stored attempt never acknowledged is re-sent as it
/// is (after a crash between sign and broadcast too); one pending past <see cref="PipelineOptions.BumpAfter"/> is replaced
/// at the same nonce with +10 % fees.
/// </summary>
internal sealed partial class TreasurySender(ChainConfig chain, ITxSigner treasury, string instance, IChainNode node, IPipelineStore store,
    PipelineOptions options, TimeProvider time, ILogger log, CrashPoints crash)
{
    private const long TransferGas = 21_000;
    private const int NonceGoneChecks = 5;

    private LeaseFence? _fence;
    private DateTimeOffset _checkedAt = DateTimeOffset.MinValue;
    private DateTimeOffset _sentAt = DateTimeOffset.MinValue;
    private string? _shortSaid;
    private int _nonceGoneChecks;

    public string Address => treasury.Address;

    private DateTimeOffset Now => time.GetUtcNow();

    /// <summary>One round for the chain's minter wallets <paramref name="wallets"/>: follows the pending top-up, or looks for a dip.</summary>
    public async Task TickAsync(IReadOnlyList<string> wallets, CancellationToken ct)
    {
        var lease = await store.TryAcquireLeaseAsync(TreasuryLease.Key(chain.Name), Address, instance, Now, options.LeaseDuration, ct).ConfigureAwait(false);
        _fence = lease?.Fence;
        if (_fence is null)
        {
            return;
        }
        // Also one a treasury replaced since signed: its stored bytes are followed to their end (re-sent, never re-signed).
        var pending = await store.ListPendingTopUpsAsync(chain.Name, ct).ConfigureAwait(false);
        if (pending.Count > 0)
        {
            foreach (var topUp in pending)
            {
                await FollowAsync(topUp, ct).ConfigureAwait(false);
            }
            return;
        }
        if (Now - _checkedAt < options.LowBalanceCheckInterval || chain.LowBalanceWei is not { } low || chain.TopUpToWei is not { } to)
        {
            return;
        }
        _checkedAt = Now;
        var threshold = BigInteger.Parse(low, CultureInfo.InvariantCulture);
        var target = BigInteger.Parse(to, CultureInfo.InvariantCulture);
        var funds = await node.GetBalanceAsync(Address, ct).ConfigureAwait(false);
        OpenMintMetrics.SignerBalance(chain.Name, Address, funds);
        foreach (var wallet in wallets)
        {
            if (await TopUpIfLowAsync(wallet.ToLowerInvariant(), threshold, target, funds, ct).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    public Task ReleaseAsync(CancellationToken ct) => store.ReleaseLeaseAsync(TreasuryLease.Key(chain.Name), Address, instance, ct);

    /// <summary>True when a top-up was written (or the lease was lost): nothing more this round.</summary>
    private async Task<bool> TopUpIfLowAsync(string wallet, BigInteger threshold, BigInteger target, BigInteger funds, CancellationToken ct)
    {
        var balance = await node.GetBalanceAsync(wallet, ct).ConfigureAwait(false);
        if (balance >= threshold || target <= balance)
        {
            return false;
        }
        var value = target - balance;
        var block = await node.GetLatestBlockAsync(ct).ConfigureAwait(false);
        var tip = await node.MaxPriorityFeePerGasAsync(ct).ConfigureAwait(false);
        var fees = FeePolicy.Initial(tip, block.BaseFeePerGas, options.MinTipWei, options.MaxFeeWei);
        var need = value + fees.MaxFeePerGas * TransferGas;
        if (funds < need)
        {
            if (_shortSaid != wallet)
            {
                _shortSaid = wallet;
                TreasuryShort(log, chain.Name, Address, Dec(funds), wallet, Dec(need));
            }
            return false;
        }
        _shortSaid = null;
        var nonce = await node.GetTransactionCountAsync(Address, "pending", ct).ConfigureAwait(false);
        var signed = treasury.Sign(chain.ChainId, nonce, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, TransferGas, wallet, value, []);
        var attempt = new NewAttempt(AttemptKind.TopUp, signed.Raw, signed.Hash, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, TransferGas);
        var recorded = await store.RecordTopUpAsync(_fence!, new NewTopUp(chain.Name, wallet, nonce, value, balance, attempt), Now, ct).ConfigureAwait(false);
        if (recorded is null)
        {
            // The lease moved, or a top-up of the wallet is pending already: nothing was written, nothing is sent.
            return true;
        }
        TopUpSigned(log, chain.Name, Address, wallet, Dec(balance), Dec(target), Dec(value), nonce, signed.Hash);
        crash.Hit(CrashPoints.TopUpAfterSign);
        await SendAsync(recorded.Latest, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// A pending top-up: mined (any of its versions) ends it; its nonce passed without one of them ends it abandoned;
    /// otherwise the stored bytes are (re-)sent or, pending too long or refused for its price, replaced at the same nonce
    /// (only by the treasury that signed it: one signed by a treasury replaced since is only re-sent).
    /// </summary>
    private async Task FollowAsync(TopUpRecord topUp, CancellationToken ct)
    {
        // Nonce first, receipts second: a nonce past ours with no receipt of ours is another tx's.
        var latest = await node.GetTransactionCountAsync(topUp.Treasury, "latest", ct).ConfigureAwait(false);
        foreach (var a in topUp.Attempts.Reverse())
        {
            if (await node.GetReceiptAsync(a.Hash, ct).ConfigureAwait(false) is { } receipt)
            {
                await FinishAsync(topUp, TopUpState.Done, receipt.TransactionHash, receipt.BlockNumber, receipt.Success ? null : "the transfer reverted", ct).ConfigureAwait(false);
                return;
            }
        }
        if (latest > topUp.Nonce)
        {
            // As for mints, five rounds in a row (a node behind another must not end a top-up that is mined).
            if (++_nonceGoneChecks >= NonceGoneChecks)
            {
                await FinishAsync(topUp, TopUpState.Abandoned, null, null, $"treasury nonce {topUp.Nonce} was used by another transaction", ct).ConfigureAwait(false);
            }
            return;
        }
        _nonceGoneChecks = 0;
        var last = topUp.Latest;
        var refusedForPrice = last.Outcome is nameof(SendOutcome.Underpriced) or nameof(SendOutcome.FeeCapBelowBaseFee);
        if (last.BroadcastAt is null && !refusedForPrice)
        {
            // Signed and stored, never acknowledged (a crash, a transport error, no funds): the same bytes again.
            if (Now - _sentAt >= options.RebroadcastInterval || last.Outcome is null)
            {
                await SendAsync(last, ct).ConfigureAwait(false);
            }
        }
        else if (topUp.Treasury == Address && (refusedForPrice || Now - (last.BroadcastAt ?? last.CreatedAt) >= options.BumpAfter))
        {
            await BumpAsync(topUp, ct).ConfigureAwait(false);
        }
        else if (Now - _sentAt >= options.RebroadcastInterval && !await node.IsKnownAsync(last.Hash, ct).ConfigureAwait(false))
        {
            await SendAsync(last, ct).ConfigureAwait(false);
        }
    }

    private async Task FinishAsync(TopUpRecord topUp, string state, string? hash, long? block, string? error, CancellationToken ct)
    {
        if (!await store.FinishTopUpAsync(_fence!, topUp.Id, state, hash, block, error, Now, ct).ConfigureAwait(false))
        {
            return;
        }
        if (state == TopUpState.Done)
        {
            OpenMintMetrics.TreasuryTopUp(chain.Name);
            TopUpMined(log, chain.Name, topUp.Wallet, Dec(topUp.Value), hash!, block ?? 0);
        }
        else
        {
            TopUpAbandoned(log, chain.Name, topUp.Wallet, topUp.Nonce, error!);
        }
        // The wallet's balance is read again (and a new dip looked for) on the next round.
        _checkedAt = DateTimeOffset.MinValue;
        _nonceGoneChecks = 0;
    }

    /// <summary>The next version at the same nonce, +10 % on tip and fee cap at least; written ahead, then sent.</summary>
    private async Task BumpAsync(TopUpRecord topUp, CancellationToken ct)
    {
        var block = await node.GetLatestBlockAsync(ct).ConfigureAwait(false);
        var tip = await node.MaxPriorityFeePerGasAsync(ct).ConfigureAwait(false);
        var market = FeePolicy.Initial(tip, block.BaseFeePerGas, options.MinTipWei, options.MaxFeeWei);
        if (FeePolicy.Bump(topUp.Latest.Fees, market, options.MaxFeeWei) is not { } fees)
        {
            return; // at the fee cap: it keeps waiting as it is
        }
        var signed = treasury.Sign(chain.ChainId, topUp.Nonce, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, TransferGas, topUp.Wallet, topUp.Value, []);
        var attempt = new NewAttempt(AttemptKind.TopUp, signed.Raw, signed.Hash, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, TransferGas);
        if (await store.AddTopUpAttemptAsync(_fence!, topUp.Id, attempt, Now, ct).ConfigureAwait(false) is not { } id)
        {
            return;
        }
        TopUpReplaced(log, chain.Name, topUp.Wallet, topUp.Nonce, topUp.Latest.Hash, signed.Hash, Dec(fees.MaxFeePerGas));
        await SendAsync(new TopUpAttempt(id, topUp.Id, signed.Raw, signed.Hash, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, Now, null, null), ct).ConfigureAwait(false);
    }

    private async Task SendAsync(TopUpAttempt attempt, CancellationToken ct)
    {
        _sentAt = Now;
        var result = await node.SendRawTransactionAsync(attempt.Raw, ct).ConfigureAwait(false);
        // Acknowledged: in the pool, the nonce used (receipts decide), or refused for its price (replaced next round).
        var acknowledged = result.Outcome is SendOutcome.Accepted or SendOutcome.NonceTooLow;
        if (result.Outcome is not (SendOutcome.Accepted or SendOutcome.NonceTooLow or SendOutcome.Unknown))
        {
            TopUpRefused(log, chain.Name, attempt.Hash, result.Outcome.ToString(), result.Message ?? "");
        }
        await store.MarkTopUpBroadcastAsync(_fence!, attempt.Id, result.Outcome, acknowledged, Now, ct).ConfigureAwait(false);
    }

    private static string Dec(BigInteger v) => v.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 4070, Level = LogLevel.Information, Message = "Chain {Chain}: treasury {Treasury} tops up wallet {Wallet} from {Balance} to {Target} wei: {Value} wei, nonce {Nonce}, tx {Hash}")]
    private static partial void TopUpSigned(ILogger log, string chain, string treasury, string wallet, string balance, string target, string value, long nonce, string hash);

    [LoggerMessage(EventId = 4071, Level = LogLevel.Information, Message = "Chain {Chain}: top-up of wallet {Wallet} ({Value} wei) mined in tx {Hash}, block {Block}")]
    private static partial void TopUpMined(ILogger log, string chain, string wallet, string value, string hash, long block);

    [LoggerMessage(EventId = 4072, Level = LogLevel.Warning, Message = "Chain {Chain}: treasury {Treasury} holds {Funds} wei, less than the {Need} wei a top-up of wallet {Wallet} needs (value and gas); fund the treasury")]
    private static partial void TreasuryShort(ILogger log, string chain, string treasury, string funds, string wallet, string need);

    [LoggerMessage(EventId = 4073, Level = LogLevel.Warning, Message = "Chain {Chain}: top-up of wallet {Wallet} (treasury nonce {Nonce}) abandoned: {Reason}")]
    private static partial void TopUpAbandoned(ILogger log, string chain, string wallet, long nonce, string reason);

    [LoggerMessage(EventId = 4074, Level = LogLevel.Warning, Message = "Chain {Chain}: top-up of wallet {Wallet} at treasury nonce {Nonce}: {OldHash} replaced by {NewHash} at fee cap {Cap}")]
    private static partial void TopUpReplaced(ILogger log, string chain, string wallet, long nonce, string oldHash, string newHash, string cap);

    [LoggerMessage(EventId = 4075, Level = LogLevel.Warning, Message = "Chain {Chain}: the node refused top-up {Hash}: {Outcome} {Message}")]
    private static partial void TopUpRefused(ILogger log, string chain, string hash, string outcome, string message);
}
