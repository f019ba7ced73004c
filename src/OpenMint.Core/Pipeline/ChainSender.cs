using Microsoft.Extensions.Logging;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// The one writer of a (chain, signer) while it holds the lease; composes the transaction manager's parts once per
/// tick: <see cref="NonceLease"/> (lease, nonces, write-ahead), <see cref="Confirmer"/> (nonce progression, receipts,
/// reconciliation), <see cref="Broadcaster"/> (sends, pool checks, re-sends), <see cref="FeeBumper"/> (replacements),
/// <see cref="BatchPreparer"/> (plan, preflight, bisect), <see cref="BlockClock"/> (when the next block comes, so
/// partial batches go out in time for it), <see cref="SignerStatus"/> (paused / unreachable notices) and
/// <see cref="ReorgWatcher"/> (reconciled txs whose block a deep reorg replaced).
/// </summary>
internal sealed class ChainSender
{
    public const string MaxSubmissionsMessage = "Exceeded a maximum of 5 submissions";
    public const string BuildFailedPrefix = "transaction failed to build: execution reverted: ";

    private readonly SenderContext _context;
    private readonly NonceLease _nonces;
    private readonly SignerStatus _status;
    private readonly Broadcaster _broadcaster;
    private readonly FeeBumper _bumper;
    private readonly Confirmer _confirmer;
    private readonly BatchPreparer _preparer;
    private readonly BlockClock _clock;
    private readonly WalletFunds _funds;
    private readonly ReorgWatcher _reorgs;

    public ChainSender(SenderContext context, ITenancyStore tenancy)
    {
        var collections = new CollectionCache(tenancy);
        _context = context;
        _nonces = new NonceLease(context);
        _status = new SignerStatus(context);
        _broadcaster = new Broadcaster(context, _nonces, _status);
        _bumper = new FeeBumper(context, _broadcaster, collections);
        _confirmer = new Confirmer(context, collections);
        _preparer = new BatchPreparer(context, collections, _status);
        _clock = new BlockClock(context.Options);
        _funds = new WalletFunds(context, _nonces, _status, _bumper);
        _reorgs = new ReorgWatcher(context, collections);
    }

    public string Signer => _context.Address;

    /// <summary>This instance held the wallet's lease at the end of its last tick.</summary>
    public bool Holding => _context.Lease.Holding;

    private int _share = 1;

    /// <summary>
    /// True after a tick that sent txs on a chain without a trusted block schedule (automine: they are mined as they
    /// arrive): the next tick comes after a tenth of the poll interval (50 ms at most), to reconcile them and send what queued meanwhile.
    /// </summary>
    public bool WantsQuickTick { get; private set; }

    /// <summary>
    /// No block schedule is trusted for the chain (automine, or not learned yet): what is queued goes out at once, so the
    /// worker ticks when intake accepts requests (<see cref="MintQueueSignal"/>) instead of waiting for its poll.
    /// </summary>
    public bool SendsAtOnce => !_clock.Scheduled;

    /// <summary>The last tick took batches from the queue (prepared new txs to sign).</summary>
    public bool TookBatches { get; private set; }

    /// <summary>One round; returns true when it (still) holds the lease. A fenced write the store refused ends the round at once.</summary>
    public Task<bool> TickAsync(CancellationToken ct) => TickAsync(1, ct);

    /// <summary>
    /// One round taking at most a <paramref name="share"/>-th of the batches ready now (the worker ticks a chain's
    /// wallets in turn: the first of two takes half, the second what is left), so the wallets split the queue.
    /// </summary>
    public async Task<bool> TickAsync(int share, CancellationToken ct)
    {
        _share = Math.Max(1, share);
        TookBatches = false;
        var lease = await _nonces.AcquireAsync(ct).ConfigureAwait(false);
        if (lease is null)
        {
            return false;
        }
        _status.Load(lease.PausedReason);
        try
        {
            await RoundAsync(lease, ct).ConfigureAwait(false);
        }
        catch (ChainUnavailableException ex)
        {
            await _status.RpcFailedAsync(ex, ct).ConfigureAwait(false);
        }
        return _context.Lease.Holding;
    }

    public Task ReleaseAsync(CancellationToken ct) => _nonces.ReleaseAsync(ct);

    /// <summary>Renews a held lease while other wallets' rounds run (see <c>PipelineWorker.KeepLeasesAsync</c>).</summary>
    public Task RenewLeaseAsync(CancellationToken ct) => _nonces.RenewHeldAsync(ct);

    private async Task RoundAsync(SignerLease lease, CancellationToken ct)
    {
        WantsQuickTick = false;
        if (_nonces.SyncNeeded)
        {
            await _nonces.SyncAsync(lease, ct).ConfigureAwait(false);
            if (!_context.Lease.Holding)
            {
                return;
            }
        }
        var block = await _context.Node.GetLatestBlockAsync(ct).ConfigureAwait(false);
        var firstHead = _clock.Empty;
        _clock.Observe(block, _context.Now);
        if (firstHead)
        {
            await SeedClockAsync(block, ct).ConfigureAwait(false);
        }
        var latestNonce = await _context.Node.GetTransactionCountAsync(_context.Address, "latest", ct).ConfigureAwait(false);
        await _status.RpcAnsweredAsync(ct).ConfigureAwait(false);
        if (_nonces.ObserveLatest(latestNonce))
        {
            await _broadcaster.ResendLostAsync(latestNonce, ct).ConfigureAwait(false);
            _nonces.LostTxsChecked();
        }
        var sittingOut = await _funds.SittingOutAsync(block, ct).ConfigureAwait(false);
        await _funds.CheckLowBalanceAsync(ct).ConfigureAwait(false);
        var open = await _context.Store.ListOpenTxsAsync(_context.ChainName, _context.Address, ct).ConfigureAwait(false);
        var (pending, untouched) = await RecoverAndBumpAsync(open, latestNonce, block, ct).ConfigureAwait(false);
        if (!_context.Lease.Holding)
        {
            return;
        }
        await _broadcaster.CheckPoolAsync(block, untouched, ct).ConfigureAwait(false);
        // Send before reconciling what was mined, so the next block gets its txs while receipts are read.
        // While paused, try again only when no stored tx is waiting to be accepted (it is re-sent above).
        if (_context.Lease.Holding && !_nonces.SyncNeeded && !sittingOut && (_status.Current is not { HoldsSends: true } || pending.All(t => t.Latest.BroadcastAt is not null)))
        {
            await SendNewAsync(block, pending, ct).ConfigureAwait(false);
        }
        else if (pending.Count > 0)
        {
            _clock.Busy();
        }
        await _confirmer.ConfirmMinedAsync(open, latestNonce, block, ct).ConfigureAwait(false);
        await _reorgs.WatchAsync(block, ct).ConfigureAwait(false);
    }

    /// <summary>The blocks before the first head seen, so a sender that starts into a burst knows the chain's schedule.</summary>
    private async Task SeedClockAsync(BlockInfo head, CancellationToken ct)
    {
        var history = new List<BlockInfo>();
        for (var n = Math.Max(0, head.Number - BlockClock.HistoryBlocks); n < head.Number; n++)
        {
            if (await _context.Node.GetBlockAsync(n, ct).ConfigureAwait(false) is { } b)
            {
                history.Add(b);
            }
        }
        history.Add(head);
        _clock.Seed(history, _context.Now);
        SenderLog.ClockSeeded(_context.Log, _context.ChainName, string.Join(" ", history.Select(b => $"{b.Number}@{b.Timestamp}")), _clock.Scheduled);
    }

    /// <summary>
    /// Txs the chain's nonce has not passed: a mined one whose block went away is pending again; one never
    /// acknowledged is sent again (same bytes); one pending too long is replaced. Returns the pending txs (in flight)
    /// and those of them left untouched this tick (for the pool check).
    /// </summary>
    private async Task<(List<OpenTx> Pending, List<OpenTx> Untouched)> RecoverAndBumpAsync(IReadOnlyList<OpenTx> open, long latestNonce, BlockInfo block, CancellationToken ct)
    {
        var pending = new List<OpenTx>();
        var untouched = new List<OpenTx>();
        foreach (var tx in open.Where(t => t.Nonce >= latestNonce).TakeWhile(_ => _context.Lease.Holding))
        {
            if (await _confirmer.ConfirmAsync(tx, latestNonce, block, ct).ConfigureAwait(false))
            {
                continue;
            }
            pending.Add(tx);
            if (tx.Latest.BroadcastAt is null && !_broadcaster.RepriceRequested(tx.Id))
            {
                // Signed and stored, never acknowledged (crash, transport error, no funds): the same bytes again.
                await _broadcaster.BroadcastAsync(tx.Latest, ct).ConfigureAwait(false);
            }
            else if (!_bumper.IsDue(tx) || !await _bumper.ReplaceAsync(tx, block, ct).ConfigureAwait(false))
            {
                untouched.Add(tx);
            }
        }
        return (pending, untouched);
    }

    /// <summary>
    /// A wallet among several whose oldest pending tx has waited <see cref="PipelineOptions.WalletStuckAfter"/> takes no
    /// new batches (they would only queue behind that nonce): the chain's other wallets take them until it moves.
    /// </summary>
    private bool Stuck(IReadOnlyList<OpenTx> pending)
    {
        if (!_context.Shared || pending.Count == 0 || _context.Now - pending.Min(t => t.CreatedAt) < _context.Options.WalletStuckAfter)
        {
            _stuckSaid = false;
            return false;
        }
        if (!_stuckSaid)
        {
            _stuckSaid = true;
            SenderLog.WalletStuck(_context.Log, _context.ChainName, _context.Address, pending.Min(t => t.Nonce), _context.Options.WalletStuckAfter.TotalSeconds);
        }
        return true;
    }

    private bool _stuckSaid;

    /// <summary>The head at which the last round planned.</summary>
    private long _plannedAt = -1;

    /// <summary>Prepares new txs while fewer than <see cref="PipelineOptions.MaxInFlight"/> are pending, writes them ahead in groups, broadcasts.</summary>
    private async Task SendNewAsync(BlockInfo block, IReadOnlyList<OpenTx> pending, CancellationToken ct)
    {
        if (pending.Count > 0)
        {
            _clock.Busy();
        }
        var room = _context.Options.MaxInFlight - pending.Count;
        if (room <= 0 || Stuck(pending))
        {
            return;
        }
        var holdUntil = _clock.HoldPartialsUntil(pending.Sum(t => t.Latest.GasLimit), block.GasLimit);
        if (holdUntil == DateTimeOffset.MaxValue && _plannedAt == block.Number)
        {
            // The txs in flight fill the next block: a batch planned now lands no earlier than one planned at the next head,
            // so under a backlog the queue (up to PlanWindow rows per collection) is read and planned once per head, not
            // on every tick (it was ~10 % of the process in the single-asset intake benchmark).
            return;
        }
        _plannedAt = block.Number;
        var hold = new PartialHold(holdUntil, _clock.SteadyInterval);
        var prepared = await _preparer.PrepareAsync(block, pending, room, hold, _share, ct).ConfigureAwait(false);
        if (prepared.Count == 0)
        {
            return;
        }
        _clock.Busy();
        TookBatches = true;
        WantsQuickTick = !_clock.Scheduled;
        var fees = await _bumper.MarketFeesAsync(block, ct).ConfigureAwait(false);
        // Write ahead in groups: one store transaction (one fsync) for several signed txs, then their broadcasts.
        foreach (var group in prepared.Chunk(_context.Options.WriteAheadGroup))
        {
            var attempts = await _nonces.WriteAheadAsync(group, fees, ct).ConfigureAwait(false);
            if (attempts is null || !await _broadcaster.BroadcastInOrderAsync(attempts, ct).ConfigureAwait(false))
            {
                return;
            }
        }
    }
}

internal static partial class SenderLog
{
    [LoggerMessage(EventId = 4061, Level = LogLevel.Warning, Message = "Chain {Chain}: wallet {Signer} is stuck at nonce {Nonce} (pending over {Seconds} s): it takes no new batches until it moves")]
    public static partial void WalletStuck(ILogger log, string chain, string signer, long nonce, double seconds);

    [LoggerMessage(EventId = 4077, Level = LogLevel.Debug, Message = "Chain {Chain}: blocks before the first head (number@timestamp) {Blocks}: schedule trusted {Scheduled}")]
    public static partial void ClockSeeded(ILogger log, string chain, string blocks, bool scheduled);
}
