using Dapper;
using OpenMint.Core;

namespace OpenMint.Storage.Dashboard;

/// <summary>A project's mint requests that moved since a given instant (the overview's "last hour").</summary>
public sealed class ProjectActivity
{
    public string ProjectId { get; set; } = "";
    public string Name { get; set; } = "";
    public long Accepted { get; set; }
    public long Succeeded { get; set; }
    public long Failed { get; set; }
}

/// <summary>One mint request as the dashboard lists it, with its collection's chain and address.</summary>
public sealed class MintRequestSummary
{
    public long Id { get; set; }
    public string ProjectId { get; set; } = "";
    public long CollectionId { get; set; }
    public string ChainName { get; set; } = "";
    public string CollectionAddress { get; set; } = "";
    public string ReferenceId { get; set; } = "";
    public string OwnerAddress { get; set; } = "";
    public string? TokenId { get; set; }
    public string? Amount { get; set; }
    public string? Metadata { get; set; }
    public string Status { get; set; } = "";
    public string? ErrorMessage { get; set; }
    public string? TransactionHash { get; set; }
    public long? BatchId { get; set; }
    public string CreatedAt { get; set; } = "";
    public string UpdatedAt { get; set; } = "";
}

/// <summary>Filters of the mint requests page; null means any.</summary>
public sealed record MintRequestFilter(string? ProjectId, long? CollectionId, string? Status, string? ReferenceId, int Limit = 50);

/// <summary>A stored event of a mint request (creation events carry no payload: it is rebuilt from the row when read).</summary>
public sealed class MintEventSummary
{
    public long Seq { get; set; }
    public string EventId { get; set; } = "";
    public string Status { get; set; } = "";
    public string CreatedAt { get; set; } = "";
}

/// <summary>A transaction (one nonce of one signer) with its batch's collection.</summary>
public sealed class TxSummary
{
    public long Id { get; set; }
    public string ChainName { get; set; } = "";
    public string SignerAddress { get; set; } = "";
    public long Nonce { get; set; }
    public long BatchId { get; set; }
    public string Method { get; set; } = "";
    public string CollectionAddress { get; set; } = "";
    public string State { get; set; } = "";
    public string? MinedHash { get; set; }
    public long? MinedBlock { get; set; }
    public string? LastError { get; set; }
    public long Attempts { get; set; }
    public long Requests { get; set; }
    public string CreatedAt { get; set; } = "";
    public string UpdatedAt { get; set; } = "";
}

/// <summary>One signed attempt of a transaction: a first send, a fee bump or a cancel.</summary>
public sealed class TxAttemptSummary
{
    public long Id { get; set; }
    public long TxId { get; set; }
    public string Kind { get; set; } = "";
    public string Hash { get; set; } = "";
    public string MaxPriorityFeePerGas { get; set; } = "";
    public string MaxFeePerGas { get; set; } = "";
    public long GasLimit { get; set; }
    public string CreatedAt { get; set; } = "";
    public string? BroadcastAt { get; set; }
    public string? Outcome { get; set; }
}

/// <summary>A mint request with everything the detail page shows.</summary>
public sealed record MintRequestDetail(MintRequestSummary Request, IReadOnlyList<MintEventSummary> Events, IReadOnlyList<TxSummary> Txs, IReadOnlyList<TxAttemptSummary> Attempts);

/// <summary>A metadata refresh and its counts.</summary>
public sealed class RefreshSummary
{
    public long Seq { get; set; }
    public string RefreshId { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string CollectionAddress { get; set; } = "";
    public long TokenCount { get; set; }
    public long Succeeded { get; set; }
    public long Failed { get; set; }
    public string StartState { get; set; } = "";
    public string? BaseUri { get; set; }
    public string CreatedAt { get; set; } = "";
    public string? CompletedAt { get; set; }
}

/// <summary>A token of a refresh that could not be fetched.</summary>
public sealed class RefreshFailure
{
    public string TokenId { get; set; } = "";
    public string? Url { get; set; }
    public long? ResponseStatusCode { get; set; }
    public string? ErrorCode { get; set; }
    public string? FinishedAt { get; set; }
}

/// <summary>
/// The dashboard's reads that no area store has: across projects, newest first, capped. Plain SQL shared by both
/// dialects; instants are the store's sortable text (<see cref="Time"/>).
/// </summary>
public sealed class DashboardQueries(Database db)
{
    private const string RequestColumns =
        "r.id AS Id, r.project_id AS ProjectId, r.collection_id AS CollectionId, col.chain_name AS ChainName, col.address AS CollectionAddress, "
        + "r.reference_id AS ReferenceId, r.owner_address AS OwnerAddress, r.token_id AS TokenId, r.amount AS Amount, r.metadata AS Metadata, "
        + "r.status AS Status, r.error_message AS ErrorMessage, r.transaction_hash AS TransactionHash, r.batch_id AS BatchId, "
        + "r.created_at AS CreatedAt, r.updated_at AS UpdatedAt";

    private const string TxColumns =
        "t.id AS Id, t.chain_name AS ChainName, t.signer_address AS SignerAddress, t.nonce AS Nonce, t.batch_id AS BatchId, b.method AS Method, "
        + "col.address AS CollectionAddress, t.state AS State, t.mined_hash AS MinedHash, t.mined_block AS MinedBlock, t.last_error AS LastError, "
        + "(SELECT COUNT(*) FROM tx_attempt a WHERE a.tx_id = t.id) AS Attempts, "
        // The three statuses let the count seek mint_request_queue (status, batch_id, ...) three times instead of scanning it per tx.
        + "(SELECT COUNT(*) FROM mint_request m WHERE m.status IN ('pending', 'succeeded', 'failed') AND m.batch_id = t.batch_id) AS Requests, "
        + "t.created_at AS CreatedAt, t.updated_at AS UpdatedAt";

    private const string TxFrom = "FROM tx t JOIN batch b ON b.id = t.batch_id JOIN collection col ON col.id = b.collection_id";

    /// <summary>Every project with its requests accepted, succeeded and failed since <paramref name="since"/>.</summary>
    public async Task<IReadOnlyList<ProjectActivity>> ProjectActivityAsync(DateTimeOffset since, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<ProjectActivity>(new CommandDefinition(
            """
            SELECT p.id AS ProjectId, p.name AS Name,
                COALESCE(SUM(CASE WHEN r.created_at >= @since THEN 1 ELSE 0 END), 0) AS Accepted,
                COALESCE(SUM(CASE WHEN r.status = 'succeeded' THEN 1 ELSE 0 END), 0) AS Succeeded,
                COALESCE(SUM(CASE WHEN r.status = 'failed' THEN 1 ELSE 0 END), 0) AS Failed
            FROM project p LEFT JOIN mint_request r ON r.project_id = p.id AND r.updated_at >= @since
            GROUP BY p.id, p.name, p.created_at ORDER BY p.created_at, p.id
            """, new { since = Time.ToWire(since) }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.ToList();
    }

    /// <summary>The newest requests matching <paramref name="filter"/>; the reference id matches exactly.</summary>
    public async Task<IReadOnlyList<MintRequestSummary>> ListMintRequestsAsync(MintRequestFilter filter, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<MintRequestSummary>(new CommandDefinition(
            $"""
            SELECT {RequestColumns} FROM mint_request r JOIN collection col ON col.id = r.collection_id
            WHERE (@projectId IS NULL OR r.project_id = @projectId) AND (@collectionId IS NULL OR r.collection_id = @collectionId)
              AND (@status IS NULL OR r.status = @status) AND (@referenceId IS NULL OR r.reference_id = @referenceId)
            ORDER BY r.id DESC LIMIT @limit
            """,
            new { projectId = filter.ProjectId, collectionId = filter.CollectionId, status = filter.Status, referenceId = filter.ReferenceId, limit = filter.Limit },
            cancellationToken: ct)).ConfigureAwait(false);
        return rows.ToList();
    }

    /// <summary>A request with its events, the transactions that carried it and every signed attempt; null when unknown.</summary>
    public async Task<MintRequestDetail?> GetMintRequestAsync(long id, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var request = await c.QuerySingleOrDefaultAsync<MintRequestSummary>(new CommandDefinition(
            $"SELECT {RequestColumns} FROM mint_request r JOIN collection col ON col.id = r.collection_id WHERE r.id = @id", new { id }, cancellationToken: ct)).ConfigureAwait(false);
        if (request is null)
        {
            return null;
        }
        var events = await c.QueryAsync<MintEventSummary>(new CommandDefinition(
            EventsOfRequestSql, new { id }, cancellationToken: ct)).ConfigureAwait(false);
        var txs = (await c.QueryAsync<TxSummary>(new CommandDefinition(
            TxsOfRequestSql, new { batchId = request.BatchId, hash = request.TransactionHash }, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var attempts = await c.QueryAsync<TxAttemptSummary>(new CommandDefinition(
            $"""
            SELECT id AS Id, tx_id AS TxId, kind AS Kind, hash AS Hash, max_priority_fee_per_gas AS MaxPriorityFeePerGas, max_fee_per_gas AS MaxFeePerGas,
                gas_limit AS GasLimit, created_at AS CreatedAt, broadcast_at AS BroadcastAt, outcome AS Outcome
            FROM tx_attempt WHERE {db.Dialect.In("tx_id", "@ids")} ORDER BY id
            """, new { ids = db.Dialect.List(txs.Select(t => t.Id)) }, cancellationToken: ct)).ConfigureAwait(false);
        return new MintRequestDetail(request, events.ToList(), txs, attempts.ToList());
    }

    /// <summary>The txs that carried a request: its batch's (index tx_batch), and the one whose attempt has its hash.</summary>
    internal const string TxsOfRequestSql =
        $"SELECT {TxColumns} {TxFrom} WHERE t.batch_id = @batchId OR t.id IN (SELECT a.tx_id FROM tx_attempt a WHERE a.hash = @hash) ORDER BY t.id";

    /// <summary>A request's events (index mint_event_request).</summary>
    internal const string EventsOfRequestSql =
        "SELECT seq AS Seq, event_id AS EventId, status AS Status, created_at AS CreatedAt FROM mint_event WHERE mint_request_id = @id ORDER BY seq";

    /// <summary>The newest transactions, optionally of one chain and state.</summary>
    public async Task<IReadOnlyList<TxSummary>> ListTransactionsAsync(string? chain, string? state, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<TxSummary>(new CommandDefinition(
            $"""
            SELECT {TxColumns} {TxFrom}
            WHERE (@chain IS NULL OR t.chain_name = @chain) AND (@state IS NULL OR t.state = @state)
            ORDER BY t.id DESC LIMIT @limit
            """, new { chain, state, limit }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.ToList();
    }

    /// <summary>The highest block a transaction of <paramref name="chain"/> was mined in, as the store last saw it.</summary>
    public async Task<long?> LastMinedBlockAsync(string chain, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        return await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT MAX(mined_block) FROM tx WHERE chain_name = @chain", new { chain }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<RefreshSummary>> ListRefreshesAsync(int limit, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<RefreshSummary>(new CommandDefinition(
            """
            SELECT seq AS Seq, refresh_id AS RefreshId, project_id AS ProjectId, collection_address AS CollectionAddress, token_count AS TokenCount,
                succeeded AS Succeeded, failed AS Failed, start_state AS StartState, base_uri AS BaseUri, created_at AS CreatedAt, completed_at AS CompletedAt
            FROM metadata_refresh ORDER BY seq DESC LIMIT @limit
            """, new { limit }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.ToList();
    }

    /// <summary>The failed tokens of the refresh <paramref name="refreshId"/>, in token order.</summary>
    public async Task<IReadOnlyList<RefreshFailure>> ListRefreshFailuresAsync(string refreshId, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<RefreshFailure>(new CommandDefinition(
            """
            SELECT t.token_id AS TokenId, t.url AS Url, t.response_status_code AS ResponseStatusCode, t.error_code AS ErrorCode, t.finished_at AS FinishedAt
            FROM metadata_refresh_token t JOIN metadata_refresh m ON m.seq = t.refresh_seq
            WHERE m.refresh_id = @refreshId AND t.state = 'failed' ORDER BY t.id LIMIT @limit
            """, new { refreshId, limit }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.ToList();
    }
}
