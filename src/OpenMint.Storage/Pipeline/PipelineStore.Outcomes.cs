using System.Data.Common;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;
using OpenMint.Storage.Events;
using OpenMint.Core.Telemetry;

namespace OpenMint.Storage.Pipeline;

/// <summary>How a tx's end reaches its requests: succeeded with tokens, failed, or back to the queue; each with its events.</summary>
internal sealed partial class PipelineStore
{
    public async Task<bool> CompleteTxAsync(LeaseFence fence, long txId, string hash, IReadOnlyList<TokenAssignment> tokens, Collection collection, ChainConfig chain, DateTimeOffset now, Action? beforeCommit, CancellationToken ct)
    {
        var nowText = Time.ToWire(now);
        return await db.InTransactionAsync(async (c, tx) =>
        {
            var batchId = await CloseTxAsync(c, tx, fence, txId, hash, null, now, ct).ConfigureAwait(false);
            if (batchId is null)
            {
                return false; // fenced out, or done already: completing twice changes nothing
            }
            // This transaction holds SQLite's write lock (intake waits behind it): one command per statement, bound again for
            // each token, instead of a statement prepared anew per token.
            await using var succeed = ReusedCommand.Create(c, tx,
                """
                UPDATE mint_request SET status = 'succeeded', token_id = @token, transaction_hash = @hash, activity_id = @activity,
                    error_message = NULL, updated_at = @now
                WHERE id = @request AND batch_id = @batchId AND status = 'pending'
                """, "@token", "@request", "@hash", "@activity", "@batchId", "@now");
            foreach (var t in tokens)
            {
                await succeed.RunAsync(ct, t.TokenId, t.RequestId, hash, Guid.NewGuid().ToString(), batchId.Value, nowText).ConfigureAwait(false);
            }
            var changed = await ReadRequestsAsync(c, tx, tokens.Select(t => t.RequestId).ToList(), ct).ConfigureAwait(false);
            await using var known = ReusedCommand.Create(c, tx,
                """
                INSERT INTO token (collection_id, token_id, owner_address, metadata, created_at, updated_at)
                VALUES (@collection, @token, @owner, @metadata, @now, @now)
                ON CONFLICT (collection_id, token_id) DO UPDATE SET owner_address = excluded.owner_address,
                    metadata = COALESCE(excluded.metadata, token.metadata), updated_at = excluded.updated_at
                """, "@collection", "@token", "@owner", "@metadata", "@now");
            foreach (var r in changed.Where(r => r.Status == MintStatus.Succeeded && r.BatchId == batchId))
            {
                await known.RunAsync(ct, r.CollectionId, r.TokenId, r.OwnerAddress, r.MetadataJson, nowText).ConfigureAwait(false);
                await MintEventLog.AppendAsync(c, tx, r, collection, chain, time, now, ct).ConfigureAwait(false);
                OpenMintMetrics.MintSucceeded(chain.Name, collection.Address, now - r.CreatedAt);
            }
            beforeCommit?.Invoke();
            return true;
        }, ct).ConfigureAwait(false);
    }

    public async Task<bool> FailTxAsync(LeaseFence fence, long txId, string? hash, string message, Collection collection, ChainConfig chain, DateTimeOffset now, CancellationToken ct)
    {
        return await db.InTransactionAsync(async (c, tx) =>
        {
            var batchId = await CloseTxAsync(c, tx, fence, txId, hash, message, now, ct).ConfigureAwait(false);
            if (batchId is null)
            {
                return false;
            }
            var ids = (await c.QueryAsync<long>(new CommandDefinition(
                "SELECT id FROM mint_request WHERE batch_id = @batchId AND status = 'pending'", new { batchId }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
            await FailRequestsAsync(c, tx, ids, message, hash, collection, chain, now, ct).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves a tx from pending/mined to done, fenced (the first statement of its transaction: on PostgreSQL the lease
    /// row stays share-locked until commit); returns its batch id, or null when it was not open or the fence refused.
    /// </summary>
    private async Task<long?> CloseTxAsync(DbConnection c, DbTransaction tx, LeaseFence fence, long txId, string? hash, string? error, DateTimeOffset now, CancellationToken ct)
    {
        var n = await c.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE tx SET state = 'done', mined_hash = COALESCE(@hash, mined_hash), last_error = @error, updated_at = @now
            WHERE id = @txId AND state IN ('pending', 'mined') AND {FenceHolds}
            """,
            Fenced(fence, now, new { txId, hash, error, now = Time.ToWire(now) }), tx, cancellationToken: ct)).ConfigureAwait(false);
        if (n == 0)
        {
            return null;
        }
        return await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT batch_id FROM tx WHERE id = @txId", new { txId }, tx, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<bool> AbandonTxAsync(LeaseFence fence, long txId, string reason, DateTimeOffset now, CancellationToken ct)
    {
        var nowText = Time.ToWire(now);
        return await db.InTransactionAsync(async (c, tx) =>
        {
            var n = await c.ExecuteAsync(new CommandDefinition(
                $"""
                UPDATE tx SET state = 'abandoned', last_error = @reason, updated_at = @now
                WHERE id = @txId AND state IN ('pending', 'mined') AND {FenceHolds}
                """,
                Fenced(fence, now, new { txId, reason, now = nowText }), tx, cancellationToken: ct)).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }
            await c.ExecuteAsync(new CommandDefinition(
                "UPDATE mint_request SET batch_id = NULL, updated_at = @now WHERE batch_id = (SELECT batch_id FROM tx WHERE id = @txId) AND status = 'pending'",
                new { txId, now = nowText }, tx, cancellationToken: ct)).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
    }

    public async Task FailQueuedAsync(IReadOnlyList<long> requestIds, string message, Collection collection, ChainConfig chain, DateTimeOffset now, CancellationToken ct)
    {
        await db.InTransactionAsync(async (c, tx) =>
        {
            var ids = new List<long>();
            foreach (var chunk in requestIds.Chunk(InChunk))
            {
                ids.AddRange(await c.QueryAsync<long>(new CommandDefinition(
                    $"SELECT id FROM mint_request WHERE {db.Dialect.In("id", "@chunk")} AND status = 'pending' AND batch_id IS NULL", new { chunk }, tx, cancellationToken: ct)).ConfigureAwait(false));
            }
            await FailRequestsAsync(c, tx, ids, message, null, collection, chain, now, ct).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
    }

    private async Task FailRequestsAsync(DbConnection c, DbTransaction tx, IReadOnlyList<long> ids, string message, string? hash, Collection collection, ChainConfig chain, DateTimeOffset now, CancellationToken ct)
    {
        var nowText = Time.ToWire(now);
        foreach (var chunk in ids.Chunk(InChunk))
        {
            await c.ExecuteAsync(new CommandDefinition(
                $"""
                UPDATE mint_request SET status = 'failed', error_message = @message, transaction_hash = COALESCE(@hash, transaction_hash),
                    updated_at = @now
                WHERE {db.Dialect.In("id", "@chunk")} AND status = 'pending'
                """,
                new { chunk, message, hash, now = nowText }, tx, cancellationToken: ct)).ConfigureAwait(false);
        }
        foreach (var r in await ReadRequestsAsync(c, tx, ids, ct).ConfigureAwait(false))
        {
            await MintEventLog.AppendAsync(c, tx, r, collection, chain, time, now, ct).ConfigureAwait(false);
        }
    }

    private async Task<IReadOnlyList<MintRequestRecord>> ReadRequestsAsync(DbConnection c, DbTransaction tx, IReadOnlyList<long> ids, CancellationToken ct)
    {
        var result = new List<MintRequestRecord>(ids.Count);
        foreach (var chunk in ids.Chunk(InChunk))
        {
            var rows = await c.QueryAsync<MintRequestRow>(new CommandDefinition(
                $"SELECT {MintRequestRow.Columns} FROM mint_request WHERE {db.Dialect.In("id", "@chunk")} ORDER BY id", new { chunk }, tx, cancellationToken: ct)).ConfigureAwait(false);
            result.AddRange(rows.Select(r => r.ToModel()));
        }
        return result;
    }
}
