using Microsoft.Extensions.Logging;
using OpenMint.Core.Telemetry;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// Sends stored signed bytes and acts on the node's classified answer; checks the node's pool for txs of ours it
/// no longer has (one batched check) and re-sends them; re-sends reconciled txs a chain that went back has lost.
/// Never signs: everything it sends is already in the store.
/// </summary>
internal sealed partial class Broadcaster(SenderContext context, NonceLease nonces, SignerStatus status)
{
    private readonly HashSet<long> _repriceNow = new();
    private long _lastHead = -1;
    private DateTimeOffset _lastPoolCheck;

    /// <summary>True when the node said the tx's fee cap is under the base fee: it is re-priced on the next tick.</summary>
    public bool RepriceRequested(long txId) => _repriceNow.Contains(txId);

    /// <summary>Takes the re-price request of the tx, if any.</summary>
    public bool TakeRepriceRequest(long txId) => _repriceNow.Remove(txId);

    /// <summary>Sends stored bytes and acts on the classified answer; sends nothing once the lease is lost (returns Unknown).</summary>
    public async Task<SendOutcome> BroadcastAsync(TxAttemptRecord attempt, CancellationToken ct)
    {
        if (!context.Lease.Holding)
        {
            return SendOutcome.Unknown;
        }
        var result = await context.Node.SendRawTransactionAsync(attempt.Raw, ct).ConfigureAwait(false);
        context.Crash.Hit(CrashPoints.AfterBroadcast);
        var now = context.Now;
        switch (result.Outcome)
        {
            case SendOutcome.Accepted:
                if (await MarkAsync(attempt, SendOutcome.Accepted, true, now, ct).ConfigureAwait(false))
                {
                    OpenMintMetrics.Transaction(context.ChainName, OpenMintMetrics.TxOutcome.Sent);
                    await status.ResumeAsync(ct).ConfigureAwait(false);
                }
                break;
            case SendOutcome.Unknown:
                // Maybe sent: keep it unacknowledged, the next tick sends the same bytes again.
                SendUnknown(context.Log, context.ChainName, attempt.Hash, result.Message ?? "");
                break;
            case SendOutcome.InsufficientFunds:
                // Unacknowledged: re-sent every tick, and accepted as soon as the minter is funded.
                if (await MarkAsync(attempt, result.Outcome, false, now, ct).ConfigureAwait(false))
                {
                    await status.PauseForFundsAsync(ct).ConfigureAwait(false);
                }
                break;
            case SendOutcome.NonceTooLow:
                // Either one of our versions is mined (confirm finds its receipt) or the nonce went elsewhere (confirm abandons).
                await MarkAsync(attempt, result.Outcome, true, now, ct).ConfigureAwait(false);
                break;
            case SendOutcome.FeeCapBelowBaseFee:
                if (await MarkAsync(attempt, result.Outcome, true, now, ct).ConfigureAwait(false))
                {
                    _repriceNow.Add(attempt.TxId);
                }
                break;
            case SendOutcome.NonceTooHigh:
                nonces.RequireSync();
                await MarkAsync(attempt, result.Outcome, false, now, ct).ConfigureAwait(false);
                SendRejected(context.Log, context.ChainName, attempt.Hash, result.Outcome.ToString(), result.Message ?? "");
                break;
            default:
                // Underpriced, rejected, too big: keep the tx, replace it after BumpAfter (each replacement is a submission).
                if (!await MarkAsync(attempt, result.Outcome, true, now, ct).ConfigureAwait(false))
                {
                    break;
                }
                await context.Store.SetTxNoticeAsync(attempt.TxId, $"the node refused transaction {attempt.Hash}: {result.Message}", now, ct).ConfigureAwait(false);
                SendRejected(context.Log, context.ChainName, attempt.Hash, result.Outcome.ToString(), result.Message ?? "");
                break;
        }
        return result.Outcome;
    }

    /// <summary>Records the outcome under the lease's fence; false (and the lease dropped) when the store refused it.</summary>
    private async Task<bool> MarkAsync(TxAttemptRecord attempt, SendOutcome outcome, bool acknowledged, DateTimeOffset now, CancellationToken ct)
    {
        if (context.Lease.Fence is { } fence && await context.Store.MarkBroadcastAsync(fence, attempt.Id, outcome, acknowledged, now, ct).ConfigureAwait(false))
        {
            return true;
        }
        context.Lease.Refused(context.Log, $"broadcast of {attempt.Hash}");
        return false;
    }

    /// <summary>
    /// Broadcasts in nonce order; stops at the first the node cannot take yet (no funds, a nonce gap): the rest
    /// are stored and go out with recovery once that one is accepted. Returns false when it stopped.
    /// </summary>
    public async Task<bool> BroadcastInOrderAsync(IEnumerable<TxAttemptRecord> attempts, CancellationToken ct)
    {
        foreach (var attempt in attempts)
        {
            if (await BroadcastAsync(attempt, ct).ConfigureAwait(false) is SendOutcome.InsufficientFunds or SendOutcome.NonceTooHigh || !context.Lease.Holding)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// At each new block, and every <see cref="PipelineOptions.RebroadcastInterval"/> when blocks do not come: the txs
    /// of ours the node no longer has (dropped, evicted, lost in a node restart) are sent again, in nonce order, with
    /// one batched check for all of them. Right after a block matters: a builder that skips one of our txs for lack
    /// of block gas leaves the later nonces unexecutable for that block, and Anvil drops them from its pool then
    /// (geth keeps them), so waiting would leave the next blocks without them.
    /// </summary>
    /// <param name="candidates">Unmined txs left untouched this tick (a tx just re-sent or replaced is not checked).</param>
    public async Task CheckPoolAsync(BlockInfo block, IReadOnlyList<OpenTx> candidates, CancellationToken ct)
    {
        var now = context.Now;
        if (block.Number == _lastHead && now - _lastPoolCheck < context.Options.RebroadcastInterval)
        {
            return;
        }
        _lastHead = block.Number;
        _lastPoolCheck = now;
        var waiting = candidates.Where(t => t.Latest.BroadcastAt is not null).OrderBy(t => t.Nonce).ToList();
        if (waiting.Count == 0)
        {
            return;
        }
        var known = await context.Node.AreKnownAsync(waiting.Select(t => t.Latest.Hash).ToList(), ct).ConfigureAwait(false);
        var missing = waiting.Where((_, i) => !known[i]).ToList();
        if (missing.Count == 0)
        {
            return;
        }
        TxsDropped(context.Log, context.ChainName, missing.Count, missing[0].Nonce, missing[^1].Nonce);
        await BroadcastInOrderAsync(missing.Select(t => t.Latest), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The chain's nonce went back below txs that were mined and reconciled (a node restarted from an older state,
    /// a reorg deeper than the confirmation depth): their signed bytes are sent again, in nonce order. Without them
    /// every later nonce would wait forever, and the same bytes can only restore what the store already records.
    /// </summary>
    public async Task ResendLostAsync(long latestNonce, CancellationToken ct)
    {
        var lost = await context.Store.ListDoneAttemptsFromNonceAsync(context.ChainName, context.Address, latestNonce, ct).ConfigureAwait(false);
        if (lost.Count == 0)
        {
            return;
        }
        NonceWentBack(context.Log, context.ChainName, context.Address, latestNonce, lost.Count);
        foreach (var attempt in lost.TakeWhile(_ => context.Lease.Holding))
        {
            var result = await context.Node.SendRawTransactionAsync(attempt.Raw, ct).ConfigureAwait(false);
            if (result.Outcome is not (SendOutcome.Accepted or SendOutcome.NonceTooLow))
            {
                SendRejected(context.Log, context.ChainName, attempt.Hash, result.Outcome.ToString(), result.Message ?? "");
            }
        }
    }

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "Chain {Chain}: {Count} txs (nonces {First}..{Last}) are not in the node's pool any more; re-sending")]
    private static partial void TxsDropped(ILogger log, string chain, int count, long first, long last);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Warning, Message = "Chain {Chain}: send of {Hash} outcome unknown ({Message}); will send the same bytes again")]
    private static partial void SendUnknown(ILogger log, string chain, string hash, string message);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Warning, Message = "Chain {Chain}: node refused {Hash}: {Outcome} {Message}")]
    private static partial void SendRejected(ILogger log, string chain, string hash, string outcome, string message);

    [LoggerMessage(EventId = 4018, Level = LogLevel.Warning, Message = "Chain {Chain}: signer {Signer}: the chain's nonce went back to {Nonce}; re-sending {Count} reconciled txs it lost")]
    private static partial void NonceWentBack(ILogger log, string chain, string signer, long nonce, int count);
}
