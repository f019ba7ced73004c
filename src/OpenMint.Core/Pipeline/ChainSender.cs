using System.Globalization;
using System.Numerics;
using Microsoft.Extensions.Logging;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// The one writer of a (chain, signer) while it holds the lease. Each tick: confirm (nonce
/// progression, then receipts), recover (re-send signed-but-unacknowledged and dropped attempts),
/// bump (replace txs pending too long), send (plan, preflight, write ahead, broadcast).
/// </summary>
public sealed partial class ChainSender
{
    public const string MaxSubmissionsMessage = "Exceeded a maximum of 5 submissions";
    public const string BuildFailedPrefix = "transaction failed to build: execution reverted: ";

    private readonly ChainConfig _chain;
    private readonly IChainNode _node;
    private readonly ITxSigner _signer;
    private readonly IPipelineStore _store;
    private readonly ITenancyStore _tenancy;
    private readonly PipelineOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly CrashPoints _crash;
    private readonly string _instance;
    private readonly GasCalibration _calibration = new();
    private readonly Dictionary<long, Collection> _collections = new();
    private readonly Dictionary<long, int> _receiptMisses = new();
    private readonly HashSet<long> _bumpNow = new();

    private bool _holding;
    private long _lastHead = -1;
    private DateTimeOffset _lastPoolSweep;
    private long _nextNonce;
    private long _highestLatestNonce;
    private bool _checkVanished;
    private DateTimeOffset _lastVanishedResend;
    private bool _nonceSyncNeeded = true;
    private string? _pausedReason;
    private DateTimeOffset _lastRpcOk;
    private string? _outageNotice;

    public ChainSender(ChainConfig chain, IChainNode node, ITxSigner signer, IPipelineStore store, ITenancyStore tenancy,
        PipelineOptions options, TimeProvider time, ILogger log, CrashPoints crash, string instance)
    {
        _chain = chain;
        _node = node;
        _signer = signer;
        _store = store;
        _tenancy = tenancy;
        _options = options;
        _time = time;
        _log = log;
        _crash = crash;
        _instance = instance;
        _lastRpcOk = time.GetUtcNow();
    }

    public string Signer => _signer.Address;

    private TimeSpan ConfirmBudget => _options.PollInterval > TimeSpan.FromMilliseconds(250) ? _options.PollInterval : TimeSpan.FromMilliseconds(250);

    /// <summary>One round; returns true when it holds the lease.</summary>
    public async Task<bool> TickAsync(CancellationToken ct)
    {
        var lease = await _store.TryAcquireLeaseAsync(_chain.Name, _signer.Address, _instance, _time.GetUtcNow(), _options.LeaseDuration, ct).ConfigureAwait(false);
        if (lease is null)
        {
            _holding = false;
            return false;
        }
        if (!_holding)
        {
            LeaseTaken(_log, _chain.Name, _signer.Address, _instance);
            _nonceSyncNeeded = true;
            _checkVanished = true;
            _holding = true;
        }
        _pausedReason = lease.PausedReason;
        try
        {
            if (_nonceSyncNeeded || lease.NextNonce is null)
            {
                await SyncNonceAsync(lease, ct).ConfigureAwait(false);
            }
            var block = await _node.GetLatestBlockAsync(ct).ConfigureAwait(false);
            var latestNonce = await _node.GetTransactionCountAsync(_signer.Address, "latest", ct).ConfigureAwait(false);
            await RpcRecoveredAsync(ct).ConfigureAwait(false);
            if (latestNonce < _highestLatestNonce || _checkVanished)
            {
                await ResendVanishedAsync(latestNonce, ct).ConfigureAwait(false);
            }
            _highestLatestNonce = Math.Max(_highestLatestNonce, latestNonce);

            var open = await _store.ListOpenTxsAsync(_chain.Name, _signer.Address, ct).ConfigureAwait(false);
            // Not yet mined (the chain's nonce has not passed them): recover, bump, and count as in flight.
            var stillPending = new List<OpenTx>();
            var waiting = new List<OpenTx>(); // in the pool as far as we know, untouched this tick
            foreach (var tx in open.Where(t => t.Nonce >= latestNonce))
            {
                if (!await ConfirmAsync(tx, latestNonce, block, ct).ConfigureAwait(false))
                {
                    stillPending.Add(tx);
                    if (!await RecoverOrBumpAsync(tx, block, ct).ConfigureAwait(false))
                    {
                        waiting.Add(tx);
                    }
                }
            }
            var now = _time.GetUtcNow();
            if (block.Number != _lastHead || now - _lastPoolSweep >= _options.RebroadcastInterval)
            {
                _lastHead = block.Number;
                _lastPoolSweep = now;
                await ResendDroppedAsync(waiting, ct).ConfigureAwait(false);
            }
            // Send before reconciling what was mined, so the next block gets its txs while receipts are read.
            // While paused, try again only when no stored tx is waiting to be accepted (it is re-sent above).
            if (!_nonceSyncNeeded && (_pausedReason is null || stillPending.All(t => t.Latest.BroadcastAt is not null)))
            {
                await SendNewAsync(block, stillPending, ct).ConfigureAwait(false);
            }
            var started = _time.GetTimestamp();
            foreach (var tx in open.Where(t => t.Nonce < latestNonce).Take(_options.ConfirmPerTick))
            {
                await ConfirmAsync(tx, latestNonce, block, ct).ConfigureAwait(false);
                if (_time.GetElapsedTime(started) > ConfirmBudget)
                {
                    break; // the rest next tick: keep ticks short so new txs keep flowing
                }
            }
        }
        catch (ChainUnavailableException ex)
        {
            await RpcFailedAsync(ex, ct).ConfigureAwait(false);
        }
        return true;
    }

    public Task ReleaseAsync(CancellationToken ct) => _store.ReleaseLeaseAsync(_chain.Name, _signer.Address, _instance, ct);

    /// <summary>
    /// Next nonce = max(stored, chain's pending count): every nonce we used is in the store (written
    /// before broadcast), so a higher pending count means someone else used the key meanwhile.
    /// </summary>
    private async Task SyncNonceAsync(SignerLease lease, CancellationToken ct)
    {
        var pending = await _node.GetTransactionCountAsync(_signer.Address, "pending", ct).ConfigureAwait(false);
        var latest = await _node.GetTransactionCountAsync(_signer.Address, "latest", ct).ConfigureAwait(false);
        var stored = lease.NextNonce ?? 0;
        var next = Math.Max(stored, Math.Max(pending, latest));
        if (!await _store.SetNextNonceAsync(_chain.Name, _signer.Address, _instance, next, ct).ConfigureAwait(false))
        {
            _holding = false;
            return;
        }
        NonceSynced(_log, _chain.Name, _signer.Address, stored, latest, pending, next);
        _nextNonce = next;
        _nonceSyncNeeded = false;
    }

    /// <summary>
    /// The chain's nonce went back below txs that were mined and reconciled (a node restarted from an older state,
    /// a reorg deeper than the confirmation depth): their signed bytes are sent again, in nonce order. Without them
    /// every later nonce would wait forever, and the same bytes can only restore what the store already records.
    /// </summary>
    private async Task ResendVanishedAsync(long latestNonce, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (!_checkVanished && now - _lastVanishedResend < _options.RebroadcastInterval)
        {
            return;
        }
        var vanished = await _store.ListDoneAttemptsFromNonceAsync(_chain.Name, _signer.Address, latestNonce, ct).ConfigureAwait(false);
        _checkVanished = false;
        _lastVanishedResend = now;
        if (vanished.Count == 0)
        {
            return;
        }
        NonceWentBack(_log, _chain.Name, _signer.Address, latestNonce, vanished.Count);
        foreach (var attempt in vanished)
        {
            var result = await _node.SendRawTransactionAsync(attempt.Raw, ct).ConfigureAwait(false);
            if (result.Outcome is not (SendOutcome.Accepted or SendOutcome.NonceTooLow))
            {
                SendRejected(_log, _chain.Name, attempt.Hash, result.Outcome.ToString(), result.Message ?? "");
            }
        }
    }

    /// <summary>Returns true when the tx is settled for this tick (mined and handled, or abandoned).</summary>
    private async Task<bool> ConfirmAsync(OpenTx tx, long latestNonce, BlockInfo block, CancellationToken ct)
    {
        if (tx.Nonce >= latestNonce)
        {
            if (tx.State == TxState.Mined)
            {
                // The chain no longer counts this nonce: its block was reorganised away.
                await _store.MarkUnminedAsync(tx.Id, _time.GetUtcNow(), ct).ConfigureAwait(false);
            }
            return false;
        }
        MintReceipt? receipt = null;
        TxAttemptRecord? mined = null;
        foreach (var attempt in tx.Attempts.Reverse())
        {
            receipt = await _node.GetReceiptAsync(attempt.Hash, ct).ConfigureAwait(false);
            if (receipt is not null)
            {
                mined = attempt;
                break;
            }
        }
        if (receipt is null || mined is null)
        {
            var misses = _receiptMisses[tx.Id] = _receiptMisses.GetValueOrDefault(tx.Id) + 1;
            if (misses >= 5)
            {
                // The nonce is used but by none of our attempts: another tx took it. Nothing of this batch was minted.
                _receiptMisses.Remove(tx.Id);
                NonceTakenElsewhere(_log, _chain.Name, tx.Nonce, tx.Id);
                await _store.AbandonTxAsync(tx.Id, $"nonce {tx.Nonce} was used by another transaction", _time.GetUtcNow(), ct).ConfigureAwait(false);
            }
            return true;
        }
        _receiptMisses.Remove(tx.Id);
        _crash.Hit(CrashPoints.AfterReceipt);
        if (tx.State != TxState.Mined || tx.MinedHash != receipt.TransactionHash)
        {
            await _store.MarkMinedAsync(tx.Id, receipt.TransactionHash, receipt.BlockNumber, _time.GetUtcNow(), ct).ConfigureAwait(false);
        }
        if (block.Number - receipt.BlockNumber < _chain.Confirmations)
        {
            return true;
        }
        var collection = await CollectionAsync(tx.CollectionId, ct).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        if (mined.Kind == AttemptKind.Cancel)
        {
            await _store.FailTxAsync(tx.Id, null, MaxSubmissionsMessage, collection, _chain, now, ct).ConfigureAwait(false);
            TxFailed(_log, _chain.Name, tx.Nonce, receipt.TransactionHash, MaxSubmissionsMessage);
        }
        else if (!receipt.Success)
        {
            var revert = await _node.CallForRevertAsync(_signer.Address, collection.Address, tx.Calldata, mined.GasLimit,
                "0x" + receipt.BlockNumber.ToString("x", CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
            var reason = revert?.Message ?? (receipt.GasUsed >= mined.GasLimit ? "out of gas" : "(no reason)");
            var message = "execution reverted: " + reason;
            await _store.FailTxAsync(tx.Id, receipt.TransactionHash, message, collection, _chain, now, ct).ConfigureAwait(false);
            TxFailed(_log, _chain.Name, tx.Nonce, receipt.TransactionHash, message);
        }
        else
        {
            var tokens = Reconciler.Assign(tx.Method, tx.Entries, collection.Address, receipt.Logs);
            await _store.CompleteTxAsync(tx.Id, receipt.TransactionHash, tokens, collection, _chain, now,
                () => _crash.Hit(CrashPoints.MidReconcile), ct).ConfigureAwait(false);
            TxSucceeded(_log, _chain.Name, tx.Nonce, receipt.TransactionHash, tokens.Count, receipt.GasUsed);
        }
        return true;
    }

    /// <summary>Re-sends a tx never acknowledged, or replaces one pending too long; returns true when it sent something.</summary>
    private async Task<bool> RecoverOrBumpAsync(OpenTx tx, BlockInfo block, CancellationToken ct)
    {
        var latest = tx.Latest;
        if (latest.BroadcastAt is null && !_bumpNow.Contains(tx.Id))
        {
            // Signed and stored, never acknowledged (crash, transport error, no funds): the same bytes again.
            await BroadcastAsync(latest, ct).ConfigureAwait(false);
            return true;
        }
        var sentAt = latest.BroadcastAt ?? latest.CreatedAt;
        if (_bumpNow.Remove(tx.Id) || _time.GetUtcNow() - sentAt >= _options.BumpAfter)
        {
            return await ReplaceAsync(tx, block, ct).ConfigureAwait(false);
        }
        return false;
    }

    /// <summary>
    /// At each new block, and every <see cref="PipelineOptions.RebroadcastInterval"/> when blocks do not come: the txs
    /// of ours the node no longer has (dropped, evicted, lost in a node restart) are sent again, in nonce order, with
    /// one batched check for all of them. Right after a block matters: a builder that skips one of our txs for lack
    /// of block gas leaves the later nonces unexecutable for that block, and Anvil drops them from its pool then
    /// (geth keeps them), so waiting would leave the next blocks without them.
    /// </summary>
    private async Task ResendDroppedAsync(List<OpenTx> candidates, CancellationToken ct)
    {
        var waiting = candidates.Where(t => t.Latest.BroadcastAt is not null).OrderBy(t => t.Nonce).ToList();
        if (waiting.Count == 0)
        {
            return;
        }
        var known = await _node.AreKnownAsync(waiting.Select(t => t.Latest.Hash).ToList(), ct).ConfigureAwait(false);
        var missing = waiting.Where((_, i) => !known[i]).ToList();
        if (missing.Count == 0)
        {
            return;
        }
        TxsDropped(_log, _chain.Name, missing.Count, missing[0].Nonce, missing[^1].Nonce);
        foreach (var tx in missing)
        {
            if (await BroadcastAsync(tx.Latest, ct).ConfigureAwait(false) is SendOutcome.InsufficientFunds or SendOutcome.NonceTooHigh)
            {
                return;
            }
        }
    }

    /// <summary>Signs and sends the next version of the tx; returns false when it cannot be re-priced (it keeps waiting as it is).</summary>
    private async Task<bool> ReplaceAsync(OpenTx tx, BlockInfo block, CancellationToken ct)
    {
        var latest = tx.Latest;
        var market = await MarketFeesAsync(block, ct).ConfigureAwait(false);
        var fees = FeePolicy.Bump(latest.Fees, market, _options.MaxFeeWei);
        if (fees is null)
        {
            var notice = $"transaction {latest.Hash} (nonce {tx.Nonce}) is not mined and cannot be re-priced: the next price exceeds Pipeline:MaxFeePerGas ({_options.MaxFeePerGas} wei)";
            if (tx.LastError != notice)
            {
                FeeCapReached(_log, _chain.Name, tx.Nonce, _options.MaxFeePerGas);
                await _store.SetTxNoticeAsync(tx.Id, notice, _time.GetUtcNow(), ct).ConfigureAwait(false);
            }
            return false; // keeps waiting as it is; the pool sweep re-sends it if it is dropped
        }
        var collection = await CollectionAsync(tx.CollectionId, ct).ConfigureAwait(false);
        SignedMintTx signed;
        string kind;
        long gasLimit;
        if (tx.MintSubmissions >= _options.MaxSubmissions || latest.Kind == AttemptKind.Cancel)
        {
            // Give up on the mint, but only once the nonce is taken by a no-op: until then any of the
            // signed mint versions could still be mined, and its assets must not be failed meanwhile.
            kind = AttemptKind.Cancel;
            gasLimit = 21_000;
            signed = _signer.Sign(_chain.ChainId, tx.Nonce, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit, _signer.Address, BigInteger.Zero, []);
            if (latest.Kind != AttemptKind.Cancel)
            {
                await _store.SetTxNoticeAsync(tx.Id, $"{MaxSubmissionsMessage}; cancelling nonce {tx.Nonce}", _time.GetUtcNow(), ct).ConfigureAwait(false);
            }
        }
        else
        {
            kind = AttemptKind.Mint;
            // Re-estimate (state may have moved since the first estimate), but never lower a gas limit on replacement.
            gasLimit = latest.GasLimit;
            var estimate = await _node.EstimateGasAsync(_signer.Address, collection.Address, tx.Calldata, ct).ConfigureAwait(false);
            if (estimate.Ok)
            {
                gasLimit = Math.Max(gasLimit, GasLimitFor(estimate.Gas));
            }
            signed = _signer.Sign(_chain.ChainId, tx.Nonce, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit, collection.Address, BigInteger.Zero, tx.Calldata);
        }
        var attempt = new NewAttempt(kind, signed.Raw, signed.Hash, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit);
        var id = await _store.AddAttemptAsync(tx.Id, attempt, _time.GetUtcNow(), ct).ConfigureAwait(false);
        TxReplaced(_log, _chain.Name, tx.Nonce, latest.Hash, signed.Hash, kind, fees.MaxPriorityFeePerGas.ToString(CultureInfo.InvariantCulture), fees.MaxFeePerGas.ToString(CultureInfo.InvariantCulture));
        _crash.Hit(CrashPoints.AfterSign);
        var record = new TxAttemptRecord(id, tx.Id, kind, signed.Raw, signed.Hash, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit, _time.GetUtcNow(), null, null);
        await BroadcastAsync(record, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Sends stored bytes and acts on the classified answer.</summary>
    private async Task<SendOutcome> BroadcastAsync(TxAttemptRecord attempt, CancellationToken ct)
    {
        var result = await _node.SendRawTransactionAsync(attempt.Raw, ct).ConfigureAwait(false);
        _crash.Hit(CrashPoints.AfterBroadcast);
        var now = _time.GetUtcNow();
        switch (result.Outcome)
        {
            case SendOutcome.Accepted:
                await _store.MarkBroadcastAsync(attempt.Id, SendOutcome.Accepted, true, now, ct).ConfigureAwait(false);
                if (_pausedReason is not null)
                {
                    await ResumeAsync(ct).ConfigureAwait(false);
                }
                break;
            case SendOutcome.Unknown:
                // Maybe sent: keep it unacknowledged, the next tick sends the same bytes again.
                SendUnknown(_log, _chain.Name, attempt.Hash, result.Message ?? "");
                break;
            case SendOutcome.InsufficientFunds:
                // Unacknowledged: re-sent every tick, and accepted as soon as the minter is funded.
                await _store.MarkBroadcastAsync(attempt.Id, result.Outcome, false, now, ct).ConfigureAwait(false);
                var balance = await _node.GetBalanceAsync(_signer.Address, ct).ConfigureAwait(false);
                await PauseAsync(FundsReason(balance), ct).ConfigureAwait(false);
                break;
            case SendOutcome.NonceTooLow:
                // Either one of our versions is mined (confirm finds its receipt) or the nonce went elsewhere (confirm abandons).
                await _store.MarkBroadcastAsync(attempt.Id, result.Outcome, true, now, ct).ConfigureAwait(false);
                break;
            case SendOutcome.FeeCapBelowBaseFee:
                await _store.MarkBroadcastAsync(attempt.Id, result.Outcome, true, now, ct).ConfigureAwait(false);
                _bumpNow.Add(attempt.TxId);
                break;
            case SendOutcome.NonceTooHigh:
                _nonceSyncNeeded = true;
                await _store.MarkBroadcastAsync(attempt.Id, result.Outcome, false, now, ct).ConfigureAwait(false);
                SendRejected(_log, _chain.Name, attempt.Hash, result.Outcome.ToString(), result.Message ?? "");
                break;
            default:
                // Underpriced, rejected, too big: keep the tx, replace it after BumpAfter (each replacement is a submission).
                await _store.MarkBroadcastAsync(attempt.Id, result.Outcome, true, now, ct).ConfigureAwait(false);
                await _store.SetTxNoticeAsync(attempt.TxId, $"the node refused transaction {attempt.Hash}: {result.Message}", now, ct).ConfigureAwait(false);
                SendRejected(_log, _chain.Name, attempt.Hash, result.Outcome.ToString(), result.Message ?? "");
                break;
        }
        return result.Outcome;
    }

    private async Task SendNewAsync(BlockInfo block, List<OpenTx> pending, CancellationToken ct)
    {
        var inFlight = pending.Count;
        if (inFlight >= _options.MaxInFlight)
        {
            return;
        }
        var target = BatchPlanner.TargetGas(block.GasLimit, _options.PerTxGasCap, _options.GasLimitMargin);
        var maxGas = Math.Min(block.GasLimit, _options.PerTxGasCap);
        var now = _time.GetUtcNow();
        var candidates = new List<(Collection Collection, MintMethod Method, List<QueuedMint> Mints)>();
        foreach (var collectionId in await _store.ListQueuedCollectionsAsync(_chain.Name, ct).ConfigureAwait(false))
        {
            var collection = await CollectionAsync(collectionId, ct).ConfigureAwait(false);
            var queued = await _store.ListQueuedAsync(collectionId, _options.PlanWindow, ct).ConfigureAwait(false);
            var created = queued.ToDictionary(q => q.Id, q => q.CreatedAt);
            var filling = queued.Count > 0 && now - queued.Max(q => q.CreatedAt) < _options.BatchQuietPeriod;
            foreach (var group in queued.GroupBy(q => MintBatch.MethodFor(collection, q.ByQuantity)))
            {
                var method = group.Key;
                var mints = group.Select(ToQueued).ToList();
                var byId = mints.ToDictionary(m => m.RequestId);
                foreach (var plan in BatchPlanner.Plan(collection, method, mints, target, _calibration.Ratio(collectionId, method)))
                {
                    var oldest = plan.Batch.RequestIds.Min(id => created[id]);
                    if (!plan.Full && filling && now - oldest < _options.MaxBatchWait)
                    {
                        continue; // a partial batch waits for company (Nagle): merged later, it costs less gas
                    }
                    candidates.Add((collection, method, plan.Batch.RequestIds.Select(id => byId[id]).ToList()));
                }
            }
        }
        candidates = candidates.Take(_options.MaxInFlight - inFlight).ToList();
        if (candidates.Count == 0)
        {
            return;
        }
        // Preflight concurrently (estimating a block-sized call takes the node a while), then give out
        // nonces in an order that packs blocks (BlockPacker: one sender's txs are mined strictly in nonce order).
        using var gate = new SemaphoreSlim(_options.PreflightConcurrency);
        var preflights = await Task.WhenAll(candidates.Select(async c =>
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                return (await PreflightAsync(c.Collection, c.Method, c.Mints, maxGas, ct).ConfigureAwait(false)).Select(r => (c.Collection, r.Batch, r.Gas));
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);
        var items = preflights.SelectMany(p => p).ToList();
        var ordered = BlockPacker.Order(pending.OrderBy(t => t.Nonce).Select(t => (t.Latest.GasLimit, t.GasEstimate)), items,
            i => GasLimitFor(i.Gas), i => i.Gas, block.GasLimit)
            .Take(_options.MaxInFlight - inFlight).ToList();
        if (ordered.Count == 0)
        {
            return;
        }
        var fees = await MarketFeesAsync(block, ct).ConfigureAwait(false);
        // Write ahead in groups: one store transaction (one fsync) for several signed txs, then their broadcasts.
        foreach (var group in ordered.Chunk(_options.WriteAheadGroup))
        {
            if (!await SendGroupAsync(group, fees, ct).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private long GasLimitFor(long estimate) => Math.Max(estimate, Math.Min((long)Math.Ceiling(estimate * _options.GasLimitMargin), _options.PerTxGasCap));

    /// <summary>
    /// eth_estimateGas for the batch; a revert is bisected down to the assets that cause it, which fail
    /// without a transaction. Batches over the gas limits are split. Returns what can be sent.
    /// </summary>
    private async Task<List<(MintBatch Batch, long Gas)>> PreflightAsync(Collection collection, MintMethod method, List<QueuedMint> mints, long maxGas, CancellationToken ct)
    {
        var result = new List<(MintBatch, long)>();
        var ratio = _calibration.Ratio(collection.Id, method);
        var batch = BatchPlanner.Build(collection, method, mints, ratio);
        var estimate = await _node.EstimateGasAsync(_signer.Address, collection.Address, batch.Calldata(), ct).ConfigureAwait(false);
        if (estimate.Ok)
        {
            _calibration.Observe(collection.Id, method, (long)(batch.EstimatedGas / ratio), estimate.Gas);
            if (mints.Count > 1 && estimate.Gas * _options.GasLimitMargin > maxGas)
            {
                result.AddRange(await PreflightAsync(collection, method, mints[..(mints.Count / 2)], maxGas, ct).ConfigureAwait(false));
                result.AddRange(await PreflightAsync(collection, method, mints[(mints.Count / 2)..], maxGas, ct).ConfigureAwait(false));
                return result;
            }
            result.Add((batch, estimate.Gas));
            return result;
        }
        var error = estimate.Error!;
        switch (error.Outcome)
        {
            case SendOutcome.Reverted:
                var reason = error.Message ?? "(no reason)";
                if (mints.Count == 1 || IsCollectionWide(reason))
                {
                    var message = BuildFailedPrefix + reason;
                    await _store.FailQueuedAsync(mints.Select(m => m.RequestId).ToList(), message, collection, _chain, _time.GetUtcNow(), ct).ConfigureAwait(false);
                    PreflightFailed(_log, _chain.Name, collection.Address, mints.Count, message);
                    return result;
                }
                result.AddRange(await PreflightAsync(collection, method, mints[..(mints.Count / 2)], maxGas, ct).ConfigureAwait(false));
                result.AddRange(await PreflightAsync(collection, method, mints[(mints.Count / 2)..], maxGas, ct).ConfigureAwait(false));
                return result;
            case SendOutcome.InsufficientFunds:
                await PauseAsync(FundsReason(await _node.GetBalanceAsync(_signer.Address, ct).ConfigureAwait(false)), ct).ConfigureAwait(false);
                return result;
            case SendOutcome.TooBig when mints.Count > 1:
                result.AddRange(await PreflightAsync(collection, method, mints[..(mints.Count / 2)], maxGas, ct).ConfigureAwait(false));
                result.AddRange(await PreflightAsync(collection, method, mints[(mints.Count / 2)..], maxGas, ct).ConfigureAwait(false));
                return result;
            case SendOutcome.Unknown:
                throw new ChainUnavailableException(error.Message ?? "eth_estimateGas failed");
            default:
                EstimateRejected(_log, _chain.Name, collection.Address, error.Outcome.ToString(), error.Message ?? "");
                return result;
        }
    }

    /// <summary>Reasons that fail every asset of the collection alike: no need to bisect.</summary>
    private static bool IsCollectionWide(string reason) =>
        reason.StartsWith("AccessControl:", StringComparison.Ordinal) || reason.Contains("is missing role", StringComparison.Ordinal)
        || reason.StartsWith("Pausable:", StringComparison.Ordinal);

    /// <summary>Signs with the next nonce, stores batch + tx + attempt in one transaction, then broadcasts.</summary>
    private async Task<bool> SendGroupAsync(IReadOnlyList<(Collection Collection, MintBatch Batch, long Gas)> group, Fees fees, CancellationToken ct)
    {
        var nonce = _nextNonce;
        var txs = new List<NewTx>(group.Count);
        foreach (var (collection, batch, estimate) in group)
        {
            var gasLimit = GasLimitFor(estimate);
            var signed = _signer.Sign(_chain.ChainId, nonce + txs.Count, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit, collection.Address, BigInteger.Zero, batch.Calldata());
            txs.Add(new NewTx(nonce + txs.Count, batch with { EstimatedGas = estimate },
                new NewAttempt(AttemptKind.Mint, signed.Raw, signed.Hash, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit)));
        }
        var recorded = await _store.RecordTxsAsync(_chain.Name, _signer.Address, _instance, txs, _time.GetUtcNow(), ct).ConfigureAwait(false);
        if (recorded is null)
        {
            // Lease lost, nonce moved, or a request changed: nothing was written; start over next tick.
            _nonceSyncNeeded = true;
            return false;
        }
        _nextNonce = nonce + txs.Count;
        for (var i = 0; i < txs.Count; i++)
        {
            TxSigned(_log, _chain.Name, txs[i].Nonce, txs[i].Attempt.Hash, txs[i].Batch.Method.ToString(), txs[i].Batch.RequestCount, txs[i].Batch.EstimatedGas);
        }
        _crash.Hit(CrashPoints.AfterSign);
        for (var i = 0; i < txs.Count; i++)
        {
            var a = txs[i].Attempt;
            var record = new TxAttemptRecord(recorded[i].AttemptId, recorded[i].TxId, AttemptKind.Mint, a.Raw, a.Hash, a.MaxPriorityFeePerGas, a.MaxFeePerGas, a.GasLimit, _time.GetUtcNow(), null, null);
            var outcome = await BroadcastAsync(record, ct).ConfigureAwait(false);
            if (outcome is SendOutcome.InsufficientFunds or SendOutcome.NonceTooHigh)
            {
                return false; // the rest are stored and go out with recovery once this one is accepted
            }
        }
        return true;
    }

    private async Task<Fees> MarketFeesAsync(BlockInfo block, CancellationToken ct)
    {
        var tip = await _node.MaxPriorityFeePerGasAsync(ct).ConfigureAwait(false);
        return FeePolicy.Initial(tip, block.BaseFeePerGas, _options.MinTipWei, _options.MaxFeeWei);
    }

    private string FundsReason(BigInteger balance) =>
        $"minting on chain {_chain.Name} is paused: the minter {_signer.Address} has insufficient funds for gas (balance {balance} wei); fund it and minting resumes";

    private async Task PauseAsync(string reason, CancellationToken ct)
    {
        if (_pausedReason != reason)
        {
            SignerPaused(_log, _chain.Name, _signer.Address, reason);
        }
        _pausedReason = reason;
        await _store.SetSignerNoticeAsync(_chain.Name, _signer.Address, reason, _time.GetUtcNow(), ct).ConfigureAwait(false);
    }

    private async Task ResumeAsync(CancellationToken ct)
    {
        SignerResumed(_log, _chain.Name, _signer.Address);
        _pausedReason = null;
        await _store.SetSignerNoticeAsync(_chain.Name, _signer.Address, null, _time.GetUtcNow(), ct).ConfigureAwait(false);
    }

    private async Task RpcFailedAsync(ChainUnavailableException ex, CancellationToken ct)
    {
        RpcUnavailable(_log, _chain.Name, ex.Message);
        var now = _time.GetUtcNow();
        if (now - _lastRpcOk >= _options.RpcOutageNoticeAfter && (_pausedReason is null || IsOutageNotice(_pausedReason)))
        {
            // Every failing tick, not once: requests accepted during the outage must show the notice too
            // (the store only touches pending requests that do not show it yet).
            _outageNotice ??= IsOutageNotice(_pausedReason) ? _pausedReason : $"chain {_chain.Name} is unreachable since {Time.ToWire(_lastRpcOk)} ({ex.Message}); minting resumes when it answers";
            await _store.SetSignerNoticeAsync(_chain.Name, _signer.Address, _outageNotice, now, ct).ConfigureAwait(false);
        }
    }

    private bool IsOutageNotice(string? reason) => reason?.StartsWith($"chain {_chain.Name} is unreachable", StringComparison.Ordinal) == true;

    private async Task RpcRecoveredAsync(CancellationToken ct)
    {
        _lastRpcOk = _time.GetUtcNow();
        if (_outageNotice is not null)
        {
            _outageNotice = null;
            if (_pausedReason is not null && _pausedReason.StartsWith($"chain {_chain.Name} is unreachable", StringComparison.Ordinal))
            {
                await ResumeAsync(ct).ConfigureAwait(false);
            }
        }
        else if (_pausedReason is not null && _pausedReason.StartsWith($"chain {_chain.Name} is unreachable", StringComparison.Ordinal))
        {
            // A notice left by a previous instance.
            await ResumeAsync(ct).ConfigureAwait(false);
        }
    }

    private async Task<Collection> CollectionAsync(long id, CancellationToken ct)
    {
        if (!_collections.TryGetValue(id, out var collection))
        {
            collection = await _tenancy.GetCollectionByIdAsync(id, ct).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"collection {id} is gone");
            _collections[id] = collection;
        }
        return collection;
    }

    private static QueuedMint ToQueued(MintRequestRecord r) => new(
        r.Id, r.OwnerAddress.ToLowerInvariant(),
        r.ByQuantity || r.TokenId is null ? null : BigInteger.Parse(r.TokenId, CultureInfo.InvariantCulture),
        r.Amount is null ? BigInteger.One : BigInteger.Parse(r.Amount, CultureInfo.InvariantCulture));

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Chain {Chain}: signer {Signer} lease taken by instance {Instance}")]
    private static partial void LeaseTaken(ILogger log, string chain, string signer, string instance);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Chain {Chain}: signer {Signer} nonce synced (stored {Stored}, latest {Latest}, pending {Pending}) -> next {Next}")]
    private static partial void NonceSynced(ILogger log, string chain, string signer, long stored, long latest, long pending, long next);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Chain {Chain}: signed nonce {Nonce} {Hash}: {Method} of {Count} assets, estimated {Gas} gas")]
    private static partial void TxSigned(ILogger log, string chain, long nonce, string hash, string method, int count, long gas);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Chain {Chain}: nonce {Nonce} {Hash} succeeded: {Count} tokens, {GasUsed} gas")]
    private static partial void TxSucceeded(ILogger log, string chain, long nonce, string hash, int count, long gasUsed);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Chain {Chain}: nonce {Nonce} {Hash} failed: {Reason}")]
    private static partial void TxFailed(ILogger log, string chain, long nonce, string hash, string reason);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning, Message = "Chain {Chain}: nonce {Nonce} {OldHash} replaced by {NewHash} ({Kind}) at tip {Tip} cap {Cap}")]
    private static partial void TxReplaced(ILogger log, string chain, long nonce, string oldHash, string newHash, string kind, string tip, string cap);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "Chain {Chain}: {Count} txs (nonces {First}..{Last}) are not in the node's pool any more; re-sending")]
    private static partial void TxsDropped(ILogger log, string chain, int count, long first, long last);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Warning, Message = "Chain {Chain}: nonce {Nonce} (tx {TxId}) was used by another transaction; its requests are planned again")]
    private static partial void NonceTakenElsewhere(ILogger log, string chain, long nonce, long txId);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Error, Message = "Chain {Chain}: nonce {Nonce} cannot be re-priced under Pipeline:MaxFeePerGas = {MaxFee} wei")]
    private static partial void FeeCapReached(ILogger log, string chain, long nonce, string maxFee);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Warning, Message = "Chain {Chain}: send of {Hash} outcome unknown ({Message}); will send the same bytes again")]
    private static partial void SendUnknown(ILogger log, string chain, string hash, string message);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Warning, Message = "Chain {Chain}: node refused {Hash}: {Outcome} {Message}")]
    private static partial void SendRejected(ILogger log, string chain, string hash, string outcome, string message);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Warning, Message = "Chain {Chain}: collection {Collection}: {Count} assets failed preflight: {Message}")]
    private static partial void PreflightFailed(ILogger log, string chain, string collection, int count, string message);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Warning, Message = "Chain {Chain}: collection {Collection}: estimate refused: {Outcome} {Message}")]
    private static partial void EstimateRejected(ILogger log, string chain, string collection, string outcome, string message);

    [LoggerMessage(EventId = 4014, Level = LogLevel.Error, Message = "Chain {Chain}: signer {Signer} paused: {Reason}")]
    private static partial void SignerPaused(ILogger log, string chain, string signer, string reason);

    [LoggerMessage(EventId = 4015, Level = LogLevel.Information, Message = "Chain {Chain}: signer {Signer} resumed")]
    private static partial void SignerResumed(ILogger log, string chain, string signer);

    [LoggerMessage(EventId = 4016, Level = LogLevel.Warning, Message = "Chain {Chain}: RPC unavailable: {Message}")]
    private static partial void RpcUnavailable(ILogger log, string chain, string message);

    [LoggerMessage(EventId = 4018, Level = LogLevel.Warning, Message = "Chain {Chain}: signer {Signer}: the chain's nonce went back to {Nonce}; re-sending {Count} reconciled txs it lost")]
    private static partial void NonceWentBack(ILogger log, string chain, string signer, long nonce, int count);
}
