using System.Globalization;
using System.Numerics;
using Microsoft.Extensions.Logging;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Pipeline;

/// <summary>A batch ready to be signed: preflight passed with <paramref name="Gas"/> estimated.</summary>
internal sealed record PreparedTx(Collection Collection, MintBatch Batch, long Gas);

/// <summary>
/// What <see cref="BlockClock"/> says about partial batches this round: they wait while the clock is before
/// <paramref name="Until"/> (null: no send time), and <paramref name="BlockInterval"/> is the chain's own block interval
/// when it makes blocks by itself slower than the sender ticks (null: unknown, or automine), for telling a burst.
/// </summary>
internal sealed record PartialHold(DateTimeOffset? Until, TimeSpan? BlockInterval)
{
    public static readonly PartialHold None = new(null, null);
}

/// <summary>
/// Turns queued requests into txs ready to sign: plans batches per collection and method (<see cref="BatchPlanner"/>;
/// a partial batch waits for company only while it would still land in the same block, see <see cref="BlockClock"/>,
/// or while it could not make the next block anyway, see <c>Unheld</c>), preflights each with <c>eth_estimateGas</c>
/// (several at once), bisects what does not go through (<see cref="PreflightAsync"/>: the one bisection routine),
/// and orders the result so consecutive nonces fill blocks (<see cref="BlockPacker"/>). Nothing here uses a nonce.
/// </summary>
internal sealed partial class BatchPreparer(SenderContext context, CollectionCache collections, SignerStatus status)
{
    private static readonly TimeSpan RoleRecheck = TimeSpan.FromMinutes(1);

    private readonly GasCalibration _calibration = new();

    /// <summary>Collections where this wallet (one of several) lacks MINTER_ROLE, and until when it leaves them alone.</summary>
    private readonly Dictionary<long, DateTimeOffset> _withoutRole = new();

    /// <summary>Some requests of one collection for one method: a batch to preflight.</summary>
    private sealed record Candidate(Collection Collection, MintMethod Method, IReadOnlyList<QueuedMint> Mints)
    {
        public (Candidate First, Candidate Second) Halves() =>
            (this with { Mints = Mints.Take(Mints.Count / 2).ToList() }, this with { Mints = Mints.Skip(Mints.Count / 2).ToList() });
    }

    /// <summary>What one estimate says about a candidate: send it as is, bisect it, or neither (already handled).</summary>
    private sealed record Verdict(PreparedTx? Ready, bool Bisect)
    {
        public static readonly Verdict Halve = new(null, true);
        public static readonly Verdict Dropped = new(null, false);
    }

    /// <summary>A batch as planned, before preflight: whether it is full, its gas by the calibrated model, and its oldest and newest request.</summary>
    private sealed record Planned(Candidate Candidate, bool Full, long ModelGas, DateTimeOffset Oldest, DateTimeOffset Newest);

    /// <summary>
    /// At most <paramref name="room"/> txs ready to sign, in the nonce order that packs blocks after the
    /// <paramref name="pending"/> txs already in flight. Partial batches are left queued as <paramref name="hold"/> and
    /// <see cref="Unheld"/> say (null: none waits).
    /// </summary>
    public Task<IReadOnlyList<PreparedTx>> PrepareAsync(BlockInfo block, IReadOnlyList<OpenTx> pending, int room, PartialHold? hold, CancellationToken ct) =>
        PrepareAsync(block, pending, room, hold, 1, ct);

    /// <summary>As above, taking at most a <paramref name="share"/>-th (rounded up) of the batches planned now: the rest is left to the chain's other wallets.</summary>
    public async Task<IReadOnlyList<PreparedTx>> PrepareAsync(BlockInfo block, IReadOnlyList<OpenTx> pending, int room, PartialHold? hold, int share, CancellationToken ct)
    {
        var planned = Unheld(await PlanAsync(block, ct).ConfigureAwait(false), pending, block.GasLimit, hold ?? PartialHold.None);
        // Each wallet of several starts at its own place in the list, so wallets that other instances hold, planning
        // at the same moment, mostly pick different batches (the write-ahead settles any overlap: one links them).
        var start = context.Shared ? planned.Count * (context.WalletIndex % context.Wallets) / context.Wallets : 0;
        var candidates = planned.Skip(start).Concat(planned.Take(start))
            .Take(Math.Min(room, (planned.Count + share - 1) / Math.Max(1, share))).ToList();
        if (candidates.Count == 0)
        {
            return [];
        }
        // Preflight concurrently: estimating a block-sized call takes the node a while.
        var maxGas = Math.Min(block.GasLimit, context.Options.PerTxGasCap);
        using var gate = new SemaphoreSlim(context.Options.PreflightConcurrency);
        var preflights = await Task.WhenAll(candidates.Select(async c =>
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                return await PreflightAsync(c, maxGas, ct).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        })).ConfigureAwait(false);
        var inFlight = InFlight(await StillPendingAsync(pending, ct).ConfigureAwait(false));
        return BlockPacker.Order(inFlight, preflights.SelectMany(p => p), i => context.Options.GasLimitFor(i.Gas), i => i.Gas, block.GasLimit)
            .Take(room).ToList();
    }

    /// <summary>
    /// The txs in flight that are still not mined. Preflighting block-sized calls can take longer than
    /// a block: packing after txs the block just took would leave the next block short (the first new txs were chosen to
    /// fill the rest of a block that is gone) and make the builder skip a tx there, dropping every later nonce that fits.
    /// </summary>
    private async Task<IEnumerable<OpenTx>> StillPendingAsync(IReadOnlyList<OpenTx> pending, CancellationToken ct)
    {
        if (pending.Count == 0)
        {
            return [];
        }
        var latest = await context.Node.GetTransactionCountAsync(context.Address, "latest", ct).ConfigureAwait(false);
        return pending.Where(t => t.Nonce >= latest);
    }

    /// <summary>The txs in flight as <see cref="BlockPacker"/> takes them: gas limit and estimate, in nonce order.</summary>
    private static IEnumerable<(long GasLimit, long Gas)> InFlight(IEnumerable<OpenTx> txs) =>
        txs.OrderBy(t => t.Nonce).Select(t => (t.Latest.GasLimit, t.GasEstimate));

    /// <summary>
    /// The planned batches to preflight now. Full batches always go, and with no send time (<see cref="PartialHold.Until"/>
    /// null: automine, or no schedule learned yet) every batch does. A partial batch waits for company (it merges with
    /// what arrives: one tx's fixed cost less, and for by-quantity one entry per owner less), up to
    /// <see cref="PipelineOptions.MaxBatchWait"/> from its oldest request:
    /// <list type="bullet">
    /// <item>while the clock is before the send time <see cref="PartialHold.Until"/> (it still makes the same block later);</item>
    /// <item>past it (or while the txs in flight fill the next block: <see cref="DateTimeOffset.MaxValue"/>) only while
    /// requests still arrive: once they stop there is no company to wait for, and the partial batches all go in one
    /// round, packed together (released one by one they would trail the packed nonces);</item>
    /// <item>while they arrive: with the txs in flight filling the next block, or faster than blocks take them
    /// (<see cref="Burst"/>), every partial batch (saturation, the block-filling plan); else one that would not make the
    /// next block anyway: packed by the builder's rule after the txs in flight, with this round's other batches, it
    /// lands in a later block.</item>
    /// </list>
    /// </summary>
    private List<Candidate> Unheld(List<Planned> planned, IReadOnlyList<OpenTx> pending, long blockGasLimit, PartialHold hold)
    {
        if (hold.Until is not { } until)
        {
            return planned.Select(p => p.Candidate).ToList(); // no schedule (automine, or not learned yet): all go at once
        }
        var now = context.Now;
        var saturated = until == DateTimeOffset.MaxValue; // the txs in flight fill the next block
        var beforeSendTime = !saturated && now < until;
        // Company can only come while requests arrive (one came within a block interval, or a tick and the send lead);
        // after that, all go in one round and are packed together.
        var window = TimeSpan.FromTicks(Math.Max((context.Options.PollInterval + context.Options.BlockSendLead).Ticks, hold.BlockInterval?.Ticks ?? 0));
        var arriving = planned.Count > 0 && now - planned.Max(p => p.Newest) < window;
        var burst = !beforeSendTime && arriving && Burst(planned, blockGasLimit, hold.BlockInterval);
        var held = planned.Where(p => !p.Full).ToHashSet(ReferenceEqualityComparer.Instance);
        if (!beforeSendTime && !arriving)
        {
            held.Clear();
        }
        else if (!beforeSendTime && !saturated && !burst)
        {
            held.ExceptWith(BlockPacker.Place(InFlight(pending), planned, p => context.Options.GasLimitFor(p.ModelGas), p => p.ModelGas, blockGasLimit)
                .Where(p => p.Block == 0).Select(p => p.Item));
        }
        var unheld = planned.Where(p => !held.Contains(p) || now - p.Oldest >= context.Options.MaxBatchWait).ToList();
        if (unheld.Count < planned.Count)
        {
            var reason = beforeSendTime ? "the next block's send time has not come"
                : saturated ? "the txs in flight fill the next block"
                : burst ? "requests arrive faster than blocks take them" : "the next block is full";
            PartialsHeld(context.Log, context.ChainName, planned.Count - unheld.Count, planned.Sum(p => p.Candidate.Mints.Count) - unheld.Sum(p => p.Candidate.Mints.Count), reason);
        }
        return unheld.Select(p => p.Candidate).ToList();
    }

    /// <summary>
    /// True while a burst arrives (the caller checks that requests still arrive) on a chain that makes blocks every
    /// <paramref name="blockInterval"/>: the queued work is at least half a block and came faster than the chain takes it
    /// (a block's gas per interval). Later blocks are full whatever goes now, so a partial batch sent now only splits its owners
    /// across txs (for by-quantity V2, ~73k gas per owner entry; see docs/chains.md): it waits until the burst is over.
    /// A light load (a few requests per block) is never a burst.
    /// </summary>
    private bool Burst(List<Planned> planned, long blockGasLimit, TimeSpan? blockInterval)
    {
        if (blockInterval is not { } interval)
        {
            return false;
        }
        var gas = (double)planned.Sum(p => p.ModelGas);
        var seconds = Math.Max((context.Now - planned.Min(p => p.Oldest)).TotalSeconds, context.Options.PollInterval.TotalSeconds);
        return gas * 2 >= blockGasLimit && gas / seconds >= blockGasLimit / interval.TotalSeconds;
    }

    /// <summary>Every batch planned now (full and partial), collections with the oldest queued requests first.</summary>
    private async Task<List<Planned>> PlanAsync(BlockInfo block, CancellationToken ct)
    {
        var target = BatchPlanner.TargetGas(block.GasLimit, context.Options.PerTxGasCap, context.Options.GasLimitMargin);
        var planned = new List<Planned>();
        foreach (var collectionId in await context.Store.ListQueuedCollectionsAsync(context.ChainName, ct).ConfigureAwait(false))
        {
            if (_withoutRole.TryGetValue(collectionId, out var until) && context.Now < until)
            {
                continue; // this wallet lacks MINTER_ROLE there: the chain's other wallets mint its requests
            }
            var collection = await collections.GetAsync(collectionId, ct).ConfigureAwait(false);
            var queued = await context.Store.ListQueuedAsync(collectionId, context.Options.PlanWindow, ct).ConfigureAwait(false);
            planned.AddRange(PlanCollection(collection, queued, target));
        }
        return planned;
    }

    private IEnumerable<Planned> PlanCollection(Collection collection, IReadOnlyList<QueuedRequest> queued, long target)
    {
        var created = queued.ToDictionary(q => q.Id, q => q.CreatedAt);
        foreach (var group in queued.GroupBy(q => MintBatch.MethodFor(collection, q.ByQuantity)))
        {
            var method = group.Key;
            var mints = group.Select(ToQueued).ToList();
            var byId = mints.ToDictionary(m => m.RequestId);
            foreach (var plan in BatchPlanner.Plan(collection, method, mints, target, _calibration.Ratio(collection.Id, method)))
            {
                var candidate = new Candidate(collection, method, plan.Batch.RequestIds.Select(id => byId[id]).ToList());
                yield return new Planned(candidate, plan.Full, plan.Batch.EstimatedGas, plan.Batch.RequestIds.Min(id => created[id]), plan.Batch.RequestIds.Max(id => created[id]));
            }
        }
    }

    /// <summary>
    /// The one bisection routine: a candidate whose estimate reverts for some of its assets, is refused as too big,
    /// or comes out over the gas limits is halved, and each half preflighted again, down to the assets that revert
    /// (they fail without a transaction). Returns what can be sent.
    /// </summary>
    private async Task<IReadOnlyList<PreparedTx>> PreflightAsync(Candidate candidate, long maxGas, CancellationToken ct)
    {
        var verdict = await EstimateAsync(candidate, maxGas, ct).ConfigureAwait(false);
        if (verdict.Ready is { } ready)
        {
            return [ready];
        }
        if (!verdict.Bisect)
        {
            return [];
        }
        var (first, second) = candidate.Halves();
        return [.. await PreflightAsync(first, maxGas, ct).ConfigureAwait(false), .. await PreflightAsync(second, maxGas, ct).ConfigureAwait(false)];
    }

    private async Task<Verdict> EstimateAsync(Candidate c, long maxGas, CancellationToken ct)
    {
        var ratio = _calibration.Ratio(c.Collection.Id, c.Method);
        var batch = BatchPlanner.Build(c.Collection, c.Method, c.Mints, ratio);
        var estimate = await context.Node.EstimateGasAsync(context.Address, c.Collection.Address, batch.Calldata(), ct).ConfigureAwait(false);
        if (!estimate.Ok)
        {
            return await RefusedAsync(c, estimate.Error!, ct).ConfigureAwait(false);
        }
        _calibration.Observe(c.Collection.Id, c.Method, (long)(batch.EstimatedGas / ratio), estimate.Gas);
        return c.Mints.Count > 1 && estimate.Gas * context.Options.GasLimitMargin > maxGas
            ? Verdict.Halve
            : new Verdict(new PreparedTx(c.Collection, batch, estimate.Gas), false);
    }

    private async Task<Verdict> RefusedAsync(Candidate c, NodeResult error, CancellationToken ct)
    {
        switch (error.Outcome)
        {
            case SendOutcome.Reverted:
                var reason = error.Message ?? "(no reason)";
                if (c.Mints.Count > 1 && !IsCollectionWide(reason))
                {
                    return Verdict.Halve;
                }
                if (context.Shared && IsMissingRole(reason))
                {
                    // One wallet of several without the role: not the requests' fault; leave them to the others (and look again later).
                    _withoutRole[c.Collection.Id] = context.Now + RoleRecheck;
                    WalletLacksRole(context.Log, context.ChainName, context.Address, c.Collection.Address);
                    return Verdict.Dropped;
                }
                var message = ChainSender.BuildFailedPrefix + reason;
                await context.Store.FailQueuedAsync(c.Mints.Select(m => m.RequestId).ToList(), message, c.Collection, context.Chain, context.Now, ct).ConfigureAwait(false);
                PreflightFailed(context.Log, context.ChainName, c.Collection.Address, c.Mints.Count, message);
                return Verdict.Dropped;
            case SendOutcome.InsufficientFunds:
                await status.PauseForFundsAsync(ct).ConfigureAwait(false);
                return Verdict.Dropped;
            case SendOutcome.TooBig when c.Mints.Count > 1:
                return Verdict.Halve;
            case SendOutcome.Unknown:
                throw new ChainUnavailableException(error.Message ?? "eth_estimateGas failed");
            default:
                EstimateRejected(context.Log, context.ChainName, c.Collection.Address, error.Outcome.ToString(), error.Message ?? "");
                return Verdict.Dropped;
        }
    }

    private static bool IsMissingRole(string reason) =>
        reason.StartsWith("AccessControl:", StringComparison.Ordinal) || reason.Contains("is missing role", StringComparison.Ordinal);

    /// <summary>Reasons that fail every asset of the collection alike: no need to bisect.</summary>
    internal static bool IsCollectionWide(string reason) =>
        reason.StartsWith("AccessControl:", StringComparison.Ordinal) || reason.Contains("is missing role", StringComparison.Ordinal)
        || reason.StartsWith("Pausable:", StringComparison.Ordinal);

    /// <summary>
    /// Runs for every queued request the plan reads (up to the plan window per collection): ids and amounts that fit a long
    /// skip the general big-integer parser.
    /// </summary>
    private static QueuedMint ToQueued(QueuedRequest r) => new(
        r.Id, r.OwnerAddress.ToLowerInvariant(),
        r.ByQuantity || r.TokenId is null ? null : Number(r.TokenId),
        r.Amount is null ? BigInteger.One : Number(r.Amount));

    private static BigInteger Number(string text) => long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var small)
        ? small
        : BigInteger.Parse(text, CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Warning, Message = "Chain {Chain}: collection {Collection}: {Count} assets failed preflight: {Message}")]
    private static partial void PreflightFailed(ILogger log, string chain, string collection, int count, string message);

    [LoggerMessage(EventId = 4062, Level = LogLevel.Error, Message = "Chain {Chain}: wallet {Signer} lacks MINTER_ROLE on {Collection}: the chain's other wallets mint there; grant it with openmint collection grant-minter")]
    private static partial void WalletLacksRole(ILogger log, string chain, string signer, string collection);

    [LoggerMessage(EventId = 4076, Level = LogLevel.Debug, Message = "Chain {Chain}: {Batches} partial batches ({Assets} assets) wait: {Reason}")]
    private static partial void PartialsHeld(ILogger log, string chain, int batches, int assets, string reason);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Warning, Message = "Chain {Chain}: collection {Collection}: estimate refused: {Outcome} {Message}")]
    private static partial void EstimateRejected(ILogger log, string chain, string collection, string outcome, string message);
}
