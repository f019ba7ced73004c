using System.Data.Common;
using System.Globalization;
using System.Numerics;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Minting;
using OpenMint.Core.Pipeline;
using OpenMint.Core.Tenancy;
using OpenMint.Storage.Events;

namespace OpenMint.Storage.Pipeline;

/// <summary>
/// The pipeline's part of the store (IPipelineStore): leases and nonces, the write-ahead of batches, txs and attempts
/// (this file), and the status changes a tx's end causes (PipelineStore.Outcomes.cs).
/// </summary>
internal sealed partial class PipelineStore(Database db, TimeProvider time) : IPipelineStore
{
    // SQLite's default limit on bound parameters is large, but keep IN lists modest for both dialects (reads outside the write transactions).
    private const int InChunk = 500;

    private readonly PipelineStatements _sql = PipelineStatements.For(db.Dialect);

    public async Task<SignerLease?> TryAcquireLeaseAsync(string chain, string signer, string instance, DateTimeOffset now, TimeSpan duration, CancellationToken ct)
    {
        var nowText = Time.ToWire(now);
        var expires = now + duration;
        // The ownership check and the write are one statement under the row's lock, so of two instances racing on one
        // database exactly one gets the row. On PostgreSQL the row is picked with FOR UPDATE SKIP LOCKED: a contender
        // whose condition holds never waits behind another's open transaction on the row, it just does not get it now
        // (the holder's own heartbeat cannot be skipped: nobody else's condition holds while its lease is live).
        var pick =
            $"""
            (chain_name, signer_address) IN (
                SELECT chain_name, signer_address FROM signer_lease
                WHERE chain_name = @chain AND signer_address = @signer
                  AND (owner_instance IS NULL OR owner_instance = @instance OR lease_expires_at < @now){db.Dialect.SkipLocked()})
            """;
        return await db.InTransactionAsync(async (c, tx) =>
        {
            // Only a missing row is inserted: on PostgreSQL, ON CONFLICT against an existing row waits for any open
            // transaction that has updated it (e.g. the holder's write-ahead), which SKIP LOCKED below is meant to avoid.
            await c.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO signer_lease (chain_name, signer_address)
                SELECT @chain, @signer WHERE NOT EXISTS (SELECT 1 FROM signer_lease WHERE chain_name = @chain AND signer_address = @signer)
                ON CONFLICT (chain_name, signer_address) DO NOTHING
                """,
                new { chain, signer }, tx, cancellationToken: ct)).ConfigureAwait(false);
            var row = await c.QuerySingleOrDefaultAsync<LeaseRow>(new CommandDefinition(
                $"""
                UPDATE signer_lease SET owner_instance = @instance, lease_expires_at = @expires, heartbeat_at = @now,
                    lease_epoch = CASE WHEN owner_instance = @instance THEN lease_epoch ELSE lease_epoch + 1 END
                WHERE {pick}
                RETURNING next_nonce AS NextNonce, paused_reason AS PausedReason, lease_epoch AS Epoch
                """,
                new { chain, signer, instance, expires = Time.ToWire(expires), now = nowText }, tx, cancellationToken: ct)).ConfigureAwait(false);
            return row is null ? null : new SignerLease(chain, signer, instance, expires, row.NextNonce, row.PausedReason, row.Epoch);
        }, ct).ConfigureAwait(false);
    }

    public async Task ReleaseLeaseAsync(string chain, string signer, string instance, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition(
            "UPDATE signer_lease SET owner_instance = NULL, lease_expires_at = NULL WHERE chain_name = @chain AND signer_address = @signer AND owner_instance = @instance",
            new { chain, signer, instance }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<bool> SetNextNonceAsync(string chain, string signer, string instance, long nextNonce, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var n = await c.ExecuteAsync(new CommandDefinition(
            "UPDATE signer_lease SET next_nonce = @nextNonce WHERE chain_name = @chain AND signer_address = @signer AND owner_instance = @instance",
            new { chain, signer, instance, nextNonce }, cancellationToken: ct)).ConfigureAwait(false);
        return n == 1;
    }

    /// <summary>
    /// Each collection of the chain with its oldest queued request: one seek in the queue index per collection. Grouping the
    /// queued requests themselves walked the whole backlog on every plan (56 ms at 180,000 queued requests on SQLite, against
    /// 0.08 ms this way).
    /// </summary>
    public async Task<IReadOnlyList<long>> ListQueuedCollectionsAsync(string chain, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<long>(new CommandDefinition(
            """
            SELECT id FROM (
                SELECT k.id, (SELECT MIN(r.id) FROM mint_request r WHERE r.status = 'pending' AND r.batch_id IS NULL AND r.collection_id = k.id) AS oldest
                FROM collection k WHERE k.chain_name = @chain) AS q
            WHERE oldest IS NOT NULL ORDER BY oldest
            """,
            new { chain }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.ToList();
    }

    /// <summary>
    /// Read whenever the sender plans, up to the plan window per collection: six columns through the reader's typed getters
    /// (Dapper's mapping of the whole row cost ~10 % of the process in the single-asset intake benchmark).
    /// </summary>
    public async Task<IReadOnlyList<QueuedRequest>> ListQueuedAsync(long collectionId, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var command = c.CreateCommand();
        command.CommandText =
            "SELECT id, owner_address, token_id, by_quantity, amount, created_at FROM mint_request " +
            "WHERE status = 'pending' AND batch_id IS NULL AND collection_id = @collectionId ORDER BY id LIMIT @limit";
        AddParameter(command, "@collectionId", collectionId);
        AddParameter(command, "@limit", limit);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var queued = new List<QueuedRequest>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            queued.Add(new QueuedRequest(
                reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetBoolean(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), Time.FromWire(reader.GetString(5))));
        }
        return queued;
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    public async Task<IReadOnlyList<RecordedTx>?> RecordTxsAsync(LeaseFence fence, IReadOnlyList<NewTx> txs, DateTimeOffset now, CancellationToken ct)
    {
        var (chain, signer, instance, epoch) = fence;
        if (txs.Count == 0)
        {
            return [];
        }
        var nowText = Time.ToWire(now);
        var first = txs[0].Nonce;
        for (var i = 0; i < txs.Count; i++)
        {
            if (txs[i].Nonce != first + i)
            {
                throw new ArgumentException("nonces must be consecutive", nameof(txs));
            }
        }
        try
        {
            return await db.InTransactionAsync<IReadOnlyList<RecordedTx>?>(async (c, tx) =>
            {
                var taken = await c.ExecuteAsync(new CommandDefinition(
                    """
                    UPDATE signer_lease SET next_nonce = @next
                    WHERE chain_name = @chain AND signer_address = @signer AND owner_instance = @instance AND lease_epoch = @epoch
                      AND next_nonce = @first AND lease_expires_at > @now
                    """,
                    new { chain, signer, instance, epoch, first, next = first + txs.Count, now = nowText }, tx, cancellationToken: ct)).ConfigureAwait(false);
                if (taken != 1)
                {
                    throw new StoreConflict();
                }
                var result = new List<RecordedTx>(txs.Count);
                foreach (var t in txs)
                {
                    result.Add(await WriteTxAsync(c, tx, chain, signer, t, nowText, ct).ConfigureAwait(false));
                }
                return result;
            }, ct).ConfigureAwait(false);
        }
        catch (StoreConflict)
        {
            return null;
        }
    }

    /// <summary>One tx of <see cref="RecordTxsAsync"/>: its batch, the tx, its first attempt, and the batch's requests linked.</summary>
    private async Task<RecordedTx> WriteTxAsync(DbConnection c, DbTransaction tx, string chain, string signer, NewTx t, string nowText, CancellationToken ct)
    {
        var batch = t.Batch;
        var batchId = await c.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO batch (collection_id, method, entries, calldata, gas_estimate, created_at)
            VALUES (@CollectionId, @method, @entries, @calldata, @EstimatedGas, @now) RETURNING id
            """,
            new { batch.CollectionId, method = batch.Method.ToString(), entries = batch.EntriesJson(), calldata = batch.Calldata(), batch.EstimatedGas, now = nowText },
            tx, cancellationToken: ct)).ConfigureAwait(false);
        var txId = await c.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO tx (chain_name, signer_address, nonce, batch_id, state, created_at, updated_at)
            VALUES (@chain, @signer, @nonce, @batchId, 'pending', @now, @now) RETURNING id
            """,
            new { chain, signer, nonce = t.Nonce, batchId, now = nowText }, tx, cancellationToken: ct)).ConfigureAwait(false);
        var attemptId = await InsertAttemptAsync(c, tx, txId, t.Attempt, nowText, ct).ConfigureAwait(false);
        var ids = batch.RequestIds.ToList();
        var p = new DynamicParameters(new { batchId, now = nowText });
        p.Add("ids", db.Dialect.List(ids));
        var linked = await c.ExecuteAsync(new CommandDefinition(
            $"UPDATE mint_request SET batch_id = @batchId, updated_at = @now WHERE {db.Dialect.In("id", "@ids")} AND {db.Dialect.NoIndex("status")} = 'pending' AND {db.Dialect.NoIndex("batch_id")} IS NULL",
            p, tx, cancellationToken: ct)).ConfigureAwait(false);
        if (linked != ids.Count)
        {
            throw new StoreConflict();
        }
        return new RecordedTx(txId, attemptId);
    }

    private static Task<long> InsertAttemptAsync(DbConnection c, DbTransaction tx, long txId, NewAttempt a, string now, CancellationToken ct) =>
        c.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO tx_attempt (tx_id, kind, raw, hash, max_priority_fee_per_gas, max_fee_per_gas, gas_limit, created_at)
            VALUES (@txId, @Kind, @Raw, @Hash, @tip, @cap, @GasLimit, @now) RETURNING id
            """,
            new { txId, a.Kind, a.Raw, a.Hash, tip = Dec(a.MaxPriorityFeePerGas), cap = Dec(a.MaxFeePerGas), a.GasLimit, now }, tx, cancellationToken: ct));

    public async Task<IReadOnlyList<OpenTx>> ListOpenTxsAsync(string chain, string signer, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var txs = (await c.QueryAsync<TxRow>(new CommandDefinition(
            """
            SELECT t.id AS Id, t.nonce AS Nonce, t.batch_id AS BatchId, b.collection_id AS CollectionId, b.method AS Method, b.entries AS Entries,
                   b.calldata AS Calldata, b.gas_estimate AS GasEstimate, t.state AS State, t.mined_hash AS MinedHash, t.mined_block AS MinedBlock,
                   t.last_error AS LastError, t.created_at AS CreatedAt
            FROM tx t JOIN batch b ON b.id = t.batch_id
            WHERE t.chain_name = @chain AND t.signer_address = @signer AND t.state IN ('pending', 'mined')
            ORDER BY t.nonce
            """,
            new { chain, signer }, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        if (txs.Count == 0)
        {
            return [];
        }
        var attempts = new List<AttemptRow>();
        foreach (var chunk in txs.Select(t => t.Id).Chunk(InChunk))
        {
            attempts.AddRange(await c.QueryAsync<AttemptRow>(new CommandDefinition(
                $"""
                SELECT id AS Id, tx_id AS TxId, kind AS Kind, raw AS Raw, hash AS Hash, max_priority_fee_per_gas AS Tip, max_fee_per_gas AS Cap,
                       gas_limit AS GasLimit, created_at AS CreatedAt, broadcast_at AS BroadcastAt, outcome AS Outcome
                FROM tx_attempt WHERE {db.Dialect.In("tx_id", "@chunk")} ORDER BY id
                """,
                new { chunk = db.Dialect.List(chunk) }, cancellationToken: ct)).ConfigureAwait(false));
        }
        var byTx = attempts.GroupBy(a => a.TxId).ToDictionary(g => g.Key, g => (IReadOnlyList<TxAttemptRecord>)g.Select(a => a.ToModel()).ToList());
        return txs.Select(t => new OpenTx(t.Id, t.Nonce, t.BatchId, t.CollectionId, Enum.Parse<MintMethod>(t.Method), MintBatch.ParseEntries(t.Entries), t.Calldata,
            t.GasEstimate, t.State, t.MinedHash, t.MinedBlock, t.LastError, Time.FromWire(t.CreatedAt), byTx.GetValueOrDefault(t.Id, []))).ToList();
    }

    public async Task<IReadOnlyList<TxAttemptRecord>> ListDoneAttemptsFromNonceAsync(string chain, string signer, long fromNonce, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<AttemptRow>(new CommandDefinition(
            """
            SELECT a.id AS Id, a.tx_id AS TxId, a.kind AS Kind, a.raw AS Raw, a.hash AS Hash, a.max_priority_fee_per_gas AS Tip, a.max_fee_per_gas AS Cap,
                   a.gas_limit AS GasLimit, a.created_at AS CreatedAt, a.broadcast_at AS BroadcastAt, a.outcome AS Outcome
            FROM tx t JOIN tx_attempt a ON a.tx_id = t.id AND a.hash = t.mined_hash
            WHERE t.chain_name = @chain AND t.signer_address = @signer AND t.state = 'done' AND t.nonce >= @fromNonce
            ORDER BY t.nonce
            """,
            new { chain, signer, fromNonce }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => r.ToModel()).ToList();
    }

    public async Task SetTxNoticeAsync(long txId, string? notice, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE mint_request SET error_message = @notice, updated_at = @now
            WHERE batch_id = (SELECT batch_id FROM tx WHERE id = @txId) AND status = 'pending'
              AND (error_message IS NULL OR @notice IS NULL OR error_message <> @notice)
            """,
            new { txId, notice, now = Time.ToWire(now) }, cancellationToken: ct)).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition("UPDATE tx SET last_error = @notice WHERE id = @txId", new { txId, notice }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task SetSignerNoticeAsync(string chain, string signer, string? reason, DateTimeOffset now, CancellationToken ct)
    {
        var nowText = Time.ToWire(now);
        await db.InTransactionAsync(async (c, tx) =>
        {
            // Read under the row's lock on PostgreSQL (SQLite's write transaction already excludes other writers).
            var previous = await c.ExecuteScalarAsync<string?>(new CommandDefinition(
                "SELECT paused_reason FROM signer_lease WHERE chain_name = @chain AND signer_address = @signer" + db.Dialect.ForUpdate,
                new { chain, signer }, tx, cancellationToken: ct)).ConfigureAwait(false);
            await c.ExecuteAsync(new CommandDefinition(
                """
                UPDATE signer_lease SET paused_reason = @reason,
                    paused_since = CASE WHEN @reason IS NULL THEN NULL ELSE COALESCE(paused_since, @now) END
                WHERE chain_name = @chain AND signer_address = @signer
                """,
                new { chain, signer, reason, now = nowText }, tx, cancellationToken: ct)).ConfigureAwait(false);
            if (reason is not null)
            {
                // With several wallets, another live one that is not paused mints the chain's requests: no notice on them.
                await c.ExecuteAsync(new CommandDefinition(
                    """
                    UPDATE mint_request SET error_message = @reason
                    WHERE status = 'pending' AND (error_message IS NULL OR error_message <> @reason)
                      AND collection_id IN (SELECT id FROM collection WHERE chain_name = @chain)
                      AND NOT EXISTS (SELECT 1 FROM signer_lease o WHERE o.chain_name = @chain AND o.signer_address <> @signer
                          AND o.paused_reason IS NULL AND o.owner_instance IS NOT NULL AND o.lease_expires_at > @now)
                    """,
                    new { chain, signer, reason, now = nowText }, tx, cancellationToken: ct)).ConfigureAwait(false);
            }
            if (previous is not null && previous != reason)
            {
                await c.ExecuteAsync(new CommandDefinition(
                    """
                    UPDATE mint_request SET error_message = NULL
                    WHERE status = 'pending' AND error_message = @previous AND collection_id IN (SELECT id FROM collection WHERE chain_name = @chain)
                    """,
                    new { chain, previous }, tx, cancellationToken: ct)).ConfigureAwait(false);
            }
        }, ct).ConfigureAwait(false);
    }

    private static string Dec(BigInteger v) => v.ToString(CultureInfo.InvariantCulture);

    private sealed class StoreConflict : Exception;

    private sealed class LeaseRow
    {
        public long? NextNonce { get; set; }
        public string? PausedReason { get; set; }
        public long Epoch { get; set; }
    }

    private sealed class TxRow
    {
        public long Id { get; set; }
        public long Nonce { get; set; }
        public long BatchId { get; set; }
        public long CollectionId { get; set; }
        public string Method { get; set; } = "";
        public string Entries { get; set; } = "[]";
        public byte[] Calldata { get; set; } = [];
        public long GasEstimate { get; set; }
        public string State { get; set; } = "";
        public string? MinedHash { get; set; }
        public long? MinedBlock { get; set; }
        public string? LastError { get; set; }
        public string CreatedAt { get; set; } = "";
    }

    private sealed class AttemptRow
    {
        public long Id { get; set; }
        public long TxId { get; set; }
        public string Kind { get; set; } = "";
        public byte[] Raw { get; set; } = [];
        public string Hash { get; set; } = "";
        public string Tip { get; set; } = "0";
        public string Cap { get; set; } = "0";
        public long GasLimit { get; set; }
        public string CreatedAt { get; set; } = "";
        public string? BroadcastAt { get; set; }
        public string? Outcome { get; set; }

        public TxAttemptRecord ToModel() => new(Id, TxId, Kind, Raw, Hash, BigInteger.Parse(Tip, CultureInfo.InvariantCulture), BigInteger.Parse(Cap, CultureInfo.InvariantCulture),
            GasLimit, Time.FromWire(CreatedAt), BroadcastAt is null ? null : Time.FromWire(BroadcastAt), Outcome);
    }

}
