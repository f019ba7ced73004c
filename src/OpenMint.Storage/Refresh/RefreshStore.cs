using System.Data.Common;
using Dapper;
using OpenMint.Core;
using OpenMint.Core.Refresh;
using OpenMint.Core.Tenancy;

namespace OpenMint.Storage.Refresh;

/// <summary>Metadata refreshes (IRefreshStore): the API side (create, read) and the worker side (claim, complete).</summary>
internal sealed partial class RefreshStore(Database db) : IRefreshStore
{
    private const string RefreshColumns =
        """
        r.seq AS Seq, r.refresh_id AS RefreshId, r.project_id AS ProjectId, p.owner_address AS OwnerAddress,
        r.collection_id AS CollectionId, r.collection_address AS CollectionAddress, r.token_count AS TokenCount,
        r.succeeded AS Succeeded, r.failed AS Failed, r.created_at AS CreatedAt, r.started_at AS StartedAt, r.completed_at AS CompletedAt
        """;

    public async Task<IReadOnlyList<RefreshCollection>> FindCollectionsByAddressAsync(string address, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = await c.QueryAsync<RefreshCollectionRow>(new CommandDefinition(
            """
            SELECT c.id AS CollectionId, c.chain_name AS ChainName, c.address AS Address, c.project_id AS ProjectId,
                   p.owner_address AS OwnerAddress, c.kind AS Kind, c.base_uri_override AS BaseUriOverride
            FROM collection c JOIN project p ON p.id = c.project_id
            WHERE c.address = @address ORDER BY c.id
            """,
            new { address = address.ToLowerInvariant() }, cancellationToken: ct)).ConfigureAwait(false);
        return rows.Select(r => r.ToModel()).ToList();
    }

    public async Task<RefreshJob> CreateRefreshAsync(NewRefresh refresh, CancellationToken ct)
    {
        var created = Time.ToWire(refresh.CreatedAt);
        var seq = await db.InTransactionAsync(async (c, tx) =>
        {
            var seq = await c.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                INSERT INTO metadata_refresh (refresh_id, project_id, collection_id, collection_address, token_count, succeeded, failed, start_state, created_at)
                VALUES (@refreshId, @ProjectId, @CollectionId, @Address, @count, 0, 0, 'waiting', @created)
                RETURNING seq
                """,
                new { refreshId = refresh.RefreshId.ToString("D"), refresh.Collection.ProjectId, refresh.Collection.CollectionId, refresh.Collection.Address, count = refresh.TokenIds.Count, created },
                tx, cancellationToken: ct)).ConfigureAwait(false);
            // One prepared statement executed per id: no per-row SQL parsing, the write lock is held briefly.
            await using var insert = ReusedCommand.Create(c, tx, "INSERT INTO metadata_refresh_token (refresh_seq, token_id, state) VALUES (@seq, @tokenId, 'pending')", "seq", "tokenId");
            insert.Parameters[0].Value = seq;
            foreach (var tokenId in refresh.TokenIds)
            {
                insert.Parameters[1].Value = tokenId;
                await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            return seq;
        }, ct).ConfigureAwait(false);
        return new RefreshJob(seq, refresh.RefreshId, refresh.Collection.ProjectId, refresh.Collection.OwnerAddress, refresh.Collection.CollectionId,
            refresh.Collection.Address, refresh.TokenIds.Count, 0, 0, Time.FromWire(created), null, null);
    }

    public async Task<RefreshJob?> GetRefreshAsync(Guid refreshId, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var row = await c.QuerySingleOrDefaultAsync<RefreshRow>(new CommandDefinition(
            $"SELECT {RefreshColumns} FROM metadata_refresh r JOIN project p ON p.id = r.project_id WHERE r.refresh_id = @id",
            new { id = refreshId.ToString("D") }, cancellationToken: ct)).ConfigureAwait(false);
        return row?.ToModel();
    }

    public async Task<RefreshPage<RefreshJob>> ListRefreshesAsync(string ownerAddress, string? collectionAddress, long? beforeSeq, int pageSize, CancellationToken ct)
    {
        // Filters are added as text rather than "@x IS NULL OR ..." so PostgreSQL never sees an untyped null.
        var sql = $"SELECT {RefreshColumns} FROM metadata_refresh r JOIN project p ON p.id = r.project_id WHERE p.owner_address = @owner"
            + (collectionAddress is null ? "" : " AND r.collection_address = @collectionAddress")
            + (beforeSeq is null ? "" : " AND r.seq < @beforeSeq")
            + " ORDER BY r.seq DESC LIMIT @limit";
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = (await c.QueryAsync<RefreshRow>(new CommandDefinition(sql,
            new { owner = ownerAddress.ToLowerInvariant(), collectionAddress = collectionAddress?.ToLowerInvariant(), beforeSeq, limit = pageSize + 1 },
            cancellationToken: ct)).ConfigureAwait(false)).ToList();
        return new RefreshPage<RefreshJob>(rows.Take(pageSize).Select(r => r.ToModel()).ToList(), rows.Count > pageSize);
    }

    public async Task<RefreshPage<RefreshErrorItem>> ListRefreshErrorsAsync(long refreshSeq, long? afterId, int pageSize, CancellationToken ct)
    {
        var sql =
            """
            SELECT t.id AS Id, t.token_id AS TokenId, r.collection_address AS CollectionAddress, t.url AS Url,
                   t.response_status_code AS StatusCode, t.response_body AS Body, t.error_code AS ErrorCode, t.finished_at AS FinishedAt
            FROM metadata_refresh_token t JOIN metadata_refresh r ON r.seq = t.refresh_seq
            WHERE t.refresh_seq = @refreshSeq AND t.state = 'failed'
            """
            + (afterId is null ? "" : " AND t.id > @afterId")
            + " ORDER BY t.id LIMIT @limit";
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var rows = (await c.QueryAsync<ErrorRow>(new CommandDefinition(sql, new { refreshSeq, afterId, limit = pageSize + 1 }, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        return new RefreshPage<RefreshErrorItem>(rows.Take(pageSize).Select(r => r.ToModel()).ToList(), rows.Count > pageSize);
    }

    public async Task<RefreshToStart?> ClaimRefreshToStartAsync(string owner, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        var pick = "SELECT seq FROM metadata_refresh WHERE start_state = 'waiting' AND (start_lease_until IS NULL OR start_lease_until < @now) ORDER BY seq LIMIT 1"
            + db.Dialect.SkipLocked();
        await using (var read = await db.OpenConnectionAsync(ct).ConfigureAwait(false))
        {
            // A plain read first: the common answer is "nothing to start", and it should not take the write lock.
            var any = await read.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT seq FROM metadata_refresh WHERE start_state = 'waiting' AND (start_lease_until IS NULL OR start_lease_until < @now) LIMIT 1",
                new { now = Time.ToWire(now) }, cancellationToken: ct)).ConfigureAwait(false);
            if (any is null)
            {
                return null;
            }
        }
        return await db.InTransactionAsync(async (c, tx) =>
        {
            var seq = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
                $"UPDATE metadata_refresh SET start_owner = @owner, start_lease_until = @until WHERE seq = ({pick}) RETURNING seq",
                new { owner, now = Time.ToWire(now), until = Time.ToWire(now + lease) }, tx, cancellationToken: ct)).ConfigureAwait(false);
            if (seq is null)
            {
                return null;
            }
            var row = await c.QuerySingleAsync<StartRow>(new CommandDefinition(
                """
                SELECT r.seq AS Seq, r.refresh_id AS RefreshId, r.collection_id AS CollectionId, c.chain_name AS ChainName,
                       r.collection_address AS CollectionAddress, c.kind AS Kind, c.base_uri_override AS BaseUriOverride,
                       (SELECT t.token_id FROM metadata_refresh_token t WHERE t.refresh_seq = r.seq ORDER BY t.id LIMIT 1) AS FirstTokenId
                FROM metadata_refresh r JOIN collection c ON c.id = r.collection_id
                WHERE r.seq = @seq
                """,
                new { seq }, tx, cancellationToken: ct)).ConfigureAwait(false);
            return row.ToModel();
        }, ct).ConfigureAwait(false);
    }

    public async Task MarkRefreshStartedAsync(long seq, string owner, string baseUri, DateTimeOffset now, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE metadata_refresh SET start_state = 'started', base_uri = @baseUri, started_at = @now, start_owner = NULL, start_lease_until = NULL
            WHERE seq = @seq AND start_state = 'waiting' AND start_owner = @owner
            """,
            new { seq, owner, baseUri, now = Time.ToWire(now) }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public async Task FailRefreshAtStartAsync(long seq, string owner, string errorCode, string url, string? body, DateTimeOffset now, CancellationToken ct)
    {
        var at = Time.ToWire(now);
        await db.InTransactionAsync(async (c, tx) =>
        {
            var started = await c.ExecuteAsync(new CommandDefinition(
                """
                UPDATE metadata_refresh SET start_state = 'started', started_at = @at, start_owner = NULL, start_lease_until = NULL
                WHERE seq = @seq AND start_state = 'waiting' AND start_owner = @owner
                """,
                new { seq, owner, at }, tx, cancellationToken: ct)).ConfigureAwait(false);
            if (started == 0)
            {
                return;
            }
            var failed = await c.ExecuteAsync(new CommandDefinition(
                """
                UPDATE metadata_refresh_token SET state = 'failed', url = @url, response_body = @body, error_code = @errorCode,
                    finished_at = @at, lease_owner = NULL, lease_until = NULL
                WHERE refresh_seq = @seq AND state IN ('pending', 'claimed')
                """,
                new { seq, url, body, errorCode, at }, tx, cancellationToken: ct)).ConfigureAwait(false);
            await AddCountsAsync(c, tx, seq, 0, failed, at, ct).ConfigureAwait(false);
            await Events.RefreshEventLog.AppendIfCompletedAsync(c, tx, seq, ct).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
    }

    public async Task CompleteTokensAsync(string owner, IReadOnlyList<TokenOutcome> outcomes, DateTimeOffset now, CancellationToken ct)
    {
        if (outcomes.Count == 0)
        {
            return;
        }
        var at = Time.ToWire(now);
        await db.InTransactionAsync(async (c, tx) =>
        {
            var counts = new Dictionary<long, (int Succeeded, int Failed)>();
            // Two prepared statements reused for the whole batch: no per-row SQL parsing.
            await using var finish = ReusedCommand.Create(c, tx,
                """
                UPDATE metadata_refresh_token SET state = @state, lease_owner = NULL, lease_until = NULL, url = @url,
                    response_status_code = @status, response_body = @body, error_code = @code, finished_at = @at
                WHERE id = @id AND state = 'claimed' AND lease_owner = @owner
                """, "state", "url", "status", "body", "code", "at", "id", "owner");
            await using var store = ReusedCommand.Create(c, tx,
                "UPDATE token SET metadata = @metadata, metadata_synced_at = @at, updated_at = @at WHERE collection_id = @collection AND token_id = @token",
                "metadata", "at", "collection", "token");
            finish.Parameters["at"].Value = at;
            finish.Parameters["owner"].Value = owner;
            store.Parameters["at"].Value = at;
            foreach (var o in outcomes)
            {
                finish.Parameters["state"].Value = o.Succeeded ? "succeeded" : "failed";
                finish.Parameters["url"].Value = o.Url;
                finish.Parameters["status"].Value = (object?)o.StatusCode ?? DBNull.Value;
                finish.Parameters["body"].Value = (object?)o.Body ?? DBNull.Value;
                finish.Parameters["code"].Value = (object?)o.ErrorCode ?? DBNull.Value;
                finish.Parameters["id"].Value = o.Id;
                if (await finish.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0)
                {
                    continue; // the lease expired and another instance took the token over
                }
                if (o.Succeeded)
                {
                    store.Parameters["metadata"].Value = o.Metadata;
                    store.Parameters["collection"].Value = o.CollectionId;
                    store.Parameters["token"].Value = o.TokenId;
                    await store.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
                counts.TryGetValue(o.RefreshSeq, out var n);
                counts[o.RefreshSeq] = o.Succeeded ? (n.Succeeded + 1, n.Failed) : (n.Succeeded, n.Failed + 1);
            }
            foreach (var (seq, n) in counts)
            {
                await AddCountsAsync(c, tx, seq, n.Succeeded, n.Failed, at, ct).ConfigureAwait(false);
                await Events.RefreshEventLog.AppendIfCompletedAsync(c, tx, seq, ct).ConfigureAwait(false);
            }
        }, ct).ConfigureAwait(false);
    }

    public async Task ReleaseClaimsAsync(string owner, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition(
            "UPDATE metadata_refresh_token SET state = 'pending', lease_owner = NULL, lease_until = NULL WHERE state = 'claimed' AND lease_owner = @owner",
            new { owner }, cancellationToken: ct)).ConfigureAwait(false);
        await c.ExecuteAsync(new CommandDefinition(
            "UPDATE metadata_refresh SET start_owner = NULL, start_lease_until = NULL WHERE start_state = 'waiting' AND start_owner = @owner",
            new { owner }, cancellationToken: ct)).ConfigureAwait(false);
    }

    private static Task AddCountsAsync(DbConnection c, DbTransaction tx, long seq, int succeeded, int failed, string at, CancellationToken ct) =>
        c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE metadata_refresh SET succeeded = succeeded + @succeeded, failed = failed + @failed,
                completed_at = CASE WHEN succeeded + failed + @succeeded + @failed >= token_count THEN @at ELSE completed_at END
            WHERE seq = @seq
            """,
            new { seq, succeeded, failed, at }, tx, cancellationToken: ct));

    private static CollectionKind ParseKind(string kind) => kind == "erc1155" ? CollectionKind.Erc1155 : CollectionKind.Erc721;

    private sealed class RefreshCollectionRow
    {
        public long CollectionId { get; set; }
        public string ChainName { get; set; } = "";
        public string Address { get; set; } = "";
        public string ProjectId { get; set; } = "";
        public string OwnerAddress { get; set; } = "";
        public string Kind { get; set; } = "";
        public string? BaseUriOverride { get; set; }

        public RefreshCollection ToModel() => new(CollectionId, ChainName, Address, ProjectId, OwnerAddress.ToLowerInvariant(), ParseKind(Kind), BaseUriOverride);
    }

    private sealed class RefreshRow
    {
        public long Seq { get; set; }
        public string RefreshId { get; set; } = "";
        public string ProjectId { get; set; } = "";
        public string OwnerAddress { get; set; } = "";
        public long CollectionId { get; set; }
        public string CollectionAddress { get; set; } = "";
        public long TokenCount { get; set; }
        public long Succeeded { get; set; }
        public long Failed { get; set; }
        public string CreatedAt { get; set; } = "";
        public string? StartedAt { get; set; }
        public string? CompletedAt { get; set; }

        public RefreshJob ToModel() => new(Seq, Guid.Parse(RefreshId), ProjectId, OwnerAddress.ToLowerInvariant(), CollectionId, CollectionAddress,
            (int)TokenCount, (int)Succeeded, (int)Failed, Time.FromWire(CreatedAt),
            StartedAt is null ? null : Time.FromWire(StartedAt), CompletedAt is null ? null : Time.FromWire(CompletedAt));
    }

    private sealed class ErrorRow
    {
        public long Id { get; set; }
        public string TokenId { get; set; } = "";
        public string CollectionAddress { get; set; } = "";
        public string? Url { get; set; }
        public long? StatusCode { get; set; }
        public string? Body { get; set; }
        public string? ErrorCode { get; set; }
        public string? FinishedAt { get; set; }

        public RefreshErrorItem ToModel() => new(Id, TokenId, CollectionAddress, Url ?? "", StatusCode is null ? null : (int)StatusCode, Body,
            ErrorCode ?? RefreshErrorCodes.UnableToRetrieveMetadata, FinishedAt is null ? DateTimeOffset.UnixEpoch : Time.FromWire(FinishedAt));
    }

    private sealed class StartRow
    {
        public long Seq { get; set; }
        public string RefreshId { get; set; } = "";
        public long CollectionId { get; set; }
        public string ChainName { get; set; } = "";
        public string CollectionAddress { get; set; } = "";
        public string Kind { get; set; } = "";
        public string? BaseUriOverride { get; set; }
        public string FirstTokenId { get; set; } = "0";

        public RefreshToStart ToModel() => new(Seq, Guid.Parse(RefreshId), CollectionId, ChainName, CollectionAddress, ParseKind(Kind), BaseUriOverride, FirstTokenId);
    }
}
