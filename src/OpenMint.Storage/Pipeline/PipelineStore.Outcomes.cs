using System.Data;
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
            // This transaction holds SQLite's write lock (intake waits behind it): three statements for the whole batch.
            var succeeded = await SucceedAsync(c, tx, batchId.Value, hash, tokens, nowText, ct).ConfigureAwait(false);
            await UpsertTokensAsync(c, tx, succeeded, nowText, ct).ConfigureAwait(false);
            await MintEventLog.AppendAsync(c, tx, _sql, succeeded, collection, chain, time, now, ct).ConfigureAwait(false);
            foreach (var r in succeeded)
            {
                OpenMintMetrics.MintSucceeded(chain.Name, collection.Address, now - r.CreatedAt);
            }
            beforeCommit?.Invoke();
            return true;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The batch's pending requests succeed with their token ids and a fresh activity id each, in one statement. Returns them
    /// in the order their events go out: the order they always had, read back in chunks of <see cref="InChunk"/> requests
    /// in the tokens' order, each chunk by id.
    /// </summary>
    private async Task<IReadOnlyList<MintRequestRecord>> SucceedAsync(DbConnection c, DbTransaction tx, long batchId, string hash, IReadOnlyList<TokenAssignment> tokens, string nowText, CancellationToken ct)
    {
        var position = new Dictionary<long, int>(tokens.Count);
        var assigned = new List<TokenAssignment>(tokens.Count);
        for (var i = 0; i < tokens.Count; i++)
        {
            if (position.TryAdd(tokens[i].RequestId, i))
            {
                assigned.Add(tokens[i]); // a request listed twice keeps its first token id, as one update per token did
            }
        }
        var p = new DynamicParameters(new { hash, batchId, now = nowText });
        _sql.AddSucceeded(p, assigned, assigned.Select(_ => Guid.NewGuid().ToString()).ToList());
        var rows = await c.QueryAsync<MintRequestRow>(new CommandDefinition(_sql.Succeed, p, tx, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => r.ToModel()).OrderBy(r => position[r.Id] / InChunk).ThenBy(r => r.Id).ToList();
    }

    /// <summary>
    /// The minted tokens' rows in one statement. Requests that share a token id (ERC1155) are folded first into what one
    /// upsert per request, in order, left: the last owner, and the last metadata given.
    /// </summary>
    private async Task UpsertTokensAsync(DbConnection c, DbTransaction tx, IReadOnlyList<MintRequestRecord> succeeded, string nowText, CancellationToken ct)
    {
        if (succeeded.Count == 0)
        {
            return;
        }
        var rows = new Dictionary<(long, string?), MintRequestRecord>(succeeded.Count);
        foreach (var r in succeeded)
        {
            rows[(r.CollectionId, r.TokenId)] = rows.TryGetValue((r.CollectionId, r.TokenId), out var earlier) ? r with { MetadataJson = r.MetadataJson ?? earlier.MetadataJson } : r;
        }
        var p = new DynamicParameters(new { now = nowText });
        _sql.AddTokens(p, rows.Values.ToList());
        await c.ExecuteAsync(new CommandDefinition(_sql.UpsertTokens, p, tx, cancellationToken: ct)).ConfigureAwait(false);
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
            await FailRequestsAsync(c, tx, "batch_id = @batchId AND status = 'pending'", new DynamicParameters(new { batchId }), message, hash, collection, chain, now, ct).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves a tx from pending/mined to done, fenced (the first statement of its transaction: on PostgreSQL the lease
    /// row stays share-locked until commit); returns its batch id, or null when it was not open or the fence refused.
    /// </summary>
    private async Task<long?> CloseTxAsync(DbConnection c, DbTransaction tx, LeaseFence fence, long txId, string? hash, string? error, DateTimeOffset now, CancellationToken ct)
    {
        return await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            $"""
            UPDATE tx SET state = 'done', mined_hash = COALESCE(@hash, mined_hash), last_error = @error, updated_at = @now
            WHERE id = @txId AND state IN ('pending', 'mined') AND {FenceHolds}
            RETURNING batch_id
            """,
            Fenced(fence, now, new { txId, hash, error, now = Time.ToWire(now) }), tx, cancellationToken: ct)).ConfigureAwait(false);
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
        if (requestIds.Count == 0)
        {
            return;
        }
        var p = new DynamicParameters();
        p.Add("ids", db.Dialect.List(requestIds));
        await db.InTransactionAsync((c, tx) =>
            FailRequestsAsync(c, tx, $"{db.Dialect.In("id", "@ids")} AND {db.Dialect.NoIndex("status")} = 'pending' AND {db.Dialect.NoIndex("batch_id")} IS NULL", p, message, null, collection, chain, now, ct), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The requests that <paramref name="where"/> (with its parameters <paramref name="p"/>; pending ones only) picks fail, in one statement;
    /// one event each, in id order.
    /// </summary>
    private async Task FailRequestsAsync(DbConnection c, DbTransaction tx, string where, DynamicParameters p, string message, string? hash, Collection collection, ChainConfig chain,
        DateTimeOffset now, CancellationToken ct)
    {
        p.Add("message", message);
        p.Add("hash", hash, DbType.String);
        p.Add("now", Time.ToWire(now));
        var rows = await c.QueryAsync<MintRequestRow>(new CommandDefinition(
            $"""
            UPDATE mint_request SET status = 'failed', error_message = @message, transaction_hash = COALESCE(@hash, transaction_hash), updated_at = @now
            WHERE {where}
            RETURNING {MintRequestRow.Columns}
            """,
            p, tx, cancellationToken: ct)).ConfigureAwait(false);
        var failed = rows.Select(r => r.ToModel()).OrderBy(r => r.Id).ToList();
        await MintEventLog.AppendAsync(c, tx, _sql, failed, collection, chain, time, now, ct).ConfigureAwait(false);
    }

    /// <summary>The rows of <paramref name="ids"/>, by id, in one statement.</summary>
    private async Task<IReadOnlyList<MintRequestRecord>> ReadRequestsAsync(DbConnection c, DbTransaction tx, IReadOnlyList<long> ids, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return [];
        }
        var p = new DynamicParameters();
        p.Add("ids", db.Dialect.List(ids));
        var rows = await c.QueryAsync<MintRequestRow>(new CommandDefinition(
            $"SELECT {MintRequestRow.Columns} FROM mint_request WHERE {db.Dialect.In("id", "@ids")} ORDER BY id", p, tx, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => r.ToModel()).ToList();
    }
}
