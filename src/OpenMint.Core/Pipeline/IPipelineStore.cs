using System.Numerics;
using OpenMint.Core.Minting;
using OpenMint.Core.Tenancy;

namespace OpenMint.Core.Pipeline;

/// <summary>The lease row of one (chain, signer), as seen by its holder.</summary>
/// <param name="NextNonce">Next nonce to assign; null until reconciled with the chain.</param>
/// <param name="Epoch">Grows by one each time the lease changes hands; every write for a nonce is fenced by it.</param>
public sealed record SignerLease(string ChainName, string Signer, string OwnerInstance, DateTimeOffset ExpiresAt, long? NextNonce, string? PausedReason, long Epoch)
{
    public LeaseFence Fence => new(ChainName, Signer, OwnerInstance, Epoch);
}

/// <summary>
/// What a sender's write for a nonce presents to the store: the lease it holds. The store compares it in the same
/// statement as the write (owner, epoch, not expired at the writer's clock), and a write that fails the comparison
/// changes nothing: an instance that lost its lease (frozen past it, partitioned) cannot touch what the new holder owns.
/// </summary>
public sealed record LeaseFence(string ChainName, string Signer, string Instance, long Epoch);

public static class AttemptKind
{
    public const string Mint = "mint";
    /// <summary>A zero-value self-transfer that takes a nonce whose mint gave up, so the mint can never land later.</summary>
    public const string Cancel = "cancel";
    /// <summary>A treasury's transfer to a minter wallet (top_up_attempt; docs/transactions.md, "Treasury top-ups").</summary>
    public const string TopUp = "top-up";
}

public static class TxState
{
    public const string Pending = "pending";
    public const string Mined = "mined";
    public const string Done = "done";
    public const string Abandoned = "abandoned";
}

public sealed record NewAttempt(string Kind, byte[] Raw, string Hash, BigInteger MaxPriorityFeePerGas, BigInteger MaxFeePerGas, long GasLimit);

public sealed record TxAttemptRecord(long Id, long TxId, string Kind, byte[] Raw, string Hash, BigInteger MaxPriorityFeePerGas, BigInteger MaxFeePerGas,
    long GasLimit, DateTimeOffset CreatedAt, DateTimeOffset? BroadcastAt, string? Outcome)
{
    public Fees Fees => new(MaxPriorityFeePerGas, MaxFeePerGas);
}

/// <summary>A tx not yet done (pending in the pool, or mined and waiting for confirmations), with its batch and attempts (oldest first).</summary>
public sealed record OpenTx(long Id, long Nonce, long BatchId, long CollectionId, MintMethod Method, IReadOnlyList<MintEntry> Entries, byte[] Calldata,
    long GasEstimate, string State, string? MinedHash, long? MinedBlock, string? LastError, DateTimeOffset CreatedAt, IReadOnlyList<TxAttemptRecord> Attempts)
{
    public int MintSubmissions => Attempts.Count(a => a.Kind == AttemptKind.Mint);

    public TxAttemptRecord Latest => Attempts[^1];
}

public sealed record RecordedTx(long TxId, long AttemptId);

/// <summary>A tx to write ahead: its nonce, its batch and its first signed attempt.</summary>
public sealed record NewTx(long Nonce, MintBatch Batch, NewAttempt Attempt);

public sealed record TokenAssignment(long RequestId, string TokenId);

/// <summary>The pipeline's part of the store: leases, nonces, batches, txs, attempts, and the status changes they cause.</summary>
public interface IPipelineStore : ITopUpStore
{
    /// <summary>Takes or renews the lease of (chain, signer) for <paramref name="instance"/>; null when another live instance holds it.</summary>
    Task<SignerLease?> TryAcquireLeaseAsync(string chain, string signer, string instance, DateTimeOffset now, TimeSpan duration, CancellationToken ct);

    Task ReleaseLeaseAsync(string chain, string signer, string instance, CancellationToken ct);

    /// <summary>Sets the next nonce (after reconciling with the chain); only while <paramref name="instance"/> holds the lease.</summary>
    Task<bool> SetNextNonceAsync(string chain, string signer, string instance, long nextNonce, CancellationToken ct);

    /// <summary>Collections of the chain with pending requests not yet in a batch, oldest first.</summary>
    Task<IReadOnlyList<long>> ListQueuedCollectionsAsync(string chain, CancellationToken ct);

    /// <summary>Pending requests of a collection not yet in a batch, in acceptance order.</summary>
    Task<IReadOnlyList<QueuedRequest>> ListQueuedAsync(long collectionId, int limit, CancellationToken ct);

    /// <summary>
    /// In one store transaction, all or nothing: assigns consecutive nonces to <paramref name="txs"/> (the first must be
    /// the lease's next nonce), writes each tx's batch, the tx and its first signed attempt, and links the batches' requests.
    /// Returns the ids in order, or null (nothing written) when the lease, nonce or a request changed meanwhile.
    /// </summary>
    Task<IReadOnlyList<RecordedTx>?> RecordTxsAsync(LeaseFence fence, IReadOnlyList<NewTx> txs, DateTimeOffset now, CancellationToken ct);

    /// <summary>A replacement (same nonce); its id, or null when the fence refused it (nothing written).</summary>
    Task<long?> AddAttemptAsync(LeaseFence fence, long txId, NewAttempt attempt, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// Records a broadcast's outcome; <paramref name="acknowledged"/> stamps broadcast_at (the node has answered, no blind re-send).
    /// False when the fence refused it.
    /// </summary>
    Task<bool> MarkBroadcastAsync(LeaseFence fence, long attemptId, SendOutcome outcome, bool acknowledged, DateTimeOffset now, CancellationToken ct);

    Task<IReadOnlyList<OpenTx>> ListOpenTxsAsync(string chain, string signer, CancellationToken ct);

    /// <summary>
    /// False when nothing changed: the fence refused it or the tx is no longer open. <paramref name="blockHash"/> is the
    /// receipt's block, which the reorg watcher compares with the canonical chain once the tx is reconciled.
    /// </summary>
    Task<bool> MarkMinedAsync(LeaseFence fence, long txId, string hash, long block, string? blockHash, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// The mined attempts of done txs of the signer with nonce &gt;= <paramref name="fromNonce"/>, in nonce order: what a
    /// node that went back (restart from an older state, deep reorg) has lost and must get again.
    /// </summary>
    Task<IReadOnlyList<TxAttemptRecord>> ListDoneAttemptsFromNonceAsync(string chain, string signer, long fromNonce, CancellationToken ct);

    /// <summary>A receipt vanished (reorg): the tx is pending again.</summary>
    Task<bool> MarkUnminedAsync(LeaseFence fence, long txId, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// Success: every request of the tx's batch gets its token id, the hash, an activity id and
    /// status succeeded; token rows are written; one event per request; all in one store transaction.
    /// <paramref name="beforeCommit"/> runs inside it (crash tests). False when nothing changed (fence refused, or done already).
    /// </summary>
    Task<bool> CompleteTxAsync(LeaseFence fence, long txId, string hash, IReadOnlyList<TokenAssignment> tokens, Collection collection, ChainConfig chain, DateTimeOffset now, Action? beforeCommit, CancellationToken ct);

    /// <summary>The tx is over without minting: its pending requests fail with <paramref name="message"/>.</summary>
    Task<bool> FailTxAsync(LeaseFence fence, long txId, string? hash, string message, Collection collection, ChainConfig chain, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// A mined mint ran out of gas: the tx is done (fenced, as <see cref="FailTxAsync"/>); its pending requests go back to
    /// the queue with <paramref name="gasLimitFloor"/> as the least gas limit of the next tx that carries them, once: those
    /// that already had a floor fail with <paramref name="message"/>. False when nothing changed.
    /// </summary>
    Task<bool> RequeueOutOfGasAsync(LeaseFence fence, long txId, string hash, long gasLimitFloor, string message, Collection collection, ChainConfig chain, DateTimeOffset now, CancellationToken ct);

    /// <summary>The gas limit floors of those of <paramref name="requestIds"/> that have one (re-queued after running out of gas).</summary>
    Task<IReadOnlyDictionary<long, long>> GasLimitFloorsAsync(IReadOnlyList<long> requestIds, CancellationToken ct);

    /// <summary>The nonce was used by another tx: the batch's requests go back to the queue.</summary>
    Task<bool> AbandonTxAsync(LeaseFence fence, long txId, string reason, DateTimeOffset now, CancellationToken ct);

    /// <summary>Fails pending requests that are in no batch (preflight revert).</summary>
    Task FailQueuedAsync(IReadOnlyList<long> requestIds, string message, Collection collection, ChainConfig chain, DateTimeOffset now, CancellationToken ct);

    /// <summary>A visible note on the tx's pending requests (error message, status unchanged), e.g. a fee cap reached.</summary>
    Task SetTxNoticeAsync(long txId, string? notice, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// A wallet that cannot pay for gas gives back its txs no node ever took (all or nothing, fenced): the top of its
    /// nonces, from the first the node refused for funds. Their write-ahead is removed, their requests go back to the
    /// queue for the chain's other wallets, and the wallet's next nonce goes back to the first of them. Returns how many.
    /// </summary>
    Task<int> WithdrawUnsentTxsAsync(LeaseFence fence, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// Pauses (reason) or resumes (null) a signer. The reason shows on every pending request of the chain unless another
    /// wallet of the chain holds a live lease and is not paused (it mints them).
    /// </summary>
    Task SetSignerNoticeAsync(string chain, string signer, string? reason, DateTimeOffset now, CancellationToken ct);

    /// <summary>Reconciled (succeeded) txs of the signer mined at or above <paramref name="fromBlock"/>, in nonce order (the reorg watcher's window).</summary>
    Task<IReadOnlyList<ReconciledBlock>> ListReconciledBlocksAsync(string chain, string signer, long fromBlock, CancellationToken ct);

    /// <summary>A reconciled tx with its batch and every attempt (oldest first), or null when it is not a reconciled success.</summary>
    Task<ReconciledTx?> GetReconciledTxAsync(long txId, CancellationToken ct);

    /// <summary>
    /// A reconciled tx found again after a reorg (same or another block, maybe another attempt): in one store transaction,
    /// fenced, the tx gets the receipt's hash and block, and each succeeded request whose token id or hash differs from
    /// <paramref name="tokens"/> is corrected (token rows moved) with one event each. Returns how many requests changed,
    /// or null when nothing was written (fence refused, or the tx is no longer a reconciled success).
    /// </summary>
    Task<int?> CorrectReorgedTxAsync(LeaseFence fence, long txId, string hash, long block, string? blockHash, IReadOnlyList<TokenAssignment> tokens,
        Collection collection, ChainConfig chain, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// A reconciled tx that a reorg took off the chain for good (its nonce is now used by another tx): fenced, the tx is
    /// abandoned and its succeeded requests go back to the queue (pending, no token id or hash, <paramref name="notice"/>
    /// shown), one event each. False when nothing was written.
    /// </summary>
    Task<bool> RequeueReorgedTxAsync(LeaseFence fence, long txId, string notice, Collection collection, ChainConfig chain, DateTimeOffset now, CancellationToken ct);
}
