using System.Numerics;

namespace OpenMint.Core.Pipeline;

public static class TopUpState
{
    public const string Pending = "pending";
    public const string Done = "done";
    /// <summary>The treasury's nonce was used by another tx (the key is used elsewhere too): this top-up can never land.</summary>
    public const string Abandoned = "abandoned";
}

/// <summary>One signed version of a top-up (the first, then fee bumps at the same nonce).</summary>
public sealed record TopUpAttempt(long Id, long TopUpId, byte[] Raw, string Hash, BigInteger MaxPriorityFeePerGas, BigInteger MaxFeePerGas,
    DateTimeOffset CreatedAt, DateTimeOffset? BroadcastAt, string? Outcome)
{
    public Fees Fees => new(MaxPriorityFeePerGas, MaxFeePerGas);
}

/// <summary>A native-token transfer from a chain's treasury to one of its minter wallets, with its attempts (oldest first).</summary>
public sealed record TopUpRecord(long Id, string ChainName, string Treasury, string Wallet, long Nonce, BigInteger Value, BigInteger BalanceSeen, string State,
    string? MinedHash, DateTimeOffset CreatedAt, IReadOnlyList<TopUpAttempt> Attempts)
{
    public TopUpAttempt Latest => Attempts[^1];
}

/// <summary>A top-up to write ahead: the chain, the wallet, the treasury nonce, the value, the balance that was seen, and its first signed attempt.</summary>
public sealed record NewTopUp(string ChainName, string Wallet, long Nonce, BigInteger Value, BigInteger BalanceSeen, NewAttempt Attempt);

/// <summary>
/// The treasury's part of the store (docs/transactions.md, "Treasury top-ups"). Every write is fenced by the treasury's own
/// lease (its <c>signer_lease</c> row), as a minter's writes are by its lease.
/// </summary>
public interface ITopUpStore
{
    /// <summary>
    /// Writes the top-up (the treasury is the fence's signer; the fence's chain is the treasury's lease key, see
    /// <see cref="TreasuryLease.Key"/>) and its first attempt in one store transaction, before any broadcast. Null (nothing written) when the
    /// fence refused it or a top-up of the wallet or of the treasury is still pending (never two for one dip).
    /// </summary>
    Task<TopUpRecord?> RecordTopUpAsync(LeaseFence fence, NewTopUp topUp, DateTimeOffset now, CancellationToken ct);

    /// <summary>A fee bump of a pending top-up (same nonce); its id, or null when the fence refused it.</summary>
    Task<long?> AddTopUpAttemptAsync(LeaseFence fence, long topUpId, NewAttempt attempt, DateTimeOffset now, CancellationToken ct);

    /// <summary>Records a broadcast's outcome; <paramref name="acknowledged"/> stamps broadcast_at. False when the fence refused it.</summary>
    Task<bool> MarkTopUpBroadcastAsync(LeaseFence fence, long attemptId, SendOutcome outcome, bool acknowledged, DateTimeOffset now, CancellationToken ct);

    /// <summary>Ends a pending top-up: done (mined, with its hash and block) or abandoned (with why). False when nothing changed.</summary>
    Task<bool> FinishTopUpAsync(LeaseFence fence, long topUpId, string state, string? hash, long? block, string? error, DateTimeOffset now, CancellationToken ct);

    /// <summary>The chain's pending top-ups (at most one per treasury), with their attempts.</summary>
    Task<IReadOnlyList<TopUpRecord>> ListPendingTopUpsAsync(string chain, CancellationToken ct);

    /// <summary>The chain's top-ups, newest first (all states), without attempts: for the status views and tests.</summary>
    Task<IReadOnlyList<TopUpRecord>> ListTopUpsAsync(string chain, int limit, CancellationToken ct);
}
