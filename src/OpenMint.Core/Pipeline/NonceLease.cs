using System.Numerics;
using Microsoft.Extensions.Logging;

namespace OpenMint.Core.Pipeline;

/// <summary>
/// The signer's lease and its nonces, in the spirit of Nethermind's NonceManager: the lease row makes this
/// instance the one writer; the next nonce is re-derived from the chain whenever the lease is taken or the node
/// says the nonce is off; nonces are handed out only in the store transaction that writes the signed txs
/// (reserve and accept in one step, so no nonce is ever skipped). Also watches the chain's <c>latest</c> nonce
/// for going back below txs already reconciled (node restarted from an older state, deep reorg).
/// </summary>
internal sealed partial class NonceLease(SenderContext context)
{
    private bool _syncNeeded = true;
    private long _nextNonce;
    private long _highestLatest;
    private bool _lostCheckDue;
    private DateTimeOffset _lastLostCheck;

    /// <summary>True until the next nonce is reconciled with the chain; no new tx is signed meanwhile.</summary>
    public bool SyncNeeded => _syncNeeded;

    public long NextNonce => _nextNonce;

    /// <summary>Takes or renews the lease; null when another live instance holds it.</summary>
    public async Task<SignerLease?> AcquireAsync(CancellationToken ct)
    {
        var lease = await context.Store.TryAcquireLeaseAsync(context.ChainName, context.Address, context.Instance, context.Now,
            context.Options.LeaseDuration, ct).ConfigureAwait(false);
        if (lease is null)
        {
            context.Lease.Lose();
            return null;
        }
        if (context.Lease.Fence?.Epoch != lease.Epoch)
        {
            LeaseTaken(context.Log, context.ChainName, context.Address, context.Instance, lease.Epoch);
            _syncNeeded = true;
            _lostCheckDue = true;
        }
        context.Lease.Hold(lease.Fence);
        if (lease.NextNonce is null)
        {
            _syncNeeded = true;
        }
        return lease;
    }

    /// <summary>
    /// Renews the lease this sender holds (between ticks, see <c>PipelineWorker</c>), keeping its epoch; if the store gives it to
    /// someone else meanwhile, lets go at once so the fenced writes of a round in progress change nothing.
    /// </summary>
    public async Task RenewHeldAsync(CancellationToken ct)
    {
        if (context.Lease.Fence is not { } held)
        {
            return;
        }
        var lease = await context.Store.TryAcquireLeaseAsync(context.ChainName, context.Address, context.Instance, context.Now,
            context.Options.LeaseDuration, ct).ConfigureAwait(false);
        if (lease is null || lease.Epoch != held.Epoch)
        {
            context.Lease.Lose();
        }
    }

    public Task ReleaseAsync(CancellationToken ct)
    {
        context.Lease.Lose();
        return context.Store.ReleaseLeaseAsync(context.ChainName, context.Address, context.Instance, ct);
    }

    /// <summary>The node said the nonce is off (or the store refused a write-ahead): reconcile before signing more.</summary>
    public void RequireSync() => _syncNeeded = true;

    /// <summary>
    /// Next nonce = max(stored, chain's pending count): every nonce we used is in the store (written
    /// before broadcast), so a higher pending count means someone else used the key meanwhile.
    /// </summary>
    public async Task SyncAsync(SignerLease lease, CancellationToken ct)
    {
        var pending = await context.Node.GetTransactionCountAsync(context.Address, "pending", ct).ConfigureAwait(false);
        var latest = await context.Node.GetTransactionCountAsync(context.Address, "latest", ct).ConfigureAwait(false);
        var stored = lease.NextNonce ?? 0;
        var next = Math.Max(stored, Math.Max(pending, latest));
        if (!await context.Store.SetNextNonceAsync(context.ChainName, context.Address, context.Instance, next, ct).ConfigureAwait(false))
        {
            context.Lease.Refused(context.Log, "next nonce");
            return;
        }
        NonceSynced(context.Log, context.ChainName, context.Address, stored, latest, pending, next);
        _nextNonce = next;
        _syncNeeded = false;
    }

    /// <summary>
    /// Signs the txs with the next nonces and writes them ahead (batch + tx + signed attempt + request links) in
    /// one store transaction. Returns the stored attempts to broadcast, or null when nothing was written (lease
    /// lost, nonce moved, a request changed): then the nonce is reconciled again before anything else is signed.
    /// </summary>
    public async Task<IReadOnlyList<TxAttemptRecord>?> WriteAheadAsync(IReadOnlyList<PreparedTx> group, Fees fees, CancellationToken ct)
    {
        if (context.Lease.Fence is not { } fence)
        {
            return null;
        }
        var nonce = _nextNonce;
        var txs = new List<NewTx>(group.Count);
        // Requests queued again after running out of gas carry the least limit their next tx must have.
        var floors = await context.Store.GasLimitFloorsAsync(group.SelectMany(p => p.Batch.RequestIds).ToList(), ct).ConfigureAwait(false);
        foreach (var (collection, batch, estimate) in group)
        {
            var floor = batch.RequestIds.Select(id => floors.GetValueOrDefault(id)).DefaultIfEmpty().Max();
            var gasLimit = Math.Max(context.Options.GasLimitFor(estimate), Math.Min(floor, context.Options.PerTxGasCap));
            var signed = context.Signer.Sign(context.Chain.ChainId, nonce + txs.Count, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit,
                collection.Address, BigInteger.Zero, batch.Calldata());
            txs.Add(new NewTx(nonce + txs.Count, batch with { EstimatedGas = estimate },
                new NewAttempt(AttemptKind.Mint, signed.Raw, signed.Hash, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit)));
        }
        var recorded = await context.Store.RecordTxsAsync(fence, txs, context.Now, ct).ConfigureAwait(false);
        if (recorded is null)
        {
            _syncNeeded = true;
            return null;
        }
        _nextNonce = nonce + txs.Count;
        var records = new List<TxAttemptRecord>(txs.Count);
        for (var i = 0; i < txs.Count; i++)
        {
            var (tx, a) = (txs[i], txs[i].Attempt);
            TxSigned(context.Log, context.ChainName, tx.Nonce, a.Hash, tx.Batch.Method.ToString(), tx.Batch.RequestCount, tx.Batch.EstimatedGas);
            records.Add(new TxAttemptRecord(recorded[i].AttemptId, recorded[i].TxId, AttemptKind.Mint, a.Raw, a.Hash, a.MaxPriorityFeePerGas,
                a.MaxFeePerGas, a.GasLimit, context.Now, null, null));
        }
        context.Crash.Hit(CrashPoints.AfterSign);
        return records;
    }

    /// <summary>
    /// Records the chain's <c>latest</c> nonce; true when txs reconciled at or above it must be looked for again:
    /// right after taking the lease, and every <see cref="PipelineOptions.RebroadcastInterval"/> while the chain's
    /// nonce is below the highest seen. Call <see cref="LostTxsChecked"/> once they were.
    /// </summary>
    public bool ObserveLatest(long latestNonce)
    {
        var due = _lostCheckDue || (latestNonce < _highestLatest && context.Now - _lastLostCheck >= context.Options.RebroadcastInterval);
        _highestLatest = Math.Max(_highestLatest, latestNonce);
        return due;
    }

    public void LostTxsChecked()
    {
        _lostCheckDue = false;
        _lastLostCheck = context.Now;
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Chain {Chain}: signer {Signer} lease taken by instance {Instance} (epoch {Epoch})")]
    private static partial void LeaseTaken(ILogger log, string chain, string signer, string instance, long epoch);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Chain {Chain}: signer {Signer} nonce synced (stored {Stored}, latest {Latest}, pending {Pending}) -> next {Next}")]
    private static partial void NonceSynced(ILogger log, string chain, string signer, long stored, long latest, long pending, long next);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Chain {Chain}: signed nonce {Nonce} {Hash}: {Method} of {Count} assets, estimated {Gas} gas")]
    private static partial void TxSigned(ILogger log, string chain, long nonce, string hash, string method, int count, long gas);
}
