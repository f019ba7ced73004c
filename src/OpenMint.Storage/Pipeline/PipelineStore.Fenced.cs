using Dapper;
using OpenMint.Core;
using OpenMint.Core.Pipeline;

namespace OpenMint.Storage.Pipeline;

/// <summary>
/// The sender's single-statement writes for a nonce (replacement, broadcast marked, mined, unmined), each fenced by the
/// lease its writer holds: the lease row's owner, epoch and expiry are compared in the same statement as the write
/// (share-locked on PostgreSQL), so a writer that lost its lease changes nothing (docs/transactions.md, fencing).
/// </summary>
internal sealed partial class PipelineStore
{
    /// <summary>True while the fence's lease is the live one; the row stays share-locked until commit on PostgreSQL.</summary>
    private string FenceHolds =>
        $"""
        EXISTS (SELECT 1 FROM signer_lease WHERE chain_name = @FenceChain AND signer_address = @FenceSigner
            AND owner_instance = @FenceInstance AND lease_epoch = @FenceEpoch AND lease_expires_at > @FenceNow{db.Dialect.ForShare})
        """;

    private static DynamicParameters Fenced(LeaseFence fence, DateTimeOffset now, object args)
    {
        var p = new DynamicParameters(args);
        p.Add("FenceChain", fence.ChainName);
        p.Add("FenceSigner", fence.Signer);
        p.Add("FenceInstance", fence.Instance);
        p.Add("FenceEpoch", fence.Epoch);
        p.Add("FenceNow", Time.ToWire(now));
        return p;
    }

    public async Task<long?> AddAttemptAsync(LeaseFence fence, long txId, NewAttempt attempt, DateTimeOffset now, CancellationToken ct)
    {
        var a = attempt;
        var nowText = Time.ToWire(now);
        return await db.InTransactionAsync(async (c, tx) =>
        {
            var id = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
                $"""
                INSERT INTO tx_attempt (tx_id, kind, raw, hash, max_priority_fee_per_gas, max_fee_per_gas, gas_limit, created_at)
                SELECT @txId, @Kind, @Raw, @Hash, @tip, @cap, @GasLimit, @now WHERE {FenceHolds}
                RETURNING id
                """,
                Fenced(fence, now, new { txId, a.Kind, a.Raw, a.Hash, tip = Dec(a.MaxPriorityFeePerGas), cap = Dec(a.MaxFeePerGas), a.GasLimit, now = nowText }),
                tx, cancellationToken: ct)).ConfigureAwait(false);
            if (id is not null)
            {
                await c.ExecuteAsync(new CommandDefinition("UPDATE tx SET updated_at = @now WHERE id = @txId", new { txId, now = nowText }, tx, cancellationToken: ct)).ConfigureAwait(false);
            }
            return id;
        }, ct).ConfigureAwait(false);
    }

    public Task<bool> MarkBroadcastAsync(LeaseFence fence, long attemptId, SendOutcome outcome, bool acknowledged, DateTimeOffset now, CancellationToken ct) =>
        MarkAttemptBroadcastAsync("tx_attempt", fence, attemptId, outcome, acknowledged, now, ct);

    /// <summary>A broadcast's outcome on an attempt of <paramref name="table"/> (<c>tx_attempt</c> or <c>top_up_attempt</c>), fenced.</summary>
    private async Task<bool> MarkAttemptBroadcastAsync(string table, LeaseFence fence, long attemptId, SendOutcome outcome, bool acknowledged, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var n = await c.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE {table} SET outcome = @outcome,
                broadcast_at = CASE WHEN @accepted = 1 THEN COALESCE(broadcast_at, @now) ELSE broadcast_at END
            WHERE id = @attemptId AND {FenceHolds}
            """,
            Fenced(fence, now, new { attemptId, outcome = outcome.ToString(), accepted = acknowledged ? 1 : 0, now = Time.ToWire(now) }),
            cancellationToken: ct)).ConfigureAwait(false);
        return n == 1;
    }

    public async Task<bool> MarkMinedAsync(LeaseFence fence, long txId, string hash, long block, string? blockHash, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var n = await c.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE tx SET state = 'mined', mined_hash = @hash, mined_block = @block, mined_block_hash = @blockHash, updated_at = @now
            WHERE id = @txId AND state IN ('pending', 'mined') AND {FenceHolds}
            """,
            Fenced(fence, now, new { txId, hash, block, blockHash, now = Time.ToWire(now) }), cancellationToken: ct)).ConfigureAwait(false);
        return n == 1;
    }

    public async Task<bool> MarkUnminedAsync(LeaseFence fence, long txId, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var n = await c.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE tx SET state = 'pending', mined_hash = NULL, mined_block = NULL, updated_at = @now
            WHERE id = @txId AND state = 'mined' AND {FenceHolds}
            """,
            Fenced(fence, now, new { txId, now = Time.ToWire(now) }), cancellationToken: ct)).ConfigureAwait(false);
        return n == 1;
    }
}
