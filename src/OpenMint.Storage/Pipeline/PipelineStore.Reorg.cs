using System.Data.Common;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;
using OpenMint.Storage.Events;

namespace OpenMint.Storage.Pipeline;

/// <summary>
/// The reorg watcher's part (docs/transactions.md, "Reorgs deeper than the confirmation depth"): the reconciled txs of
/// its window, and the two ways a reorg changes what was reconciled: ids or hash corrected, or the requests queued again.
/// A reconciled success is a done tx without an error (<c>CloseTxAsync</c> clears it on completion).
/// </summary>
internal sealed partial class PipelineStore
{
    private static string Reconciled(string alias = "") => $"{alias}state = 'done' AND {alias}last_error IS NULL AND {alias}mined_hash IS NOT NULL";

    public async Task<IReadOnlyList<ReconciledBlock>> ListReconciledBlocksAsync(string chain, string signer, long fromBlock, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<(long TxId, long Nonce, long MinedBlock, string? MinedBlockHash)>(new CommandDefinition(
            $"""
            SELECT id, nonce, mined_block, mined_block_hash FROM tx
            WHERE chain_name = @chain AND signer_address = @signer AND {Reconciled()} AND mined_block >= @fromBlock
            ORDER BY nonce
            """,
            new { chain, signer, fromBlock }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => new ReconciledBlock(r.TxId, r.Nonce, r.MinedBlock, r.MinedBlockHash)).ToList();
    }

    public async Task<ReconciledTx?> GetReconciledTxAsync(long txId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var t = await c.QuerySingleOrDefaultAsync<ReconciledRow>(new CommandDefinition(
            $"""
            SELECT t.id AS Id, t.nonce AS Nonce, b.collection_id AS CollectionId, b.method AS Method, b.entries AS Entries,
                   t.mined_hash AS MinedHash, t.mined_block AS MinedBlock, t.mined_block_hash AS MinedBlockHash
            FROM tx t JOIN batch b ON b.id = t.batch_id
            WHERE t.id = @txId AND {Reconciled("t.")}
            """,
            new { txId }, cancellationToken: ct)).ConfigureAwait(false);
        if (t is null)
        {
            return null;
        }
        var attempts = await c.QueryAsync<AttemptRow>(new CommandDefinition(
            """
            SELECT id AS Id, tx_id AS TxId, kind AS Kind, raw AS Raw, hash AS Hash, max_priority_fee_per_gas AS Tip, max_fee_per_gas AS Cap,
                   gas_limit AS GasLimit, created_at AS CreatedAt, broadcast_at AS BroadcastAt, outcome AS Outcome
            FROM tx_attempt WHERE tx_id = @txId ORDER BY id
            """,
            new { txId }, cancellationToken: ct)).ConfigureAwait(false);
        return new ReconciledTx(t.Id, t.Nonce, t.CollectionId, Enum.Parse<MintMethod>(t.Method), MintBatch.ParseEntries(t.Entries), t.MinedHash, t.MinedBlock,
            t.MinedBlockHash, attempts.Select(a => a.ToModel()).ToList());
    }

    public async Task<int?> CorrectReorgedTxAsync(LeaseFence fence, long txId, string hash, long block, string? blockHash, IReadOnlyList<TokenAssignment> tokens,
        Collection collection, ChainConfig chain, DateTimeOffset now, CancellationToken ct)
    {
        var nowText = Time.ToWire(now);
        return await db.InTransactionAsync<int?>(async (c, tx) =>
        {
            var n = await c.ExecuteAsync(new CommandDefinition(
                $"""
                UPDATE tx SET mined_hash = @hash, mined_block = @block, mined_block_hash = @blockHash, updated_at = @now
                WHERE id = @txId AND {Reconciled()} AND {FenceHolds}
                """,
                Fenced(fence, now, new { txId, hash, block, blockHash, now = nowText }), tx, cancellationToken: ct)).ConfigureAwait(false);
            if (n == 0)
            {
                return null;
            }
            var batchId = await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT batch_id FROM tx WHERE id = @txId", new { txId }, tx, cancellationToken: ct)).ConfigureAwait(false);
            var before = (await ReadRequestsAsync(c, tx, tokens.Select(t => t.RequestId).ToList(), ct).ConfigureAwait(false)).ToDictionary(r => r.Id);
            var changed = new List<MintRequestRecord>();
            foreach (var t in tokens)
            {
                if (before.GetValueOrDefault(t.RequestId) is not { Status: MintStatus.Succeeded } r || r.BatchId != batchId || (r.TokenId == t.TokenId && r.TransactionHash == hash))
                {
                    continue;
                }
                await c.ExecuteAsync(new CommandDefinition(
                    "UPDATE mint_request SET token_id = @TokenId, transaction_hash = @hash, updated_at = @now WHERE id = @RequestId AND status = 'succeeded'",
                    new { t.TokenId, t.RequestId, hash, now = nowText }, tx, cancellationToken: ct)).ConfigureAwait(false);
                changed.Add(r);
            }
            var after = await ReadRequestsAsync(c, tx, changed.Select(r => r.Id).ToList(), ct).ConfigureAwait(false);
            // Token rows move only with the id (a hash-only change leaves them, e.g. an ERC1155 id several requests share).
            var corrected = after.ToDictionary(r => r.Id);
            var moved = changed.Where(r => corrected[r.Id].TokenId != r.TokenId).ToList();
            foreach (var r in moved)
            {
                await UpsertMintedTokenAsync(c, tx, corrected[r.Id], nowText, ct).ConfigureAwait(false);
            }
            await DropUnheldTokensAsync(c, tx, collection.Id, moved.Select(r => r.TokenId), ct).ConfigureAwait(false);
            await MintEventLog.AppendAsync(c, tx, _sql, after, collection, chain, time, now, ct).ConfigureAwait(false);
            return changed.Count;
        }, ct).ConfigureAwait(false);
    }

    public async Task<bool> RequeueReorgedTxAsync(LeaseFence fence, long txId, string notice, Collection collection, ChainConfig chain, DateTimeOffset now, CancellationToken ct)
    {
        var nowText = Time.ToWire(now);
        return await db.InTransactionAsync(async (c, tx) =>
        {
            // Abandoned, not done: a chain that goes back again must never get these bytes re-sent (ListDoneAttemptsFromNonceAsync).
            var n = await c.ExecuteAsync(new CommandDefinition(
                $"""
                UPDATE tx SET state = 'abandoned', last_error = @notice, updated_at = @now
                WHERE id = @txId AND {Reconciled()} AND {FenceHolds}
                """,
                Fenced(fence, now, new { txId, notice, now = nowText }), tx, cancellationToken: ct)).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }
            const string Batch = "batch_id = (SELECT batch_id FROM tx WHERE id = @txId) AND status = 'succeeded'";
            var held = (await c.QueryAsync<string?>(new CommandDefinition(
                $"SELECT token_id FROM mint_request WHERE {Batch}", new { txId }, tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
            // A by-quantity request had no id until it was minted; by-id and ERC1155 requests keep the one they asked for.
            var requeued = await c.QueryAsync<MintRequestRow>(new CommandDefinition(
                $"""
                UPDATE mint_request SET status = 'pending', token_id = CASE WHEN by_quantity THEN NULL ELSE token_id END, transaction_hash = NULL,
                    activity_id = NULL, batch_id = NULL, error_message = @notice, updated_at = @now
                WHERE {Batch}
                RETURNING {MintRequestRow.Columns}
                """,
                new { txId, notice, now = nowText }, tx, cancellationToken: ct)).ConfigureAwait(false);
            await DropUnheldTokensAsync(c, tx, collection.Id, held, ct).ConfigureAwait(false);
            await MintEventLog.AppendAsync(c, tx, _sql, requeued.Select(r => r.ToModel()).OrderBy(r => r.Id).ToList(), collection, chain, time, now, ct).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>The token row of a request whose id moved: owner and the metadata given at mint (the id's previous row belonged to another mint).</summary>
    private static Task UpsertMintedTokenAsync(DbConnection c, DbTransaction tx, MintRequestRecord r, string nowText, CancellationToken ct) =>
        c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO token (collection_id, token_id, owner_address, metadata, created_at, updated_at)
            VALUES (@CollectionId, @TokenId, @OwnerAddress, @MetadataJson, @now, @now)
            ON CONFLICT (collection_id, token_id) DO UPDATE SET owner_address = excluded.owner_address, metadata = excluded.metadata,
                metadata_synced_at = NULL, updated_at = excluded.updated_at
            """,
            new { r.CollectionId, r.TokenId, r.OwnerAddress, r.MetadataJson, now = nowText }, tx, cancellationToken: ct));

    /// <summary>Token rows of ids a reorg took from our requests, unless a succeeded request of the collection still holds them; one statement.</summary>
    private async Task DropUnheldTokensAsync(DbConnection c, DbTransaction tx, long collectionId, IEnumerable<string?> tokenIds, CancellationToken ct)
    {
        var ids = tokenIds.OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0)
        {
            return;
        }
        var p = new DynamicParameters(new { collectionId });
        p.Add("tokenIds", db.Dialect.List(ids));
        await c.ExecuteAsync(new CommandDefinition(
            $"""
            DELETE FROM token WHERE collection_id = @collectionId AND {db.Dialect.In("token_id", "@tokenIds")}
              AND NOT EXISTS (SELECT 1 FROM mint_request m WHERE m.collection_id = @collectionId AND m.token_id = token.token_id AND {db.Dialect.NoIndex("m.status")} = 'succeeded')
            """,
            p, tx, cancellationToken: ct)).ConfigureAwait(false);
    }

    private sealed class ReconciledRow
    {
        public long Id { get; set; }
        public long Nonce { get; set; }
        public long CollectionId { get; set; }
        public string Method { get; set; } = "";
        public string Entries { get; set; } = "[]";
        public string MinedHash { get; set; } = "";
        public long MinedBlock { get; set; }
        public string? MinedBlockHash { get; set; }
    }
}
