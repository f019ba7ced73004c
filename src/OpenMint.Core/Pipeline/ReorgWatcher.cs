using Microsoft.Extensions.Logging;

namespace OpenMint.Core.Pipeline;

/// <summary>A reconciled tx in the watcher's window: where its receipt was when its token ids were read.</summary>
public sealed record ReconciledBlock(long TxId, long Nonce, long MinedBlock, string? MinedBlockHash);

/// <summary>A reconciled tx with what the watcher needs to find it again: its batch (to re-read ids) and every attempt of its nonce.</summary>
public sealed record ReconciledTx(long Id, long Nonce, long CollectionId, MintMethod Method, IReadOnlyList<MintEntry> Entries,
    string MinedHash, long MinedBlock, string? MinedBlockHash, IReadOnlyList<TxAttemptRecord> Attempts);

/// <summary>
/// Reorgs deeper than <c>confirmations</c> (docs/transactions.md): at each new head, the reconciled txs of the signer
/// mined in the last <see cref="PipelineOptions.ReorgWatchBlocks"/> blocks are checked for their block (number and hash)
/// still being canonical. A tx whose block is not is looked for again: found (same or another block, any of its attempts)
/// and deep enough, its token ids are read again from the new receipt and the requests whose id or hash changed are
/// corrected, each with an event; not found and its nonce unused, its stored bytes are sent again; its nonce used by a
/// tx that did not mint (a foreign tx, our cancel, our version that now reverts), its requests are queued again. A
/// succeeded request is never failed by a reorg.
/// </summary>
/// <remarks>
/// Cost: a block whose hash was seen canonical vouches for every block below it that was canonical at that time, so
/// once the window is verified each new head costs one <c>eth_getBlockByNumber</c> for the highest verified block,
/// plus one per block holding newly reconciled txs.
/// </remarks>
internal sealed partial class ReorgWatcher(SenderContext context, CollectionCache collections)
{
    private readonly Dictionary<long, string> _verified = new();
    private readonly Dictionary<long, (int Count, long FirstHead)> _misses = new();
    private readonly Dictionary<long, DateTimeOffset> _resentAt = new();
    private (long Number, string Hash)? _anchor;
    private (long Number, string? Hash) _lastHead = (-1, null);
    private bool _unsettled;

    /// <summary>Checks the window at a new head (and every tick while a tx found off the chain is not settled yet).</summary>
    public async Task WatchAsync(BlockInfo head, CancellationToken ct)
    {
        var window = context.Options.ReorgWatchBlocks;
        // A reorg keeps the head's number but not its hash.
        if (window == 0 || ((head.Number, head.Hash) == _lastHead && !_unsettled) || !context.Lease.Holding)
        {
            return;
        }
        _lastHead = (head.Number, head.Hash);
        var txs = await context.Store.ListReconciledBlocksAsync(context.ChainName, context.Address, Math.Max(0, head.Number - window), ct).ConfigureAwait(false);
        var (suspects, complete) = await SuspectsAsync(txs, ct).ConfigureAwait(false);
        _unsettled = suspects.Count > 0 || !complete;
        if (suspects.Count == 0)
        {
            return;
        }
        var latestNonce = await context.Node.GetTransactionCountAsync(context.Address, "latest", ct).ConfigureAwait(false);
        // Bounded work per tick (a new lease holder, or the first run after the upgrade, starts with a whole window to check).
        foreach (var suspect in suspects.Take(context.Options.ConfirmPerTick).TakeWhile(_ => context.Lease.Holding))
        {
            await SettleAsync(suspect, head, latestNonce, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The txs of the window whose block is not (or not known to be) canonical, in nonce order; at most
    /// <see cref="PipelineOptions.ConfirmPerTick"/> blocks are read per tick (Complete is false when some were left for the next).
    /// </summary>
    private async Task<(List<ReconciledBlock> Suspects, bool Complete)> SuspectsAsync(IReadOnlyList<ReconciledBlock> txs, CancellationToken ct)
    {
        var canonical = new Dictionary<long, string?>();
        async Task<string?> HashAtAsync(long number)
        {
            if (!canonical.TryGetValue(number, out var hash))
            {
                hash = canonical[number] = (await context.Node.GetBlockAsync(number, ct).ConfigureAwait(false))?.Hash;
            }
            return hash;
        }
        if (_anchor is { } anchor && !string.Equals(await HashAtAsync(anchor.Number).ConfigureAwait(false), anchor.Hash, StringComparison.OrdinalIgnoreCase))
        {
            // The highest verified block is gone: none of the verified blocks is vouched for any more.
            ReorgSeen(context.Log, context.ChainName, anchor.Number, anchor.Hash);
            _verified.Clear();
            _anchor = null;
        }
        var inWindow = txs.Select(t => t.TxId).ToHashSet();
        foreach (var gone in _verified.Keys.Where(id => !inWindow.Contains(id)).ToList())
        {
            _verified.Remove(gone);
        }
        var suspects = new List<ReconciledBlock>();
        foreach (var tx in txs)
        {
            if (tx.MinedBlockHash is { } stored && _verified.TryGetValue(tx.TxId, out var seen) && seen == stored)
            {
                continue;
            }
            if (canonical.Count >= context.Options.ConfirmPerTick && !canonical.ContainsKey(tx.MinedBlock))
            {
                return (suspects, false);
            }
            if (tx.MinedBlockHash is not null && string.Equals(await HashAtAsync(tx.MinedBlock).ConfigureAwait(false), tx.MinedBlockHash, StringComparison.OrdinalIgnoreCase))
            {
                _verified[tx.TxId] = tx.MinedBlockHash;
                if (_anchor is null || tx.MinedBlock > _anchor.Value.Number)
                {
                    _anchor = (tx.MinedBlock, tx.MinedBlockHash);
                }
                continue;
            }
            suspects.Add(tx);
        }
        return (suspects, true);
    }

    /// <summary>One tx whose block is not canonical: corrected from the receipt the chain has now, re-sent, or queued again.</summary>
    private async Task SettleAsync(ReconciledBlock suspect, BlockInfo head, long latestNonce, CancellationToken ct)
    {
        var tx = await context.Store.GetReconciledTxAsync(suspect.TxId, ct).ConfigureAwait(false);
        if (tx is null)
        {
            return;
        }
        var (receipt, mined) = await Confirmer.FindReceiptAsync(context.Node, tx.Attempts, ct).ConfigureAwait(false);
        if (receipt is null || mined is null)
        {
            await LostAsync(tx, head, latestNonce, ct).ConfigureAwait(false);
            return;
        }
        _misses.Remove(tx.Id);
        if (head.Number - receipt.BlockNumber < context.Chain.Confirmations)
        {
            return; // found again, not yet as deep as the chain's confirmations: read it when it is
        }
        if (mined.Kind == AttemptKind.Cancel || !receipt.Success)
        {
            var why = mined.Kind == AttemptKind.Cancel ? $"its cancel {receipt.TransactionHash} was mined instead" : $"it was mined again as {receipt.TransactionHash} and reverted";
            await RequeueAsync(tx, why, ct).ConfigureAwait(false);
            return;
        }
        var collection = await collections.GetAsync(tx.CollectionId, ct).ConfigureAwait(false);
        var tokens = Reconciler.Assign(tx.Method, tx.Entries, collection.Address, receipt.Logs);
        var corrected = await context.Store.CorrectReorgedTxAsync(Fence, tx.Id, receipt.TransactionHash, receipt.BlockNumber, receipt.BlockHash, tokens, collection,
            context.Chain, context.Now, ct).ConfigureAwait(false);
        if (corrected is null)
        {
            context.Lease.Refused(context.Log, $"reorg correction of nonce {tx.Nonce}");
            return;
        }
        _resentAt.Remove(tx.Id);
        TxFoundAgain(context.Log, context.ChainName, tx.Nonce, tx.MinedHash, tx.MinedBlock, receipt.TransactionHash, receipt.BlockNumber, corrected.Value);
    }

    /// <summary>
    /// No receipt for any attempt. While the chain's nonce has not passed the tx's, its mined bytes are sent again (at
    /// most every <see cref="PipelineOptions.RebroadcastInterval"/>); once it has, after <see cref="Confirmer.MissesBeforeAbandon"/>
    /// lookups spanning at least <c>confirmations</c> new blocks, the nonce went to another tx and this mint can never land:
    /// its requests are queued again.
    /// </summary>
    private async Task LostAsync(ReconciledTx tx, BlockInfo head, long latestNonce, CancellationToken ct)
    {
        if (tx.Nonce >= latestNonce)
        {
            _misses.Remove(tx.Id);
            if (_resentAt.TryGetValue(tx.Id, out var at) && context.Now - at < context.Options.RebroadcastInterval)
            {
                return;
            }
            _resentAt[tx.Id] = context.Now;
            var attempt = tx.Attempts.LastOrDefault(a => a.Hash == tx.MinedHash) ?? tx.Attempts[^1];
            var result = await context.Node.SendRawTransactionAsync(attempt.Raw, ct).ConfigureAwait(false);
            TxResent(context.Log, context.ChainName, tx.Nonce, attempt.Hash, tx.MinedBlock, result.Outcome.ToString());
            return;
        }
        var (count, firstHead) = _misses.GetValueOrDefault(tx.Id, (0, head.Number));
        _misses[tx.Id] = (++count, firstHead);
        if (count >= Confirmer.MissesBeforeAbandon && head.Number - firstHead >= context.Chain.Confirmations)
        {
            await RequeueAsync(tx, $"its nonce {tx.Nonce} was used by another transaction", ct).ConfigureAwait(false);
        }
    }

    private async Task RequeueAsync(ReconciledTx tx, string why, CancellationToken ct)
    {
        var collection = await collections.GetAsync(tx.CollectionId, ct).ConfigureAwait(false);
        var notice = $"transaction {tx.MinedHash} was reorganised out of the chain and {why}; these assets are minted again";
        if (!await context.Store.RequeueReorgedTxAsync(Fence, tx.Id, notice, collection, context.Chain, context.Now, ct).ConfigureAwait(false))
        {
            context.Lease.Refused(context.Log, $"reorg re-queue of nonce {tx.Nonce}");
            return;
        }
        _misses.Remove(tx.Id);
        _resentAt.Remove(tx.Id);
        TxRequeued(context.Log, context.ChainName, tx.Nonce, tx.MinedHash, why);
    }

    private LeaseFence Fence => context.Lease.Fence ?? new LeaseFence(context.ChainName, context.Address, context.Instance, -1);

    [LoggerMessage(EventId = 4040, Level = LogLevel.Warning, Message = "Chain {Chain}: block {Block} ({Hash}) holding reconciled txs is no longer canonical; checking them again")]
    private static partial void ReorgSeen(ILogger log, string chain, long block, string hash);

    [LoggerMessage(EventId = 4041, Level = LogLevel.Warning, Message = "Chain {Chain}: nonce {Nonce} {OldHash} (block {OldBlock}) reorganised: found again as {Hash} in block {Block}; {Corrected} requests corrected")]
    private static partial void TxFoundAgain(ILogger log, string chain, long nonce, string oldHash, long oldBlock, string hash, long block, int corrected);

    [LoggerMessage(EventId = 4042, Level = LogLevel.Warning, Message = "Chain {Chain}: nonce {Nonce} {Hash} (block {Block}) is off the chain after a reorg; sent its bytes again: {Outcome}")]
    private static partial void TxResent(ILogger log, string chain, long nonce, string hash, long block, string outcome);

    [LoggerMessage(EventId = 4043, Level = LogLevel.Warning, Message = "Chain {Chain}: nonce {Nonce} {Hash} was reorganised out of the chain and {Why}; its requests are queued again")]
    private static partial void TxRequeued(ILogger log, string chain, long nonce, string hash, string why);
}
